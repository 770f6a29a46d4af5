package search

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Typo tolerance.
//
// A query word that is not in the dictionary matches the dictionary terms
// within a small optimal-string-alignment (restricted Damerau–Levenshtein)
// distance that start with the same letter: no typo for words of up to 3
// letters, one for 4 to 7 letters and two from 8 letters on. Candidates are
// found by walking a trie of the dictionary while maintaining the rows of
// the edit-distance matrix, pruning every subtree whose row minimum already
// exceeds the allowed distance.
const (
	// MaxTypoTerms caps how many dictionary terms one misspelled query word
	// expands to (most frequent first).
	MaxTypoTerms = 10

	typoWeight1 = 0.7 // score multiplier of a term one typo away
	typoWeight2 = 0.5 // ... two typos away

	// maxTypoRunes: longer words are never typo-expanded.
	maxTypoRunes = 32
	// maxTypoWords caps how many words of one query are typo-expanded.
	maxTypoWords = 8
)

// maxTypos returns the number of typos tolerated in a word of n runes.
func maxTypos(n int) int {
	switch {
	case n <= 3:
		return 0
	case n <= 7:
		return 1
	}
	return 2
}

// typoWeight returns the score multiplier of a term dist typos away.
func typoWeight(dist uint8) float64 {
	if dist <= 1 {
		return typoWeight1
	}
	return typoWeight2
}

// termTrie is a rune trie over the sorted term dictionary of an Index. Nodes
// are numbered in breadth-first order, so the children of node n are the
// nodes first[n] to first[n+1]-1, sorted by label; node 0 is the root.
type termTrie struct {
	label []rune   // per node, the rune on the edge from its parent
	first []uint32 // per node plus a sentinel: the first child
	term  []int32  // per node, the term ending here or -1
}

// buildTrie builds the trie of ix's term dictionary in time linear in the
// dictionary's size.
func buildTrie(ix *Index) *termTrie {
	type span struct{ lo, hi, depth int } // terms lo..hi-1 share depth bytes
	nt := len(ix.termEnd)
	spans := make([]span, 1, nt+nt/2+1)
	spans[0] = span{0, nt, 0}
	tr := &termTrie{
		label: make([]rune, 1, cap(spans)),
		first: make([]uint32, 0, cap(spans)+1),
		term:  make([]int32, 1, cap(spans)),
	}
	tr.term[0] = -1
	for n := 0; n < len(spans); n++ {
		sp := spans[n]
		tr.first = append(tr.first, uint32(len(spans)))
		lo := sp.lo
		if lo < sp.hi && len(ix.term(lo)) == sp.depth {
			tr.term[n] = int32(lo)
			lo++
		}
		for lo < sp.hi {
			t := ix.term(lo)
			r, w := utf8.DecodeRuneInString(t[sp.depth:])
			key := t[sp.depth : sp.depth+w]
			hi := lo + 1
			for hi < sp.hi && strings.HasPrefix(ix.term(hi)[sp.depth:], key) {
				hi++
			}
			spans = append(spans, span{lo, hi, sp.depth + w})
			tr.label = append(tr.label, r)
			tr.term = append(tr.term, -1)
			lo = hi
		}
	}
	tr.first = append(tr.first, uint32(len(spans)))
	tr.label = slices.Clip(tr.label)
	tr.term = slices.Clip(tr.term)
	return tr
}

// typoCand is a dictionary term within the typo distance of a query word.
type typoCand struct {
	term int
	dist uint8
}

// typoWalker finds the terms of a trie within distance k of q. Row i of the
// edit-distance matrix (rows[i*(len(q)+1):]) holds the distances between the
// first i runes of the current trie path and every prefix of q; only the
// band |i-j| <= k is computed, the cells just outside it hold k+1.
type typoWalker struct {
	tr   *termTrie
	q    []rune
	k    uint8
	rows []uint8
	path []rune
	out  []typoCand
}

// search appends to w.out the terms at distance 1..k from q whose first rune
// is q's first rune. q must not be longer than maxTypoRunes runes.
func (w *typoWalker) search(tr *termTrie, q []rune, k int) {
	w.tr, w.q, w.k = tr, q, uint8(k)
	m := len(q)
	depth := m + k
	w.rows = slices.Grow(w.rows[:0], (depth+1)*(m+1))[:(depth+1)*(m+1)]
	w.path = slices.Grow(w.path[:0], depth)[:depth]
	for j := 0; j <= m; j++ {
		w.rows[j] = uint8(min(j, k+1))
	}
	if m == 0 || len(tr.first) < 2 {
		return
	}
	kids := tr.label[tr.first[0]:tr.first[1]]
	i, ok := slices.BinarySearch(kids, q[0])
	if !ok {
		return
	}
	w.path[0] = q[0]
	w.step(1)
	w.visit(tr.first[0]+uint32(i), 1)
}

// visit reports the term at node n (whose row i is computed) and descends
// into the children whose rows stay within distance k.
func (w *typoWalker) visit(n uint32, i int) {
	m, k := len(w.q), int(w.k)
	if t := w.tr.term[n]; t >= 0 && i >= m-k && i <= m+k {
		if d := w.rows[i*(m+1)+m]; d > 0 && d <= w.k {
			w.out = append(w.out, typoCand{term: int(t), dist: d})
		}
	}
	if i == m+k {
		return
	}
	tr := w.tr
	for c := tr.first[n]; c < tr.first[n+1]; c++ {
		w.path[i] = tr.label[c]
		if w.step(i+1) <= w.k {
			w.visit(c, i+1)
		}
	}
}

// step computes row i from rows i-1 and i-2 and the path rune i-1; it
// returns the row's minimum.
func (w *typoWalker) step(i int) uint8 {
	q := w.q
	m, k := len(q), int(w.k)
	stride := m + 1
	cur := w.rows[i*stride : (i+1)*stride]
	prev := w.rows[(i-1)*stride : i*stride]
	var prev2 []uint8
	if i >= 2 {
		prev2 = w.rows[(i-2)*stride : (i-1)*stride]
	}
	lo, hi := max(0, i-k), min(m, i+k)
	out := w.k + 1
	if lo > 0 {
		cur[lo-1] = out
	}
	if hi < m {
		cur[hi+1] = out
	}
	c := w.path[i-1]
	best := out
	for j := lo; j <= hi; j++ {
		var v uint8
		if j == 0 {
			v = uint8(i)
		} else {
			v = prev[j-1]
			if c != q[j-1] {
				v++
			}
			v = min(v, prev[j]+1, cur[j-1]+1)
			if prev2 != nil && j >= 2 && c == q[j-2] && w.path[i-2] == q[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			v = min(v, out)
		}
		cur[j] = v
		best = min(best, v)
	}
	return best
}

// typoTerms appends to terms the typo expansions of the query word tok: up
// to MaxTypoTerms dictionary terms within its typo distance, most frequent
// first (frequency is the title frequency when titles is set, and terms
// absent from titles are then skipped), ties broken by fewer typos, then
// dictionary order. Terms already in terms[from:] are skipped.
func (ix *Index) typoTerms(st *searchState, terms []queryTerm, from int, tok []byte, group int32, titles bool) []queryTerm {
	st.qr = st.qr[:0]
	for _, r := range string(tok) {
		st.qr = append(st.qr, r)
	}
	k := maxTypos(len(st.qr))
	if k == 0 || len(st.qr) > maxTypoRunes {
		return terms
	}
	w := &st.typo
	w.out = w.out[:0]
	w.search(ix.trie, st.qr, k)
	freq := ix.df
	if titles {
		freq = ix.titleDF
	}
	cands := w.out[:0]
	for _, c := range w.out {
		if freq(c.term) > 0 && !slices.ContainsFunc(terms[from:], func(q queryTerm) bool { return q.term == c.term }) {
			cands = append(cands, c)
		}
	}
	slices.SortFunc(cands, func(a, b typoCand) int {
		if c := cmp.Compare(freq(b.term), freq(a.term)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.dist, b.dist); c != 0 {
			return c
		}
		return cmp.Compare(a.term, b.term)
	})
	for _, c := range cands[:min(len(cands), MaxTypoTerms)] {
		terms = append(terms, queryTerm{term: c.term, mult: typoWeight(c.dist), typo: true, group: group})
	}
	w.out = w.out[:0]
	return terms
}

// typoDistance returns the optimal-string-alignment distance between a and
// b if it is at most k, else k+1. scratch is reused for the matrix.
func typoDistance(a, b []rune, k int, scratch []int) (int, []int) {
	if d := len(a) - len(b); d > k || -d > k {
		return k + 1, scratch
	}
	stride := len(b) + 1
	scratch = slices.Grow(scratch[:0], (len(a)+1)*stride)[:(len(a)+1)*stride]
	d := scratch
	for j := 0; j <= len(b); j++ {
		d[j] = j
	}
	for i := 1; i <= len(a); i++ {
		row := d[i*stride:]
		prev := d[(i-1)*stride:]
		row[0] = i
		best := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j-1]+cost, prev[j]+1, row[j-1]+1)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, d[(i-2)*stride+j-2]+1)
			}
			row[j] = v
			best = min(best, v)
		}
		if best > k {
			return k + 1, scratch
		}
	}
	return min(d[len(a)*stride+len(b)], k+1), scratch
}
