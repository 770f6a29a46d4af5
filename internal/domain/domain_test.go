package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStorableText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"nul\x00here", `nul\x00here`},
		{"bad\xffbyte", "bad\uFFFDbyte"},
	} {
		if got := StorableText(tc.in, 100); got != tc.want {
			t.Errorf("StorableText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("é", 10) // 20 bytes
	got := StorableText(long, 5)
	if got != "éé…" || !utf8.ValidString(got) {
		t.Errorf("cut at 5 bytes: %q", got)
	}
}
