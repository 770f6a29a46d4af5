package search

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"only separators", "  ...  -- !! ", nil},
		{"case", "Hello WORLD", []string{"hello", "world"}},
		{"accents", "Zoë Brontë", []string{"zoe", "bronte"}},
		{"accents french", "Crème Brûlée!", []string{"creme", "brulee"}},
		{"precomposed vs decomposed", "Cafe\u0301 Café", []string{"cafe", "cafe"}},
		{"no decomposition", "Ærø", []string{"ærø"}},
		{"dotted capital I", "İstanbul", []string{"istanbul"}},
		{"greek", "ΣΊΣΥΦΟΣ σίσυφος", []string{"σισυφοσ", "σισυφοσ"}},
		{"punctuation", "Star Wars: Episode IV - A New Hope (1977)", []string{"star", "wars", "episode", "iv", "new", "hope", "1977"}},
		{"underscore and slash", "hello_world/foo", []string{"hello", "world", "foo"}},
		{"apostrophe inside word", "Don't Look Up", []string{"dont", "look", "up"}},
		{"curly apostrophe", "O’Brien’s", []string{"obriens"}},
		{"apostrophe at edges", "'quoted' dogs' 'n'", []string{"quoted", "dogs", "n"}},
		{"rock n roll", "rock 'n' roll", []string{"rock", "n", "roll"}},
		{"double apostrophe splits", "x''y", []string{"x", "y"}},
		{"digits", "R2-D2 3.14 007", []string{"r2", "d2", "3", "14", "007"}},
		{"single letters kept", "x y z", []string{"x", "y", "z"}},
		{"stop words dropped", "The Lord of the Rings", []string{"lord", "rings"}},
		{"mixed stop and single letters", "a b c", []string{"b", "c"}},
		{"all stop words kept", "The The", []string{"the", "the"}},
		{"single stop word kept", "It", []string{"it"}},
		{"all stop words various", "To Be... is it?", []string{"be"}},
		{"all stop words only", "of and in on", []string{"of", "and", "in", "on"}},
		{"cjk", "東京", []string{"東京"}},
		{"cjk and latin", "東京物語 Tokyo Story", []string{"東京物語", "tokyo", "story"}},
		{"devanagari marks do not split", "हिन्दी फ़िल्म", []string{"हिनदी", "फिलम"}},
		{"invalid utf8", "\xff\xfeabc\x80DEF\xc3", []string{"abc", "def"}},
		{"fullwidth kept", "ＡＢＣ", []string{"ａｂｃ"}},
		{"emoji separates", "love❤️story", []string{"love", "story"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Tokenize(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsStopWord(t *testing.T) {
	for _, w := range []string{"the", "a", "an", "of", "and", "in", "on", "to", "for", "with", "at", "by", "from", "is", "it", "as"} {
		if !IsStopWord(w) {
			t.Errorf("IsStopWord(%q) = false", w)
		}
	}
	for _, w := range []string{"", "The", "matrix", "th", "i", "be"} {
		if IsStopWord(w) {
			t.Errorf("IsStopWord(%q) = true", w)
		}
	}
}

func TestTokenizerLastKept(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"matr", true},
		{"lord of the", false},
		{"the the", true},
		{"matrix.", true},
	}
	for _, tt := range tests {
		var tok tokenizer
		tok.add(tt.in)
		if tok.lastKept != tt.want {
			t.Errorf("add(%q).lastKept = %v, want %v", tt.in, tok.lastKept, tt.want)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "The Matrix", "Zoë", "don't", "\xff\x00'a", "東京", "a'", "'''", "of the"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokenize(s)
		stops := 0
		for _, tok := range toks {
			if tok == "" || !utf8.ValidString(tok) || strings.ContainsAny(tok, " '\u2019-.") {
				t.Fatalf("Tokenize(%q) produced bad token %q", s, tok)
			}
			if IsStopWord(tok) {
				stops++
			}
		}
		if stops > 0 && stops != len(toks) {
			t.Fatalf("Tokenize(%q) = %q mixes stop words and other tokens", s, toks)
		}
	})
}
