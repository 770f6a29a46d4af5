package imdb

import (
	"testing"
)

func TestISODurationMinutes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"PT2H16M", 136, true},
		{"PT45M", 45, true},
		{"PT1H", 60, true},
		{"P0DT2H16M0S", 136, true},
		{"PT136M", 136, true},
		{"PT8160S", 136, true},
		{"PT1H46M", 106, true},
		{"PT2M25S", 2, true},
		{"PT90S", 2, true}, // rounded to the nearest minute
		{"PT29S", 0, false},
		{"PT1.5H", 90, true},
		{"PT0,5H", 30, true},
		{"P1D", 1440, true},
		{"P1DT1M", 1441, true},
		{"P1W", 10080, true},
		{"pt30m", 30, true},
		{" PT30M ", 30, true},
		{"PT0M", 0, false},
		{"", 0, false},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1DT", 0, false},
		{"2h16m", 0, false},
		{"136", 0, false},
		{"PT2H16", 0, false},
		{"PTH", 0, false},
		{"P1Y", 0, false}, // calendar units are not runtimes
		{"P1M", 0, false},
		{"PT1H1H", 120, true},
		{"PT-5M", 0, false},
		{"PT1.2.3M", 0, false},
		{"PTT1M", 0, false},
		{"PT99999999999999999999H", 0, false},
	} {
		got, ok := ISODurationMinutes(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ISODurationMinutes(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTextMinutes(t *testing.T) {
	for in, want := range map[string]int{"136 min": 136, "2h 16min": 136, "2h 16m": 136, "1h": 60, "45min": 45, "  1 h 5 min ": 65} {
		if got, ok := textMinutes(in); !ok || got != want {
			t.Errorf("textMinutes(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "soon", "12", "0 min"} {
		if got, ok := textMinutes(in); ok {
			t.Errorf("textMinutes(%q) = %d, want not ok", in, got)
		}
	}
}

func TestIDFromURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://www.imdb.com/title/tt0133093/", "tt0133093"},
		{"/title/tt0133093/?ref_=fn_al_tt_1", "tt0133093"},
		{"https://m.imdb.com/title/tt0133093/reviews?ref_=tt_urv", "tt0133093"},
		{"https://www.imdb.com/title/tt12345678", "tt12345678"},
		{"http://www.imdb.com/title/tt0133093#cast", "tt0133093"},
		{"imdb.com/title/tt0133093?x=1", "tt0133093"},
		{"tt0133093", "tt0133093"},
		{" tt0133093 ", "tt0133093"},
		{"/name/nm0000206/", ""},
		{"/title/", ""},
		{"/title/tt/", ""},
		{"/title/tt123/", ""}, // ids have at least 7 digits
		{"/title/tt0133093x/", ""},
		{"/title/TT0133093/", ""},
		{"https://example.com/tt0133093", ""},
		{"/title/bad/ then /title/tt0133093/", "tt0133093"},
		{"tt0133093/", ""},
		{"", ""},
	} {
		if got := IDFromURL(tc.in); got != tc.want {
			t.Errorf("IDFromURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTitleURL(t *testing.T) {
	for _, tc := range []struct{ base, id, want string }{
		{"https://www.imdb.com", "tt0133093", "https://www.imdb.com/title/tt0133093/"},
		{"https://www.imdb.com/", "tt0133093", "https://www.imdb.com/title/tt0133093/"},
		{"http://127.0.0.1:8080", "tt9100001", "http://127.0.0.1:8080/title/tt9100001/"},
	} {
		if got := TitleURL(tc.base, tc.id); got != tc.want {
			t.Errorf("TitleURL(%q, %q) = %q, want %q", tc.base, tc.id, got, tc.want)
		}
		if got := IDFromURL(TitleURL(tc.base, tc.id)); got != tc.id {
			t.Errorf("IDFromURL(TitleURL(%q)) = %q", tc.id, got)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"Schindler&apos;s List":          "Schindler's List",
		"Schindler&amp;apos;s List":      "Schindler's List",
		"Tom &amp;amp;amp; Jerry":        "Tom & Jerry",
		"&quot;Quoted&quot; &#39;x&#39;": `"Quoted" 'x'`,
		"  a\u00a0\n b  ":                "a b",
		"AT&T":                           "AT&T",
		"":                               "",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitTitleSuffix(t *testing.T) {
	for _, tc := range []struct {
		in, name string
		year     int
		series   bool
	}{
		{"The Matrix (1999)", "The Matrix", 1999, false},
		{"Archer (TV Series 2009–2023)", "Archer", 2009, true},
		{"Sherlock (TV Mini Series 2010)", "Sherlock", 2010, true},
		{"Pixel Tide (Video Game 1989)", "Pixel Tide", 1989, false},
		{"Untitled Project (TV Series)", "Untitled Project", 0, true},
		{"Birdman (or The Unexpected Virtue of Ignorance)", "Birdman (or The Unexpected Virtue of Ignorance)", 0, false},
		{"Master of None", "Master of None", 0, false},
		{"(", "(", 0, false},
		{"x)", "x)", 0, false},
	} {
		name, year, series := splitTitleSuffix(tc.in)
		y := 0
		if year != nil {
			y = *year
		}
		if name != tc.name || y != tc.year || series != tc.series {
			t.Errorf("splitTitleSuffix(%q) = %q, %d, %v; want %q, %d, %v", tc.in, name, y, series, tc.name, tc.year, tc.series)
		}
	}
}

func TestFirstYear(t *testing.T) {
	for in, want := range map[string]int{"1999-03-31": 1999, "2009–2023": 2009, "(I) (2004)": 2004, "12345 1988": 1988, "1850, 1901": 1901} {
		if got := firstYear(in); got == nil || *got != want {
			t.Errorf("firstYear(%q) = %v, want %d", in, got, want)
		}
	}
	for _, in := range []string{"", "99", "12345", "2101", "1869"} {
		if got := firstYear(in); got != nil {
			t.Errorf("firstYear(%q) = %d, want nil", in, *got)
		}
	}
}
