// Package terms extracts trending-term material from user activity: the words of a
// search query or of a catalog title, and hashtag-like tags. It uses the search
// tokenizer, so a term here is exactly a term the search index knows. It performs no I/O.
package terms

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/curiodata/curio/internal/search"
)

// Limits on what one text contributes, so a hostile query cannot flood the windows.
const (
	MaxTermsPerText = 16
	MaxTagLen       = 40
	minTermRunes    = 2
)

// Words returns the distinct terms of text in order of first appearance: search tokens
// without stop words, pure numbers or one-letter tokens, at most MaxTermsPerText.
func Words(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, tok := range search.Tokenize(text) {
		if !Content(tok, minTermRunes) || seen[tok] {
			continue
		}
		seen[tok] = true
		out = append(out, tok)
		if len(out) == MaxTermsPerText {
			break
		}
	}
	return out
}

// Hashtags returns the distinct #tags written in text ("#noir", "#film_noir"), folded
// like search terms and prefixed with '#'.
func Hashtags(text string) []string {
	var out []string
	for i := 0; i < len(text); i++ {
		if text[i] != '#' || (i > 0 && isWordByte(text[i-1])) {
			continue
		}
		j := i + 1
		for j < len(text) {
			r, size := utf8.DecodeRuneInString(text[j:])
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') {
				break
			}
			j += size
		}
		if tag := Tag(text[i+1 : j]); tag != "" && !contains(out, tag) {
			out = append(out, tag)
		}
		i = j - 1
	}
	return out
}

// Tag turns a label ("Film-Noir", "Oil on canvas") into a tag ("#film-noir",
// "#oil-on-canvas"): folded search tokens joined by '-'. It returns "" for a label
// without letters or digits, or one longer than MaxTagLen once folded.
func Tag(label string) string {
	toks := search.Tokenize(strings.ReplaceAll(label, "_", " "))
	if len(toks) == 0 {
		return ""
	}
	tag := "#" + strings.Join(toks, "-")
	if len(tag) > MaxTagLen+1 {
		return ""
	}
	return tag
}

// Content reports whether a search token carries meaning for text analytics: not a stop
// word, at least minRunes long and not a number. Trending terms and the topic model share it.
func Content(tok string, minRunes int) bool {
	if search.IsStopWord(tok) || commonWord(tok) || utf8.RuneCountInString(tok) < minRunes {
		return false
	}
	for _, r := range tok {
		if !unicode.IsNumber(r) {
			return true
		}
	}
	return false
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= 0x80
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// commonWord reports whether tok is an English function word beyond search's stop words
// ("into", "through", "which"): such words rank high in every window and every topic and
// say nothing about either.
func commonWord(tok string) bool {
	switch tok {
	case "about", "above", "after", "again", "against", "all", "also", "am", "any", "are", "aren",
		"because", "been", "before", "being", "below", "between", "both", "but", "can", "cannot",
		"could", "did", "didn", "does", "doesn", "doing", "don", "down", "during", "each", "few",
		"further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him",
		"himself", "his", "how", "however", "into", "its", "itself", "just", "let", "like", "me", "more",
		"most", "must", "my", "myself", "nor", "not", "now", "off", "once", "only", "other", "ought",
		"our", "ours", "ourselves", "out", "over", "own", "same", "shall", "she", "should", "so", "some",
		"such", "than", "that", "their", "theirs", "them", "themselves", "then", "there", "these",
		"they", "this", "those", "through", "too", "under", "until", "up", "upon", "very", "was", "we",
		"were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with",
		"within", "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves", "one",
		"two", "new", "via", "across", "along", "around", "behind", "beyond", "toward", "towards", "onto",
		"among", "amid", "near", "since", "though", "although", "whether", "even", "ever", "every":
		return true
	}
	return false
}
