package search

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// Span is a byte range [Start, End) of a text.
type Span struct {
	Start, End int
}

// Highlight returns the words of text that match query, as sorted,
// non-overlapping byte ranges of text (always on UTF-8 boundaries). Words are
// split and folded as by Tokenize, so case and accents do not matter ("Zoë"
// matches "zoe"); a word matches when its token equals a query token, starts
// with the last query token when Search would match that as a prefix (at
// least two letters, no trailing space), or is within the typo distance of a
// query token of four letters or more, starting with the same letter (see
// MaxTypoTerms). Query stop words are ignored as by Search.
func Highlight(text string, query string) []Span {
	var qt tokenizer
	qt.add(query)
	nq := qt.len()
	if nq == 0 || text == "" {
		return nil
	}
	var last []byte
	if prefixEligible(&qt, query) {
		last = qt.token(nq - 1)
	}
	type qword struct {
		tok   []byte
		runes []rune
		k     int
	}
	qs := make([]qword, 0, nq)
	for i := range nq {
		w := qword{tok: qt.token(i)}
		w.runes = []rune(string(w.tok))
		if len(w.runes) <= maxTypoRunes {
			w.k = maxTypos(len(w.runes))
		}
		qs = append(qs, w)
	}

	var (
		wt      tokenizer
		spans   []Span
		wr      []rune
		scratch []int
	)
	matches := func(tok []byte) bool {
		if len(tok) == 0 {
			return false
		}
		if last != nil && bytes.HasPrefix(tok, last) {
			return true
		}
		for _, q := range qs {
			if bytes.Equal(tok, q.tok) {
				return true
			}
		}
		wr = wr[:0]
		for _, r := range string(tok) {
			wr = append(wr, r)
		}
		for _, q := range qs {
			if q.k == 0 || wr[0] != q.runes[0] {
				continue
			}
			var d int
			if d, scratch = typoDistance(wr, q.runes, q.k, scratch); d <= q.k {
				return true
			}
		}
		return false
	}

	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		if !wordRune(r, w) {
			i += w
			continue
		}
		start := i
		for i += w; i < len(text); i += w {
			r, w = utf8.DecodeRuneInString(text[i:])
			if wordRune(r, w) || unicode.In(r, unicode.Mn, unicode.Me) {
				continue
			}
			if isApostrophe(r) && i+w < len(text) {
				if r2, _ := utf8.DecodeRuneInString(text[i+w:]); !isApostrophe(r2) && (unicode.IsLetter(r2) || unicode.IsNumber(r2)) {
					continue
				}
			}
			break
		}
		wt.reset()
		wt.normalize(text[start:i])
		wt.scan(wt.norm)
		if matches(wt.buf) {
			spans = append(spans, Span{Start: start, End: i})
		}
	}
	return spans
}

// wordRune reports whether r (decoded with width w) is a word character for
// the tokenizer: a letter, a digit or a spacing mark.
func wordRune(r rune, w int) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	if r == utf8.RuneError && w <= 1 {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mc, r)
}
