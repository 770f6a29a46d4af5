package imdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares v's indented JSON with testdata/name.golden.json (or rewrites it under -update).
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./scrapers/imdb/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run with -update to accept):\n got: %s\nwant: %s", name, path, got, want)
	}
}

// errorGolden is the golden form of a parse error.
type errorGolden struct {
	Error string `json:"error"`
}

func TestParseTitleGolden(t *testing.T) {
	for _, tc := range []struct {
		page   string
		layout string // "" when the page must be rejected
	}{
		{"jsonld_movie", LayoutJSONLD},
		{"nextdata_movie", LayoutNextData},
		{"itemprop_old", LayoutItemprop},
		{"series", LayoutJSONLD},
		{"entities", LayoutJSONLD},
		{"missing_fields", LayoutJSONLD},
		{"truncated", LayoutJSONLD},
		{"truncated_jsonld", LayoutMeta},
		{"malformed", LayoutItemprop},
		{"truncated_empty", ""},
		{"not_imdb", ""},
	} {
		t.Run(tc.page, func(t *testing.T) {
			got, err := ParseTitle(readTestdata(t, tc.page+".html"), "")
			if tc.layout == "" {
				if !errors.Is(err, ErrNotTitlePage) {
					t.Fatalf("err = %v, want ErrNotTitlePage", err)
				}
				golden(t, tc.page, errorGolden{err.Error()})
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Layout != tc.layout {
				t.Errorf("layout %q, want %q", got.Layout, tc.layout)
			}
			golden(t, tc.page, got)
		})
	}
}

func TestParseSearchGolden(t *testing.T) {
	for _, tc := range []struct {
		page, golden string
		ok           bool
	}{
		{"search_findlist", "search_findlist", true},
		{"search_nextdata", "search_nextdata", true},
		{"search_jsonld", "search_jsonld", true},
		{"search_ipc", "search_ipc", true},
		{"not_imdb", "not_imdb.search", false},
		{"jsonld_movie", "jsonld_movie.search", false},
	} {
		t.Run(tc.page, func(t *testing.T) {
			got, err := ParseSearch(readTestdata(t, tc.page+".html"))
			if !tc.ok {
				if !errors.Is(err, ErrNotSearchPage) {
					t.Fatalf("err = %v, want ErrNotSearchPage", err)
				}
				golden(t, tc.golden, errorGolden{err.Error()})
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, got)
		})
	}
}

// The facts the golden files hold, spelled out so that a careless -update is caught.
func TestParseTitleFacts(t *testing.T) {
	parse := func(name string) Title {
		t.Helper()
		got, err := ParseTitle(readTestdata(t, name+".html"), "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return got
	}

	m := parse("jsonld_movie")
	if m.IMDbID != "tt9100001" || m.Type != "movie" || m.Title != "The Cartographer's Lantern" || *m.Year != 1987 ||
		*m.Rating != 7.6 || *m.Votes != 48213 || *m.RuntimeMinutes != 112 || m.ContentRating != "PG-13" {
		t.Errorf("jsonld_movie: %+v", m)
	}
	if !slices.Equal(m.Directors, []string{"Odile Marchetti"}) { // the Person creator is a writer, not a director
		t.Errorf("jsonld_movie directors %q", m.Directors)
	}
	if !slices.Equal(m.Cast, []string{"Ines Valdaro", "Bram Holloway", "Kiyoko Sand"}) {
		t.Errorf("jsonld_movie cast %q (the review author must not be cast)", m.Cast)
	}

	n := parse("nextdata_movie")
	if n.IMDbID != "tt9100002" || n.Title != "Harbor of Small Lights" || *n.Year != 2011 || *n.RuntimeMinutes != 98 ||
		*n.Votes != 3021 || n.ContentRating != "R" || !slices.Equal(n.Directors, []string{"Yusuf Orhan"}) ||
		!slices.Equal(n.Cast, []string{"Anouk Delacroix", "Rafael Quist", "Mina Oyelaran"}) {
		t.Errorf("nextdata_movie: %+v", n)
	}

	o := parse("itemprop_old")
	if o.IMDbID != "tt9100003" || o.Title != "Copper Meadow" || *o.Year != 2004 || *o.Rating != 7.1 || *o.Votes != 21407 ||
		*o.RuntimeMinutes != 104 || o.ContentRating != "PG" || !slices.Equal(o.Genres, []string{"Western", "Drama"}) ||
		!slices.Equal(o.Directors, []string{"Marguerite Olsen"}) ||
		!slices.Equal(o.Cast, []string{"Hollis Grange", "Wren Aldana", "Teodor Vance"}) ||
		o.Plot != "A retired surveyor & her estranged son drive cattle across a drought-struck valley." {
		t.Errorf("itemprop_old: %+v", o)
	}

	// JSON-LD names the series, its genre, one actor and its creators; __NEXT_DATA__ fills the rest.
	s := parse("series")
	if s.Type != "series" || s.IMDbID != "tt9100004" || *s.Year != 2016 || *s.Rating != 8.1 || *s.RuntimeMinutes != 30 ||
		s.ContentRating != "TV-MA" || !strings.HasPrefix(s.Plot, "Three siblings") ||
		!slices.Equal(s.Genres, []string{"Comedy"}) || !slices.Equal(s.Cast, []string{"Paulo Serrano"}) ||
		!slices.Equal(s.Directors, []string{"Hallie Brandt", "Desmond Achebe-Lund"}) {
		t.Errorf("series: %+v", s)
	}

	e := parse("entities")
	if e.Title != "Nobody's Lighthouse & Co." || e.Plot != `A keeper's "last" winter & the ship that wasn't there.` ||
		!slices.Equal(e.Directors, []string{"Zoë D'Arcy"}) ||
		!slices.Equal(e.Cast, []string{"Ma'ra Quill", `Ignatius "Iggy" Pole`, "Plain String Name"}) ||
		*e.RuntimeMinutes != 88 || *e.Votes != 2417 || e.Type != "movie" || *e.Year != 2003 {
		t.Errorf("entities: %+v", e)
	}

	mf := parse("missing_fields")
	b, err := json.Marshal(mf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"year":null`, `"rating":null`, `"votes":null`, `"genres":[]`, `"directors":[]`, `"cast":[]`, `"runtime_minutes":null`, `"plot":""`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("missing_fields JSON %s lacks %s", b, want)
		}
	}

	tr := parse("truncated_jsonld") // JSON-LD cut off: the head's title and canonical link still name it
	if tr.IMDbID != "tt9100008" || tr.Title != "Ninefold Bridge" || *tr.Year != 1993 {
		t.Errorf("truncated_jsonld: %+v", tr)
	}

	mal := parse("malformed")
	if mal.IMDbID != "tt9100009" || mal.Title != "Broken Bell" || *mal.Year != 1952 || *mal.RuntimeMinutes != 81 ||
		mal.Rating != nil || !slices.Contains(mal.Directors, "Corwin Tate") || len(mal.Cast) == 0 {
		t.Errorf("malformed: %+v", mal)
	}
}

func TestParseTitleErrors(t *testing.T) {
	for _, tc := range []struct {
		name, page, url, want string
	}{
		{"empty", "", "", "no JSON-LD, __NEXT_DATA__ or itemprop title markup found"},
		{"text", "not html at all {", "", "no JSON-LD"},
		{"person", `<script type="application/ld+json">{"@type":"Person","name":"X","url":"/name/nm0000001/"}</script>`, "", "no JSON-LD"},
		{"truncated", string(readTestdata(t, "truncated_empty.html")), "", "not valid JSON"},
		{"no id", `<script type="application/ld+json">{"@type":"Movie","name":"Anonymous"}</script>`, "", "no title id"},
		{"no id in url", `<script type="application/ld+json">{"@type":"Movie","name":"Anonymous"}</script>`, "https://example.com/x", "no title id"},
		{"no name", `<script type="application/ld+json">{"@type":"Movie","url":"/title/tt9100030/"}</script>`, "", "names no title"},
		{"title tag only", `<title>Some Page</title>`, "https://www.imdb.com/title/tt9100031/", "no JSON-LD"},
		{"not imdb with imdb url", string(readTestdata(t, "not_imdb.html")), "https://www.imdb.com/title/tt9100032/", "no JSON-LD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTitle([]byte(tc.page), tc.url)
			if !errors.Is(err, ErrNotTitlePage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrNotTitlePage mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParseTitleIDFromURLArgument(t *testing.T) {
	page := `<script type="application/ld+json">{"@type":"Movie","name":"Anonymous"}</script>`
	got, err := ParseTitle([]byte(page), "https://www.imdb.com/title/tt9100033/?ref_=x")
	if err != nil || got.IMDbID != "tt9100033" {
		t.Fatalf("%+v %v", got, err)
	}
	// The page's own id wins over the URL it was fetched from (a redirect, a merged title).
	got, err = ParseTitle(readTestdata(t, "jsonld_movie.html"), "https://www.imdb.com/title/tt9100034/")
	if err != nil || got.IMDbID != "tt9100001" {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestJSONLDShapes(t *testing.T) {
	wrap := func(js string) []byte { return []byte(`<script type="application/ld+json">` + js + `</script>`) }
	for _, tc := range []struct {
		name, js string
		check    func(Title) bool
	}{
		{"array", `[{"@type":"WebSite"},{"@type":"TVMiniSeries","url":"/title/tt9100040/","name":"Six Rivers"}]`,
			func(t Title) bool { return t.Type == "series" && t.Title == "Six Rivers" }},
		{"type list", `{"@type":["CreativeWork","Movie"],"url":"/title/tt9100041/","name":"Twice Typed"}`,
			func(t Title) bool { return t.Title == "Twice Typed" && t.Type == "movie" }},
		{"video game", `{"@type":"VideoGame","url":"/title/tt9100042/","name":"Pixel Tide","datePublished":"1989"}`,
			func(t Title) bool { return t.Type == "movie" && *t.Year == 1989 }},
		{"string numbers", `{"@type":"Movie","url":"/title/tt9100043/","name":"N","aggregateRating":{"ratingValue":"8.2","ratingCount":"1,234,567"}}`,
			func(t Title) bool { return *t.Rating == 8.2 && *t.Votes == 1234567 }},
		{"single director string", `{"@type":"Movie","url":"/title/tt9100044/","name":"N","director":"Ada Voss","actor":{"@type":"Person","name":"Bo Linde"}}`,
			func(t Title) bool {
				return slices.Equal(t.Directors, []string{"Ada Voss"}) && slices.Equal(t.Cast, []string{"Bo Linde"})
			}},
		{"organization director", `{"@type":"Movie","url":"/title/tt9100045/","name":"N","director":[{"@type":"Organization","name":"Studio"}]}`,
			func(t Title) bool { return len(t.Directors) == 0 }},
		{"movie creators are not directors", `{"@type":"Movie","url":"/title/tt9100046/","name":"N","creator":[{"@type":"Person","name":"Writer W"}]}`,
			func(t Title) bool { return len(t.Directors) == 0 }},
		{"year out of range", `{"@type":"Movie","url":"/title/tt9100047/","name":"N","datePublished":"1066-10-14"}`,
			func(t Title) bool { return t.Year == nil }},
		{"raw newline in string", "{\"@type\":\"Movie\",\"url\":\"/title/tt9100048/\",\"name\":\"N\",\"description\":\"line one\nline two\"}",
			func(t Title) bool { return t.Plot == "line one line two" }},
		{"duplicate names", `{"@type":"Movie","url":"/title/tt9100049/","name":"N","actor":["A","A"," A ","B"],"genre":["Drama","Drama"]}`,
			func(t Title) bool {
				return slices.Equal(t.Cast, []string{"A", "B"}) && slices.Equal(t.Genres, []string{"Drama"})
			}},
		{"untyped with title url", `{"url":"https://www.imdb.com/title/tt9100050/","name":"Bare"}`,
			func(t Title) bool { return t.IMDbID == "tt9100050" && t.Title == "Bare" }},
		{"rating out of range", `{"@type":"Movie","url":"/title/tt9100051/","name":"N","aggregateRating":{"ratingValue":87,"ratingCount":0}}`,
			func(t Title) bool { return t.Rating == nil && t.Votes == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTitle(wrap(tc.js), "")
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(got) {
				t.Errorf("%+v", got)
			}
		})
	}
}

// A __NEXT_DATA__ whose values have unexpected types keeps what it can.
func TestNextDataOddTypes(t *testing.T) {
	page := `<script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{"aboveTheFoldData":{
		"id":"tt9100060","titleText":{"text":"Odd"},"releaseYear":"nineteen","runtime":{"seconds":"long"},
		"ratingsSummary":{"aggregateRating":7.5,"voteCount":null},"genres":{"genres":"Drama"},
		"principalCredits":[{"category":{"id":"director"},"credits":[{"name":{"nameText":{"text":"Kay Dune"}}},{"name":null}]}]},
		"mainColumnData":{"cast":{"edges":[{"node":{"name":{"nameText":{"text":"Lee Moss"}}}},{"node":null}]},
		"releaseYear":{"year":1977}}}}}</script>`
	got, err := ParseTitle([]byte(page), "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Odd" || got.Year == nil || *got.Year != 1977 || got.RuntimeMinutes != nil || *got.Rating != 7.5 ||
		got.Votes != nil || !slices.Equal(got.Directors, []string{"Kay Dune"}) || !slices.Equal(got.Cast, []string{"Lee Moss"}) {
		t.Errorf("%+v", got)
	}
}

func TestMovie(t *testing.T) {
	got, err := ParseTitle(readTestdata(t, "series.html"), "")
	if err != nil {
		t.Fatal(err)
	}
	m := got.Movie()
	if m.ID != "tt9100004" || m.Kind != "series" || m.Source != "imdb-scrape" || m.Year != 2016 || m.Rating != 8.1 ||
		m.Votes != 15555 || m.RuntimeMinutes != 30 || m.Title != "The Quiet Orchard" || len(m.Directors) != 2 {
		t.Errorf("%+v", m)
	}
	m.Genres[0] = "changed" // the record owns its slices
	if got.Genres[0] != "Comedy" {
		t.Error("Movie shares its slices with the Title")
	}
	zero := Title{IMDbID: "tt9100061", Title: "Nothing Known"}.Movie()
	if zero.Kind != "movie" || zero.Year != 0 || zero.Rating != 0 || zero.Votes != 0 || zero.RuntimeMinutes != 0 || zero.Source != Source {
		t.Errorf("%+v", zero)
	}
}

func TestTitleJSONEmptyLists(t *testing.T) {
	b, err := json.Marshal(Title{IMDbID: "tt9100062", Layout: "json-ld"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"imdb_id":"tt9100062","type":"","title":"","year":null,"rating":null,"votes":null,"genres":[],"directors":[],"cast":[],"runtime_minutes":null,"plot":"","content_rating":""}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, err = json.Marshal([]Title{{}}) // through a slice and a pointer too
	if err != nil || !strings.Contains(string(b), `"genres":[]`) {
		t.Errorf("%s %v", b, err)
	}
}

func TestParseSearchFacts(t *testing.T) {
	got, err := ParseSearch(readTestdata(t, "search_findlist.html"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.IMDbID+"/"+r.Kind+"/"+yearText(r.Year))
	}
	want := []string{"tt9100001/movie/1987", "tt9100010/series/2014", "tt9100011/series/2001", "tt9100012/movie/2008", "tt9100013/movie/"}
	if !slices.Equal(ids, want) { // no duplicate, no name row, not the name row's known-for title
		t.Errorf("got %q\nwant %q", ids, want)
	}
	if got[0].Title != "The Cartographer's Lantern" {
		t.Errorf("title %q", got[0].Title)
	}

	got, err = ParseSearch(readTestdata(t, "search_nextdata.html"))
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, r := range got {
		ids = append(ids, r.IMDbID+"/"+r.Kind+"/"+yearText(r.Year)+"/"+r.Title)
	}
	want = []string{"tt9100004/series/2016/The Quiet Orchard", "tt9100020/movie/1979/Orchard & Oak", "tt9100021/movie//Orchard",
		"tt9100022/series/2024/The Orchard Keeper", "tt9100023/movie/1966/Orchard Lights"}
	if !slices.Equal(ids, want) {
		t.Errorf("got %q\nwant %q", ids, want)
	}
}

func TestParseSearchEmpty(t *testing.T) {
	for _, page := range []string{
		`<h1 class="findHeader">No results found for "zzzz"</h1>`,
		`<script id="__NEXT_DATA__">{"props":{"pageProps":{"titleResults":{"results":[]}}}}</script>`,
	} {
		got, err := ParseSearch([]byte(page))
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("%q: %v %v", page, got, err)
		}
		if b, _ := json.Marshal(got); string(b) != "[]" {
			t.Errorf("%q: JSON %s", page, b)
		}
	}
	if _, err := ParseSearch(nil); !errors.Is(err, ErrNotSearchPage) {
		t.Errorf("empty page: %v", err)
	}
}

func yearText(y *int) string {
	if y == nil {
		return ""
	}
	b, _ := json.Marshal(*y)
	return string(b)
}
