package search

import (
	"slices"
	"testing"
	"unicode/utf8"
)

func spanTexts(text string, spans []Span) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = text[s.Start:s.End]
	}
	return out
}

func TestHighlight(t *testing.T) {
	tests := []struct {
		name, text, query string
		want              []string
	}{
		{"case", "THE MATRIX", "matrix", []string{"MATRIX"}},
		{"offsets", "The Matrix", "matrix", []string{"Matrix"}},
		{"accent in text", "Zoë in the Garden", "zoe", []string{"Zoë"}},
		{"accent in query", "Zoe in the Garden", "ZOË", []string{"Zoe"}},
		{"decomposed accent kept in span", "Cafe\u0301 Society", "cafe", []string{"Cafe\u0301"}},
		{"prefix", "The Matrix Reloaded", "matr", []string{"Matrix"}},
		{"prefix needs two letters", "The Matrix Reloaded", "m", nil},
		{"no prefix after space", "The Matrix Reloaded", "matr ", nil},
		{"prefix is the last word only", "The Matrix Reloaded", "matr reloaded", []string{"Reloaded"}},
		{"all words", "The Matrix Reloaded (2003)", "reloaded the matrix 2003", []string{"Matrix", "Reloaded", "2003"}},
		{"typo", "The Matrix", "matirx", []string{"Matrix"}},
		{"typo two", "Lana Wachowski", "wahcowsky", []string{"Wachowski"}},
		{"typo first letter", "The Matrix", "natrix ", nil},
		{"no typo for short words", "The Cat", "cta ", nil},
		{"punctuation", "Don't Look Up! (2021)", "dont look", []string{"Don't", "Look"}},
		{"curly apostrophe", "O’Brien’s Garden", "obriens", []string{"O’Brien’s"}},
		{"apostrophe at end not included", "dogs' day", "dogs", []string{"dogs"}},
		{"stop words ignored", "The Lord of the Rings", "the lord of the rings", []string{"Lord", "Rings"}},
		{"all stop words", "The The", "the the", []string{"The", "The"}},
		{"repeated", "matrix, Matrix; MATRIX", "matrix ", []string{"matrix", "Matrix", "MATRIX"}},
		{"unicode", "東京物語 Tokyo Story", "東京物語", []string{"東京物語"}},
		{"greek final sigma", "ΣΊΣΥΦΟΣ", "σισυφοσ", []string{"ΣΊΣΥΦΟΣ"}},
		{"invalid utf8", "\xffMatrix\xfe", "matrix", []string{"Matrix"}},
		{"empty query", "The Matrix", "", nil},
		{"empty text", "", "matrix", nil},
		{"hyphen splits", "Sci-Fi", "fi", []string{"Fi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans := Highlight(tt.text, tt.query)
			if got := spanTexts(tt.text, spans); !slices.Equal(got, tt.want) {
				t.Fatalf("Highlight(%q, %q) = %q (%v), want %q", tt.text, tt.query, got, spans, tt.want)
			}
		})
	}
	if got := Highlight("The Matrix", "matrix"); !slices.Equal(got, []Span{{4, 10}}) {
		t.Fatalf("spans %v, want [{4 10}]", got)
	}
	if got := Highlight("Zoë Zoë", "zoe"); !slices.Equal(got, []Span{{0, 4}, {5, 9}}) {
		t.Fatalf("spans %v, want [{0 4} {5 9}]", got)
	}
}

func FuzzHighlight(f *testing.F) {
	for _, s := range [][2]string{{"Zoë in the Garden", "zoe gar"}, {"Don't", "dont"}, {"a\u0301b", "ab"}, {"\xff'x", "x"}, {"東京", "東"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, text, query string) {
		spans := Highlight(text, query)
		end := 0
		for _, s := range spans {
			if s.Start < end || s.End <= s.Start || s.End > len(text) {
				t.Fatalf("bad spans %v for %q", spans, text)
			}
			end = s.End
			if utf8.ValidString(text) && !utf8.ValidString(text[s.Start:s.End]) {
				t.Fatalf("span %v of %q is not on rune boundaries", s, text)
			}
			if len(Tokenize(text[s.Start:s.End])) == 0 && len(Tokenize(query)) > 0 && !allStop(Tokenize(query)) {
				t.Fatalf("span %v of %q holds no token", s, text)
			}
		}
	})
}

func allStop(toks []string) bool {
	for _, t := range toks {
		if !IsStopWord(t) {
			return false
		}
	}
	return true
}
