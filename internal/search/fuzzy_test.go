package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func typoDocs() []Doc {
	return append(filler(20),
		Doc{ID: "m1", Type: "movie", Title: "The Matrix", People: []string{"Lana Wachowski", "Lilly Wachowski"}, Year: 1999},
		Doc{ID: "m2", Type: "movie", Title: "The Matrix Reloaded", People: []string{"Lana Wachowski"}, Year: 2003},
		Doc{ID: "a1", Type: "artwork", Title: "Matrix Study", Text: "ink", Year: 1960},
		Doc{ID: "k1", Type: "movie", Title: "Kestrel"},
		Doc{ID: "k2", Type: "movie", Title: "Falcon"},
		Doc{ID: "c1", Type: "movie", Title: "Cat People"},
		Doc{ID: "n1", Type: "movie", Title: "Natrium"},
	)
}

func TestTypoTolerance(t *testing.T) {
	ix := NewIndex(BuildSegment(typoDocs()))
	off := false
	tests := []struct {
		name      string
		q         Query
		want      []string // as a set
		corrected bool
	}{
		{"transposition", Query{Text: "matirx "}, []string{"m1", "m2", "a1"}, true},
		{"transposition as prefix word", Query{Text: "matirx"}, []string{"m1", "m2", "a1"}, true},
		{"adjacent transposition at end", Query{Text: "matrxi "}, []string{"m1", "m2", "a1"}, true},
		{"deletion", Query{Text: "matix "}, []string{"m1", "m2", "a1"}, true},
		{"insertion", Query{Text: "matrixx "}, []string{"m1", "m2", "a1"}, true},
		{"substitution long word", Query{Text: "wachowsky"}, []string{"m1", "m2"}, true},
		{"two typos long word", Query{Text: "wahcowsky "}, []string{"m1", "m2"}, true},
		{"two typos too many for 7 letters", Query{Text: "mtarixx "}, nil, false},
		{"three typos too many", Query{Text: "wahcowskyy "}, nil, false},
		{"no typo for 3 letters", Query{Text: "cta "}, nil, false},
		{"no typo for 3 letters prefix", Query{Text: "cot"}, nil, false},
		{"first letter must match", Query{Text: "natrix "}, nil, false},
		{"first letter transposition", Query{Text: "amtrix "}, nil, false},
		{"exact word no correction", Query{Text: "matrix "}, []string{"m1", "m2", "a1"}, false},
		{"prefix wins over typo", Query{Text: "relo"}, []string{"m2"}, false},
		{"typo with exact word", Query{Text: "matirx reloaded "}, []string{"m1", "m2", "a1"}, true},
		{"fuzzy off", Query{Text: "matirx ", Fuzzy: &off}, nil, false},
		{"type filter hides typo matches", Query{Text: "wachowsky", Type: "artwork"}, nil, false},
		{"typo matches filtered out", Query{Text: "matirx study ", Filters: map[string][]string{"type": {"artwork"}}}, []string{"a1"}, true},
		{"corrected only if typo docs pass", Query{Text: "wachowsky ink ", Filters: map[string][]string{"decade": {"1960s"}}}, []string{"a1"}, false},
		{"corrected only if typo docs pass the type", Query{Text: "wachowsky ink ", Type: "artwork"}, []string{"a1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ix.Search(tt.q)
			got := hitIDs(r)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) || r.Total != len(want) || r.Corrected != tt.corrected {
				t.Fatalf("hits %v (Total %d, Corrected %v), want %v (Corrected %v)", got, r.Total, r.Corrected, want, tt.corrected)
			}
		})
	}
}

func TestTypoScoring(t *testing.T) {
	ix := NewIndex(BuildSegment(typoDocs()))
	exact := scoreOf(t, ix.Search(Query{Text: "wachowski "}), "m1")
	one := scoreOf(t, ix.Search(Query{Text: "wachowsky "}), "m1")
	two := scoreOf(t, ix.Search(Query{Text: "wahcowsky "}), "m1")
	if math.Abs(one/exact-typoWeight1) > 1e-6 || math.Abs(two/exact-typoWeight2) > 1e-6 {
		t.Fatalf("typo/exact score ratios %v, %v; want %v, %v", one/exact, two/exact, typoWeight1, typoWeight2)
	}

	// Exact beats typo: "kestrel" and "falcon" occur once each, in titles of
	// the same length, so the documents are of the same quality.
	r := ix.Search(Query{Text: "kestrel falcom "})
	if ids := hitIDs(r); !slices.Equal(ids, []string{"k1", "k2"}) || !r.Corrected {
		t.Fatalf("hits %v (Corrected %v), want exact k1 before typo k2", ids, r.Corrected)
	}
	r = ix.Search(Query{Text: "kestrle falcon "})
	if ids := hitIDs(r); !slices.Equal(ids, []string{"k2", "k1"}) {
		t.Fatalf("hits %v, want exact k2 before typo k1", ids)
	}
	// A typo expansion equal to an exact query term is not counted twice.
	both := ix.Search(Query{Text: "matrix matirx "})
	if s, e := scoreOf(t, both, "a1"), scoreOf(t, ix.Search(Query{Text: "matrix "}), "a1"); math.Abs(s-e) > 1e-9 {
		t.Fatalf("matrix matirx scored %v, matrix alone %v", s, e)
	}
	// A repeated misspelling is expanded once.
	if s1, s2 := scoreOf(t, ix.Search(Query{Text: "matirx "}), "a1"), scoreOf(t, ix.Search(Query{Text: "matirx matirx "}), "a1"); s1 != s2 {
		t.Fatalf("repeated misspelling scored %v, once %v", s2, s1)
	}
}

func TestTypoExpansionCap(t *testing.T) {
	// stamXX occurs in k+1 documents for the k-th letter X; "stamp" is one
	// substitution from each of the 15 terms stama..stamo, so only the 10
	// most frequent (stamf..stamo) may be used.
	var docs []Doc
	for k := range 15 {
		for j := 0; j <= k; j++ {
			docs = append(docs, Doc{ID: fmt.Sprintf("d%02d-%02d", k, j), Type: "movie", Title: "stam" + string(rune('a'+k))})
		}
	}
	ix := NewIndex(BuildSegment(docs))
	r := ix.Search(Query{Text: "stamp "})
	want := 0
	for k := 5; k < 15; k++ {
		want += k + 1
	}
	if r.Total != want || !r.Corrected {
		t.Fatalf("Total = %d (Corrected %v), want %d", r.Total, r.Corrected, want)
	}
}

func TestMaxTypos(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 0, 3: 0, 4: 1, 7: 1, 8: 2, 20: 2} {
		if got := maxTypos(n); got != want {
			t.Errorf("maxTypos(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestTypoDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"matrix", "matrix", 0},
		{"matrix", "matirx", 1},
		{"matrix", "matrxi", 1},
		{"matrix", "matix", 1},
		{"matrix", "matrixx", 1},
		{"matrix", "matrox", 1},
		{"wachowski", "wahcowsky", 2},
		{"ca", "abc", 3}, // OSA: no edit of a transposed pair
		{"", "abc", 3},
		{"zoë", "zoe", 1},
		{"abcdef", "badcfe", 3},
	}
	var scratch []int
	for _, tt := range tests {
		for k := range 4 {
			var got int
			got, scratch = typoDistance([]rune(tt.a), []rune(tt.b), k, scratch)
			if want := min(tt.want, k+1); got != want {
				t.Errorf("typoDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, k, got, want)
			}
		}
	}
}

// TestTrieSearch compares the trie walk with a brute-force scan of the
// dictionary.
func TestTrieSearch(t *testing.T) {
	docs := synthCorpus(1500, 9)
	docs = append(docs, Doc{ID: "x", Type: "movie", Title: "Zoë Zoé zoo zoology zo ζωή ζωήσ 東京 東都 kaa kab kba"})
	ix := NewIndex(BuildSegment(docs))
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aeiklmnorstuzöé東ζω")
	var (
		st      searchState
		scratch []int
	)
	queries := []string{"zoe", "zoo", "zoologi", "ζωη", "東京都", "kaab", "kbaa"}
	for range 400 {
		// A mutated dictionary word or a random string.
		var q []rune
		if r.IntN(4) > 0 {
			q = []rune(ix.term(r.IntN(len(ix.termEnd))))
			for range 1 + r.IntN(3) {
				p := r.IntN(len(q) + 1)
				switch r.IntN(3) {
				case 0:
					q = slices.Insert(q, p, alphabet[r.IntN(len(alphabet))])
				case 1:
					if p < len(q) {
						q = slices.Delete(q, p, p+1)
					}
				default:
					if p+1 < len(q) {
						q[p], q[p+1] = q[p+1], q[p]
					}
				}
			}
		} else {
			for range 1 + r.IntN(10) {
				q = append(q, alphabet[r.IntN(len(alphabet))])
			}
		}
		if len(q) > 0 {
			queries = append(queries, string(q))
		}
	}
	for _, q := range queries {
		qr := []rune(q)
		for k := 1; k <= 2; k++ {
			st.typo.out = st.typo.out[:0]
			st.typo.search(ix.trie, qr, k)
			got := map[int]uint8{}
			for _, c := range st.typo.out {
				got[c.term] = c.dist
			}
			want := map[int]uint8{}
			for ti := range ix.termEnd {
				tr := []rune(ix.term(ti))
				if tr[0] != qr[0] {
					continue
				}
				var d int
				d, scratch = typoDistance(tr, qr, k, scratch)
				if d >= 1 && d <= k {
					want[ti] = uint8(d)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%q k=%d: trie found %d terms, brute force %d", q, k, len(got), len(want))
			}
			for ti, d := range want {
				if got[ti] != d {
					t.Fatalf("%q k=%d: term %q distance %d, trie says %d", q, k, ix.term(ti), d, got[ti])
				}
			}
		}
	}
}

func TestTrieShape(t *testing.T) {
	ix := NewIndex(BuildSegment(synthCorpus(300, 4)))
	tr := ix.trie
	// Every term is reachable by its runes and ends at its own node.
	for ti := range ix.termEnd {
		n := uint32(0)
		for _, r := range ix.term(ti) {
			kids := tr.label[tr.first[n]:tr.first[n+1]]
			i, ok := slices.BinarySearch(kids, r)
			if !ok {
				t.Fatalf("term %q: rune %q not found", ix.term(ti), r)
			}
			n = tr.first[n] + uint32(i)
		}
		if tr.term[n] != int32(ti) {
			t.Fatalf("term %q ends at node %d holding %d", ix.term(ti), n, tr.term[n])
		}
	}
	if empty := NewIndex(); len(empty.trie.first) != 2 {
		t.Fatalf("empty trie: %+v", empty.trie)
	}
}
