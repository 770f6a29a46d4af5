package imdb

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
)

// The parts of IMDb's __NEXT_DATA__ (props.pageProps) a title page needs. Numbers are
// float64 and every object a pointer so that null, absent and oddly typed values all
// leave a field empty: encoding/json skips a value of the wrong type and goes on.
type (
	ndText struct {
		Text string `json:"text"`
	}
	ndName struct {
		NameText *ndText `json:"nameText"`
	}
	ndCredit struct {
		Name *ndName `json:"name"`
	}
	ndCategory struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	}
	ndCreditGroup struct {
		Category *ndCategory `json:"category"`
		Credits  []ndCredit  `json:"credits"`
	}
	ndCast struct {
		Edges []struct {
			Node *ndCredit `json:"node"`
		} `json:"edges"`
	}
	ndTitle struct {
		ID                string  `json:"id"`
		TitleText         *ndText `json:"titleText"`
		OriginalTitleText *ndText `json:"originalTitleText"`
		TitleType         *struct {
			ID              string `json:"id"`
			Text            string `json:"text"`
			IsSeries        bool   `json:"isSeries"`
			CanHaveEpisodes bool   `json:"canHaveEpisodes"`
		} `json:"titleType"`
		ReleaseYear *struct {
			Year *float64 `json:"year"`
		} `json:"releaseYear"`
		ReleaseDate *struct {
			Year *float64 `json:"year"`
		} `json:"releaseDate"`
		RatingsSummary *struct {
			AggregateRating *float64 `json:"aggregateRating"`
			VoteCount       *float64 `json:"voteCount"`
		} `json:"ratingsSummary"`
		Genres *struct {
			Genres []ndText `json:"genres"`
		} `json:"genres"`
		Plot *struct {
			PlotText *struct {
				PlainText string `json:"plainText"`
			} `json:"plotText"`
		} `json:"plot"`
		Runtime *struct {
			Seconds *float64 `json:"seconds"`
		} `json:"runtime"`
		Certificate *struct {
			Rating string `json:"rating"`
		} `json:"certificate"`
		PrincipalCredits []ndCreditGroup `json:"principalCredits"`
		// mainColumnData only.
		Directors []ndCreditGroup `json:"directors"`
		Creators  []ndCreditGroup `json:"creators"`
		Cast      *ndCast         `json:"cast"`
	}
	ndPage struct {
		Props struct {
			PageProps struct {
				Tconst           string   `json:"tconst"`
				AboveTheFoldData *ndTitle `json:"aboveTheFoldData"`
				MainColumnData   *ndTitle `json:"mainColumnData"`
			} `json:"pageProps"`
		} `json:"props"`
	}
)

// decodeNext decodes a JSON blob into v, keeping what could be read when some values
// have unexpected types; ok is false only when the blob is not JSON at all.
func decodeNext(body []byte, v any) bool {
	err := json.Unmarshal(body, v)
	var typeErr *json.UnmarshalTypeError
	return err == nil || errors.As(err, &typeErr)
}

// creditCategory normalises a principal-credit category to director, creator, cast or "".
func creditCategory(c *ndCategory) string {
	if c == nil {
		return ""
	}
	for _, s := range []string{c.ID, c.Text} {
		switch s = strings.ToLower(strings.TrimSpace(s)); s {
		case "director", "directors":
			return "director"
		case "creator", "creators":
			return "creator"
		case "cast", "star", "stars", "actor", "actors", "actress":
			return "cast"
		}
	}
	return ""
}

// groupNames lists the names credited in the groups of a category ("" for all groups).
func groupNames(groups []ndCreditGroup, category string) []string {
	var out []string
	for _, g := range groups {
		if category != "" && creditCategory(g.Category) != category {
			continue
		}
		for _, c := range g.Credits {
			if c.Name != nil && c.Name.NameText != nil {
				out = append(out, c.Name.NameText.Text)
			}
		}
	}
	return out
}

// fromNextData reads props.pageProps.aboveTheFoldData, falling back to mainColumnData.
func fromNextData(body []byte, present bool) partial {
	var p partial
	if !present {
		return p
	}
	var nd ndPage
	if !decodeNext(body, &nd) {
		p.problem = "__NEXT_DATA__ is not valid JSON, the page may be truncated"
		return p
	}
	pp := nd.Props.PageProps
	var titles []*ndTitle
	for _, t := range []*ndTitle{pp.AboveTheFoldData, pp.MainColumnData} {
		if t != nil {
			titles = append(titles, t)
		}
	}
	for _, t := range titles {
		if p.IMDbID == "" && validID(t.ID) {
			p.IMDbID = t.ID
		}
		for _, txt := range []*ndText{t.TitleText, t.OriginalTitleText} {
			if p.Title.Title == "" && txt != nil {
				p.Title.Title = clean(txt.Text)
			}
		}
		if tt := t.TitleType; p.Type == "" && tt != nil {
			if tt.IsSeries || tt.CanHaveEpisodes {
				p.Type = "series"
			} else if p.Type = kindOf(tt.ID); p.Type == "" {
				p.Type = kindOf(strings.ReplaceAll(tt.Text, " ", ""))
			}
		}
		if p.Year == nil && t.ReleaseYear != nil && t.ReleaseYear.Year != nil {
			p.Year = yearFloat(*t.ReleaseYear.Year)
		}
		if p.Year == nil && t.ReleaseDate != nil && t.ReleaseDate.Year != nil {
			p.Year = yearFloat(*t.ReleaseDate.Year)
		}
		if r := t.RatingsSummary; r != nil {
			if p.Rating == nil && r.AggregateRating != nil {
				p.Rating = ratingPtr(*r.AggregateRating)
			}
			if p.Votes == nil && r.VoteCount != nil {
				p.Votes = votesPtr(*r.VoteCount)
			}
		}
		if len(p.Genres) == 0 && t.Genres != nil {
			for _, g := range t.Genres.Genres {
				p.Genres = append(p.Genres, g.Text)
			}
		}
		if p.Plot == "" && t.Plot != nil && t.Plot.PlotText != nil {
			p.Plot = clean(t.Plot.PlotText.PlainText)
		}
		if p.RuntimeMinutes == nil && t.Runtime != nil && t.Runtime.Seconds != nil {
			if s := *t.Runtime.Seconds; s > 0 && s < math.MaxInt32 {
				p.RuntimeMinutes = minutesPtr(int(math.Floor(s/60 + 0.5)))
			}
		}
		if p.ContentRating == "" && t.Certificate != nil {
			p.ContentRating = clean(t.Certificate.Rating)
		}
	}
	// Credits: the principal credits first, then mainColumnData's lists.
	for _, t := range titles {
		if len(p.Directors) == 0 {
			p.Directors = groupNames(t.PrincipalCredits, "director")
		}
		if len(p.Cast) == 0 {
			p.Cast = groupNames(t.PrincipalCredits, "cast")
		}
		if len(p.creators) == 0 {
			p.creators = groupNames(t.PrincipalCredits, "creator")
		}
	}
	for _, t := range titles {
		if len(p.Directors) == 0 {
			p.Directors = groupNames(t.Directors, "")
		}
		if len(p.creators) == 0 {
			p.creators = groupNames(t.Creators, "")
		}
		if len(p.Cast) == 0 && t.Cast != nil {
			for _, e := range t.Cast.Edges {
				if e.Node != nil && e.Node.Name != nil && e.Node.Name.NameText != nil {
					p.Cast = append(p.Cast, e.Node.Name.NameText.Text)
				}
			}
		}
	}
	if p.IMDbID == "" && validID(pp.Tconst) {
		p.IMDbID = pp.Tconst
	}
	p.found = p.IMDbID != "" || p.Title.Title != ""
	return p
}

func yearFloat(y float64) *int {
	if y != math.Trunc(y) || y < minYear || y > maxYear {
		return nil
	}
	return yearPtr(int(y))
}
