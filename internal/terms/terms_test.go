package terms

import (
	"slices"
	"testing"
)

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"The Matrix", []string{"matrix"}},
		{"Zoë and the Brontë sisters 1999", []string{"zoe", "bronte", "sisters"}},
		{"war war WAR", []string{"war"}},
		{"a b c", nil},
		{"", nil},
		{"#noir detective", []string{"noir", "detective"}},
		{"Lost into the woods through which they ran", []string{"lost", "woods", "ran"}},
	} {
		if got := Words(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := ""
	for i := range 40 {
		long += " word" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	if n := len(Words(long)); n != MaxTermsPerText {
		t.Errorf("Words kept %d terms of 40, want %d", n, MaxTermsPerText)
	}
}

func TestHashtags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"best #Noir films #noir #film_noir", []string{"#noir", "#film-noir"}},
		{"no tags here", nil},
		{"email a#b and ## and #", nil},
		{"#Café-Society", []string{"#cafe-society"}},
	} {
		if got := Hashtags(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Hashtags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTag(t *testing.T) {
	for in, want := range map[string]string{
		"Film-Noir":     "#film-noir",
		"Oil on canvas": "#oil-canvas",
		"Sci-Fi":        "#sci-fi",
		"!!!":           "",
		"":              "",
	} {
		if got := Tag(in); got != want {
			t.Errorf("Tag(%q) = %q, want %q", in, got, want)
		}
	}
}
