package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/search"
)

// doc is one corpus document in the shape every engine indexes: the same
// fields activities/catalogjob/catalog.go puts into search.Doc.
type doc struct {
	ID     string
	Type   string
	Title  string
	People []string
	Text   string
	Year   int
}

// genCorpus generates n documents from the demo catalog (half movies, half
// artworks; the MoMA artist records are skipped) and maps them the way the
// catalog shards do: movies get directors+cast as people and plot, kind and
// genres as text; artworks get their artists as people and description,
// medium, classification, department and nationalities as text.
func genCorpus(n int, seed int64) ([]doc, error) {
	movies, artworks := n/2, n-n/2
	docs := make([]doc, 0, n)
	none := func(k int) int { // demo.Options reads 0 as "the default", negative as none
		if k == 0 {
			return -1
		}
		return k
	}
	opts := demo.Options{Movies: none(movies), Artworks: none(artworks), Seed: seed}
	err := demo.Records(opts, func(r domain.Record) error {
		switch {
		case r.Movie != nil:
			m := r.Movie
			title := m.Title
			if m.OriginalTitle != "" && m.OriginalTitle != m.Title {
				title += " " + m.OriginalTitle
			}
			docs = append(docs, doc{
				ID: m.ID, Type: string(domain.TypeMovie), Title: title,
				People: append(slices.Clip(m.Directors), m.Cast...),
				Text:   strings.Join(append([]string{m.Plot, m.Kind}, m.Genres...), " "),
				Year:   m.Year,
			})
		case r.Artwork != nil:
			w := r.Artwork
			docs = append(docs, doc{
				ID: w.ID, Type: string(domain.TypeArtwork), Title: w.Title, People: w.Artists,
				Text: strings.Join(append([]string{w.Description, w.Medium, w.Classification, w.Department}, w.Nationalities...), " "),
				Year: w.Year,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(docs) != n {
		return nil, fmt.Errorf("corpus: generated %d documents, want %d", len(docs), n)
	}
	return docs, nil
}

// Query kinds.
const (
	kindExact       = "exact title"
	kindTitlePerson = "title + person"
	kindPartial     = "partial title"
	kindWord        = "single word"
)

// judgedKinds are the kinds that count towards MRR and S@1, in report order.
var judgedKinds = []string{kindExact, kindTitlePerson, kindPartial}

// query is one benchmark query with its judgments.
type query struct {
	Kind     string
	Text     string
	Source   int             // index of the document the query was drawn from
	Relevant map[string]bool // relevant document IDs; nil for kindWord

	// Constraint used to collect Relevant for the token-based kinds: the
	// folded title tokens a relevant title must contain and, for
	// kindTitlePerson, a folded token one of its people must contain.
	titleToks []string
	person    string
}

// makeQueries draws n queries from docs with a seeded random source: 40%
// known-item exact titles, 30% title words + a surname, 20% the two most
// distinctive title words, 10% single words (latency only), in random
// order. Relevance is
// derived from the corpus, so every document that satisfies a query's
// constraint is relevant, not only the one it was drawn from:
//
//   - exact title: every document whose title is byte-identical;
//   - title + person: every document whose title contains the chosen title
//     tokens and whose people contain the surname as a token;
//   - partial title: every document whose title contains both tokens.
//
// Tokens are compared after search.Tokenize (lower-cased, accent-folded).
func makeQueries(docs []doc, n int, seed int64) []query {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5EA4C4))

	// Title-token document frequencies, to pick distinctive words.
	titleDF := make(map[string]int32)
	for i := range docs {
		for _, t := range uniq(search.Tokenize(docs[i].Title)) {
			titleDF[t]++
		}
	}

	nExact := n * 40 / 100
	nTP := n * 30 / 100
	nPartial := n * 20 / 100
	nWord := n - nExact - nTP - nPartial
	qs := make([]query, 0, n)
	for tries := 0; len(qs) < nExact && tries < 100*n; tries++ {
		i := r.IntN(len(docs))
		if len(search.Tokenize(docs[i].Title)) == 0 {
			continue
		}
		qs = append(qs, query{Kind: kindExact, Text: docs[i].Title, Source: i})
	}
	for tries := 0; len(qs) < nExact+nTP && tries < 100*n; tries++ {
		i := r.IntN(len(docs))
		d := &docs[i]
		if len(d.People) == 0 {
			continue
		}
		words := distinctiveWords(d.Title, titleDF)
		if len(words) == 0 {
			continue
		}
		k := min(len(words), 1+r.IntN(2))
		surname := lastWord(d.People[0])
		stoks := search.Tokenize(surname)
		if len(stoks) != 1 {
			continue
		}
		var text []string
		var toks []string
		for _, w := range words[:k] {
			text = append(text, w.word)
			toks = append(toks, w.tok)
		}
		text = append(text, surname)
		qs = append(qs, query{Kind: kindTitlePerson, Text: strings.Join(text, " "), Source: i, titleToks: toks, person: stoks[0]})
	}
	for tries := 0; len(qs) < nExact+nTP+nPartial && tries < 100*n; tries++ {
		i := r.IntN(len(docs))
		words := distinctiveWords(docs[i].Title, titleDF)
		if len(words) < 2 {
			continue
		}
		qs = append(qs, query{Kind: kindPartial, Text: words[0].word + " " + words[1].word, Source: i,
			titleToks: []string{words[0].tok, words[1].tok}})
	}
	for tries := 0; len(qs) < n && tries < 100*n; tries++ {
		i := r.IntN(len(docs))
		field := docs[i].Title
		if r.IntN(2) == 0 {
			field = docs[i].Text
		}
		toks := search.Tokenize(field)
		if len(toks) == 0 {
			continue
		}
		t := toks[r.IntN(len(toks))]
		if len(t) < 3 { // MariaDB indexes no shorter words; keep latency queries comparable
			continue
		}
		qs = append(qs, query{Kind: kindWord, Text: t, Source: i})
	}
	_ = nWord
	judge(docs, qs)
	// Interleave the kinds, so that any prefix of the set is a fair sample.
	r.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
	return qs
}

// judge fills Relevant for every judged query in one pass over docs.
func judge(docs []doc, qs []query) {
	byTitle := make(map[string][]int)
	byTok := make(map[string][]int) // first constraint token -> queries
	for qi := range qs {
		q := &qs[qi]
		switch q.Kind {
		case kindExact:
			byTitle[q.Text] = append(byTitle[q.Text], qi)
		case kindTitlePerson, kindPartial:
			byTok[q.titleToks[0]] = append(byTok[q.titleToks[0]], qi)
		default:
			continue
		}
		q.Relevant = make(map[string]bool)
	}
	for i := range docs {
		d := &docs[i]
		for _, qi := range byTitle[d.Title] {
			qs[qi].Relevant[d.ID] = true
		}
		toks := search.Tokenize(d.Title)
		var people []string // tokenized lazily
		for _, t := range uniq(toks) {
			for _, qi := range byTok[t] {
				q := &qs[qi]
				if !containsAll(toks, q.titleToks) {
					continue
				}
				if q.Kind == kindTitlePerson {
					if people == nil {
						people = search.Tokenize(strings.Join(d.People, " "))
					}
					if !slices.Contains(people, q.person) {
						continue
					}
				}
				q.Relevant[d.ID] = true
			}
		}
	}
	for qi := range qs {
		q := &qs[qi]
		if q.Relevant != nil && !q.Relevant[docs[q.Source].ID] {
			panic(fmt.Sprintf("judge: query %q does not judge its own source %s relevant", q.Text, docs[q.Source].ID))
		}
	}
}

// titleWord is a word of a title with its folded token.
type titleWord struct{ word, tok string }

// distinctiveWords returns the distinct words of title that fold to exactly
// one non-stop token, rarest (lowest title document frequency) first.
func distinctiveWords(title string, df map[string]int32) []titleWord {
	var out []titleWord
	for _, w := range strings.Fields(title) {
		w = strings.Trim(w, "()[],.;:!?\"")
		toks := search.Tokenize(w)
		if len(toks) != 1 || search.IsStopWord(toks[0]) {
			continue
		}
		if slices.ContainsFunc(out, func(x titleWord) bool { return x.tok == toks[0] }) {
			continue
		}
		out = append(out, titleWord{word: w, tok: toks[0]})
	}
	slices.SortStableFunc(out, func(a, b titleWord) int { return int(df[a.tok] - df[b.tok]) })
	return out
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

func uniq(xs []string) []string {
	out := xs[:0:0]
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
