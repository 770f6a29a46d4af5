package search

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tokenize splits s into search tokens.
//
// Tokens are lowercased and accent-folded (NFD decomposition with combining
// marks dropped, so "Zoë Brontë" yields "zoe" and "bronte"). Anything that is
// not a letter or a digit separates tokens, except an apostrophe between two
// word characters, which is removed ("don't" yields "dont"). A small set of
// English stop words (see IsStopWord) is dropped unless every token of s is a
// stop word, in which case all tokens are kept so that titles such as
// "The The" or "It" stay searchable. Invalid UTF-8 is treated as a separator.
func Tokenize(s string) []string {
	var t tokenizer
	t.add(s)
	return t.strings()
}

// IsStopWord reports whether tok is one of the English stop words that
// Tokenize drops.
func IsStopWord(tok string) bool {
	switch tok {
	case "the", "a", "an", "of", "and", "in", "on", "to", "for",
		"with", "at", "by", "from", "is", "it", "as":
		return true
	}
	return false
}

// tokenizer is a reusable, allocation-free (after warm-up) token scanner.
// Tokens are appended to buf; ends holds the end offset of each token in buf
// (a token starts where the previous one ends).
type tokenizer struct {
	norm []byte // NFD scratch
	iter norm.Iter
	buf  []byte
	ends []int
	// lastKept reports whether the last raw token of the most recent add
	// call survived stop-word removal.
	lastKept bool
}

func (t *tokenizer) reset() {
	t.buf = t.buf[:0]
	t.ends = t.ends[:0]
}

func (t *tokenizer) len() int { return len(t.ends) }

// token returns token i as a byte slice aliasing the internal buffer.
func (t *tokenizer) token(i int) []byte {
	start := 0
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.buf[start:t.ends[i]]
}

// seen reports whether token i equals an earlier token.
func (t *tokenizer) seen(i int) bool {
	tok := t.token(i)
	for j := range i {
		if string(t.token(j)) == string(tok) {
			return true
		}
	}
	return false
}

// strings returns the current tokens as strings sharing one allocation.
func (t *tokenizer) strings() []string {
	if len(t.ends) == 0 {
		return nil
	}
	all := string(t.buf)
	out := make([]string, len(t.ends))
	start := 0
	for i, end := range t.ends {
		out[i] = all[start:end]
		start = end
	}
	return out
}

// add tokenizes s and appends its tokens, applying the stop-word rule to the
// tokens of s alone. It records in lastKept whether the last raw token of s
// survived stop-word removal (false when s has no tokens).
func (t *tokenizer) add(s string) {
	first := len(t.ends)
	t.normalize(s)
	t.scan(t.norm)
	n := len(t.ends) - first
	if n == 0 {
		t.lastKept = false
		return
	}
	lastIsStop := isStopBytes(t.token(len(t.ends) - 1))
	stops := 0
	for i := first; i < len(t.ends); i++ {
		if isStopBytes(t.token(i)) {
			stops++
		}
	}
	t.lastKept = !lastIsStop || stops == n
	if stops == 0 || stops == n {
		return
	}
	// Compact the non-stop tokens of [first:] in place.
	w := first
	pos := 0
	if first > 0 {
		pos = t.ends[first-1]
	}
	wpos, rpos := pos, pos
	for i := first; i < len(t.ends); i++ {
		end := t.ends[i]
		tok := t.buf[rpos:end]
		if !isStopBytes(tok) {
			wpos += copy(t.buf[wpos:], tok)
			t.ends[w] = wpos
			w++
		}
		rpos = end
	}
	t.ends = t.ends[:w]
	t.buf = t.buf[:wpos]
}

// normalize stores the NFD form of s in t.norm.
func (t *tokenizer) normalize(s string) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	t.norm = t.norm[:0]
	if ascii {
		t.norm = append(t.norm, s...)
		return
	}
	// norm.Iter keeps its buffers inside t, so unlike Form.AppendString it
	// does not allocate per call.
	t.iter.InitString(norm.NFD, s)
	for !t.iter.Done() {
		t.norm = append(t.norm, t.iter.Next()...)
	}
}

// isStopBytes is IsStopWord for a byte slice, without allocating.
func isStopBytes(b []byte) bool {
	if len(b) == 0 || len(b) > 4 {
		return false
	}
	return IsStopWord(string(b))
}

// scan appends the raw tokens of the NFD-normalized bytes p.
func (t *tokenizer) scan(p []byte) {
	inTok := false
	endTok := func() {
		if inTok {
			t.ends = append(t.ends, len(t.buf))
			inTok = false
		}
	}
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				t.buf = append(t.buf, c)
				inTok = true
			case c >= 'A' && c <= 'Z':
				t.buf = append(t.buf, c+('a'-'A'))
				inTok = true
			case c == '\'' && inTok && wordAt(p, i+1):
				// apostrophe inside a word: drop it, keep the token going
			default:
				endTok()
			}
			i++
			continue
		}
		r, w := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && w <= 1:
			endTok()
		case isApostrophe(r):
			if !inTok || !wordAt(p, i+w) {
				endTok()
			}
		case unicode.In(r, unicode.Mn, unicode.Me):
			// combining mark: folded away, does not split the token
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mc, r):
			t.buf = utf8.AppendRune(t.buf, foldRune(r))
			inTok = true
		default:
			endTok()
		}
		i += w
	}
	endTok()
}

// foldRune lowercases r (and maps the Greek final sigma to sigma).
func foldRune(r rune) rune {
	r = unicode.ToLower(r)
	if r == 'ς' {
		r = 'σ'
	}
	return r
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '\u2019', '\u2018', '\u201B', '\u02BC', '\uFF07':
		return true
	}
	return false
}

// wordAt reports whether p[i:] starts with a word character.
func wordAt(p []byte, i int) bool {
	if i >= len(p) {
		return false
	}
	c := p[i]
	if c < utf8.RuneSelf {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	r, _ := utf8.DecodeRune(p[i:])
	if isApostrophe(r) {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}
