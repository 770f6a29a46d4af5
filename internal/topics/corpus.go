package topics

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/curiodata/curio/internal/search"
	"github.com/curiodata/curio/internal/terms"
)

// VocabOptions control which words BuildCorpus keeps in the vocabulary.
// Zero values select the defaults.
type VocabOptions struct {
	MinDocFreq int     // drop words in fewer docs (default 2; 1 keeps every word)
	MaxDocFrac float64 // drop words in more than this fraction of docs (default 0.5; 1 or more disables)
	MaxVocab   int     // keep the most frequent words up to this size (default 20000; negative: no limit)
}

// withDefaults fills in the zero fields of o.
func (o VocabOptions) withDefaults() VocabOptions {
	if o.MinDocFreq <= 0 {
		o.MinDocFreq = 2
	}
	if o.MaxDocFrac <= 0 {
		o.MaxDocFrac = 0.5
	}
	if o.MaxVocab == 0 {
		o.MaxVocab = 20000
	}
	return o
}

// Corpus is a tokenized document collection over a fixed vocabulary.
type Corpus struct {
	Vocab []string  // word id -> word, sorted alphabetically so ids are deterministic
	IDs   []string  // document ids, as given
	Docs  [][]int32 // word ids per document (documents may become empty)
}

// Tokens splits text into the terms a topic model uses. It tokenizes with
// search.Tokenize (the same tokenizer as search: lowercased, accent-folded)
// and drops search.IsStopWord terms, terms shorter than 3 runes and pure
// numbers (terms made only of digits).
func Tokens(text string) []string {
	toks := search.Tokenize(text)
	out := toks[:0]
	for _, t := range toks {
		if !terms.Content(t, 3) {
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// BuildCorpus tokenizes texts with Tokens (in parallel) and builds the
// vocabulary per opts: words in fewer than MinDocFreq documents or in more
// than MaxDocFrac of the documents are dropped, then the MaxVocab words with
// the most occurrences are kept (ties: more documents first, then
// alphabetical). The kept words are sorted alphabetically to form Vocab, and
// every document is encoded onto it; dropped words are left out, so a
// document may become empty. ids must be parallel to texts (BuildCorpus
// panics otherwise); they are copied into IDs as given.
func BuildCorpus(ids, texts []string, opts VocabOptions) *Corpus {
	if len(ids) != len(texts) {
		panic(fmt.Sprintf("topics: BuildCorpus: %d ids for %d texts", len(ids), len(texts)))
	}
	opts = opts.withDefaults()
	toks := make([][]string, len(texts))
	parallelRange(len(texts), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			toks[i] = Tokens(texts[i])
		}
	})

	type stat struct{ df, tf, lastDoc int }
	stats := make(map[string]*stat)
	for d, words := range toks {
		for _, w := range words {
			s := stats[w]
			if s == nil {
				s = &stat{lastDoc: -1}
				stats[w] = s
			}
			s.tf++
			if s.lastDoc != d {
				s.lastDoc = d
				s.df++
			}
		}
	}
	maxDF := opts.MaxDocFrac * float64(len(texts))
	type cand struct {
		word   string
		df, tf int
	}
	var cands []cand
	for w, s := range stats {
		if s.df < opts.MinDocFreq || (opts.MaxDocFrac < 1 && float64(s.df) > maxDF) {
			continue
		}
		cands = append(cands, cand{w, s.df, s.tf})
	}
	if opts.MaxVocab > 0 && len(cands) > opts.MaxVocab {
		slices.SortFunc(cands, func(a, b cand) int {
			if c := cmp.Compare(b.tf, a.tf); c != 0 {
				return c
			}
			if c := cmp.Compare(b.df, a.df); c != 0 {
				return c
			}
			return cmp.Compare(a.word, b.word)
		})
		cands = cands[:opts.MaxVocab]
	}
	vocab := make([]string, len(cands))
	for i, c := range cands {
		vocab[i] = c.word
	}
	slices.Sort(vocab)

	c := &Corpus{Vocab: vocab, IDs: slices.Clone(ids), Docs: make([][]int32, len(texts))}
	lookup := c.Lookup()
	for d, words := range toks {
		c.Docs[d] = Encode(words, lookup)
	}
	return c
}

// Lookup builds the word -> id map of c.Vocab. Build it once and pass it to
// Encode for every document.
func (c *Corpus) Lookup() map[string]int32 {
	m := make(map[string]int32, len(c.Vocab))
	for i, w := range c.Vocab {
		m[w] = int32(i)
	}
	return m
}

// Encode maps the already-tokenized words of one document (see Tokens) onto
// vocabulary ids using a map from Corpus.Lookup; unknown words are dropped.
func Encode(words []string, lookup map[string]int32) []int32 {
	out := make([]int32, 0, len(words))
	for _, w := range words {
		if id, ok := lookup[w]; ok {
			out = append(out, id)
		}
	}
	return out
}

// parallelRange calls fn on contiguous chunks of [0, n) from up to
// GOMAXPROCS goroutines and waits for them.
func parallelRange(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := range workers {
		lo, hi := i*n/workers, (i+1)*n/workers
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}
