package catalogjob

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/search"
	"github.com/curiodata/curio/internal/storage/mysql"
)

// refMovieDoc and refArtworkDoc are the straightforward conversions docConverter must
// reproduce (they allocate every part anew).
func refMovieDoc(m domain.Movie) (search.Doc, mysql.Item, error) {
	title := m.Title
	if m.OriginalTitle != "" && m.OriginalTitle != m.Title {
		title += " " + m.OriginalTitle
	}
	people := append(append([]string{}, m.Directors...), m.Cast...)
	text := strings.Join(append([]string{m.Plot, m.Kind}, m.Genres...), " ")
	details, err := json.Marshal(m)
	if err != nil {
		return search.Doc{}, mysql.Item{}, err
	}
	var sub []string
	if len(m.Directors) > 0 {
		sub = append(sub, strings.Join(m.Directors, ", "))
	}
	if len(m.Genres) > 0 {
		sub = append(sub, strings.Join(m.Genres, ", "))
	}
	url := ""
	if strings.HasPrefix(m.ID, "tt") {
		url = "https://www.imdb.com/title/" + m.ID + "/"
	}
	return search.Doc{ID: m.ID, Type: string(domain.TypeMovie), Title: title, People: people, Text: text, Year: m.Year,
			Tags: map[string][]string{"genre": m.Genres}},
		mysql.Item{ID: m.ID, Type: string(domain.TypeMovie), Title: m.Title, Year: m.Year, Subtitle: strings.Join(sub, " · "),
			Description: m.Plot, URL: url, Details: details}, nil
}

func refArtworkDoc(w domain.Artwork) (search.Doc, mysql.Item, error) {
	text := strings.Join(append([]string{w.Description, w.Medium, w.Classification, w.Department}, w.Nationalities...), " ")
	details, err := json.Marshal(w)
	if err != nil {
		return search.Doc{}, mysql.Item{}, err
	}
	var sub []string
	if len(w.Artists) > 0 {
		sub = append(sub, strings.Join(w.Artists, ", "))
	}
	if w.Medium != "" {
		sub = append(sub, w.Medium)
	}
	var medium []string
	if w.Medium != "" {
		medium = []string{w.Medium}
	}
	return search.Doc{ID: w.ID, Type: string(domain.TypeArtwork), Title: w.Title, People: w.Artists, Text: text, Year: w.Year,
			Tags: map[string][]string{"medium": medium, "nationality": w.Nationalities}},
		mysql.Item{ID: w.ID, Type: string(domain.TypeArtwork), Title: w.Title, Year: w.Year, Subtitle: strings.Join(sub, " · "),
			Description: w.Description, ImageURL: w.ImageURL, URL: w.URL, Details: details}, nil
}

// snapshot copies what a document says (the converter's documents share memory that the
// next conversion overwrites), treating empty and missing tags alike.
func snapshot(d search.Doc) string {
	tags := map[string][]string{}
	for k, v := range d.Tags {
		if len(v) > 0 {
			tags[k] = v
		}
	}
	if len(d.People) == 0 {
		d.People = nil
	}
	d.Tags = tags
	return fmt.Sprintf("%#v", d)
}

func TestDocConverterMatchesReference(t *testing.T) {
	var recs []domain.Record
	if err := demo.Records(demo.Options{Movies: 300, Artworks: 300, Seed: 4}, func(r domain.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Edge cases: empty lists, an empty director, no medium, an original title.
	recs = append(recs,
		domain.Record{Movie: &domain.Movie{ID: "tt1", Title: "A", OriginalTitle: "B", Directors: []string{""}}},
		domain.Record{Movie: &domain.Movie{ID: "m2", Title: "C <&>", Genres: []string{"Drama"}}},
		domain.Record{Artwork: &domain.Artwork{ID: "w1", Title: "D", Artists: []string{"X", "Y"}}},
		domain.Record{Artwork: &domain.Artwork{ID: "w2", Title: "E", Medium: "Oil", Nationalities: []string{"French"}}},
	)
	var c docConverter
	var buf bytes.Buffer
	var items []mysql.Item
	var wantItems []mysql.Item
	n := 0
	for _, r := range recs {
		var got, want search.Doc
		var it, wantIt mysql.Item
		var gd *search.Doc
		var err, werr error
		switch {
		case r.Movie != nil:
			gd, it, err = c.movie(r.Movie, &buf)
			want, wantIt, werr = refMovieDoc(*r.Movie)
		case r.Artwork != nil:
			gd, it, err = c.artwork(r.Artwork, &buf)
			want, wantIt, werr = refArtworkDoc(*r.Artwork)
		default:
			continue
		}
		if err != nil || werr != nil {
			t.Fatal(err, werr)
		}
		got = *gd
		if g, w := snapshot(got), snapshot(want); g != w {
			t.Fatalf("doc %s:\n got %s\nwant %s", want.ID, g, w)
		}
		items, wantItems = append(items, it), append(wantItems, wantIt)
		n++
		if n%7 == 0 { // details alias buf until it is reset, as itemWriter does per batch
			if !reflect.DeepEqual(items, wantItems) {
				t.Fatalf("items differ:\n got %+v\nwant %+v", items, wantItems)
			}
			items, wantItems = items[:0], wantItems[:0]
			buf.Reset()
		}
	}
	if !reflect.DeepEqual(items, wantItems) {
		t.Fatalf("items differ:\n got %+v\nwant %+v", items, wantItems)
	}
}
