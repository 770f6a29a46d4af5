package imdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// SearchResult is one title found on a search (find) page.
type SearchResult struct {
	IMDbID string `json:"imdb_id"`
	Title  string `json:"title"`
	Year   *int   `json:"year"`
	Kind   string `json:"kind"` // movie or series
}

var yearRe = regexp.MustCompile(`\((\d{4})`)

// ParseSearch reads the title results of a find page: the old `table.findList` layout
// and the newer __NEXT_DATA__ one. Results keep page order, without duplicates.
func ParseSearch(page []byte) ([]SearchResult, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		return nil, fmt.Errorf("parse html: %w", err)
	}
	var out []SearchResult
	seen := map[string]bool{}
	add := func(r SearchResult) {
		if r.IMDbID != "" && !seen[r.IMDbID] {
			seen[r.IMDbID] = true
			if r.Kind == "" {
				r.Kind = "movie"
			}
			out = append(out, r)
		}
	}
	doc.Find("table.findList td.result_text").Each(func(_ int, td *goquery.Selection) {
		a := td.Find("a").First()
		id := IDFromURL(a.AttrOr("href", ""))
		if id == "" { // a name or company row
			return
		}
		r := SearchResult{IMDbID: id, Title: clean(a.Text())}
		rest := td.Clone()
		rest.Find("a, i, small").Remove()
		text := rest.Text()
		if m := yearRe.FindStringSubmatch(text); m != nil {
			y, _ := strconv.Atoi(m[1])
			r.Year = &y
		}
		if strings.Contains(text, "TV Series") || strings.Contains(text, "TV Mini") {
			r.Kind = "series"
		}
		add(r)
	})
	if nd, ok := readNextData(doc); ok && len(nd.Props.PageProps.TitleResults) > 0 {
		var tr struct {
			Results []struct {
				ID               string `json:"id"`
				TitleNameText    string `json:"titleNameText"`
				TitleReleaseText string `json:"titleReleaseText"`
				TitleTypeText    string `json:"titleTypeText"`
			} `json:"results"`
		}
		if json.Unmarshal(nd.Props.PageProps.TitleResults, &tr) == nil {
			for _, x := range tr.Results {
				r := SearchResult{IMDbID: idRe.FindString(x.ID), Title: clean(x.TitleNameText)}
				if len(x.TitleReleaseText) >= 4 {
					if y, err := strconv.Atoi(x.TitleReleaseText[:4]); err == nil {
						r.Year = &y
					}
				}
				if strings.Contains(x.TitleTypeText, "Series") {
					r.Kind = "series"
				}
				add(r)
			}
		}
	}
	if out == nil {
		out = []SearchResult{}
	}
	return out, nil
}
