package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bquery "github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/curiodata/curio/internal/search"
)

// topK is the result depth every engine is asked for.
const topK = 10

// engine is a built, queryable index. Search must be safe for concurrent
// use by two goroutines.
type engine interface {
	Search(q string) ([]string, error) // IDs of the top topK hits, best first
	Close() error
}

// buildInfo describes how an engine was built.
type buildInfo struct {
	elapsed time.Duration
	memory  int64  // bytes: heap growth for in-process engines, table size for MariaDB
	note    string // extra detail for the notes under the table
}

// heapInUse returns the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// ---- Curio ----

type curioEngine struct{ ix *search.Index }

// buildCurio indexes docs the way the catalog batch does: BuildSegment per
// shard of segSize documents (GOMAXPROCS shards at a time, as parallel
// workers would), then NewIndex over all segments.
func buildCurio(docs []doc, segSize int) (*curioEngine, buildInfo, error) {
	base := heapInUse()
	start := time.Now()
	nSeg := (len(docs) + segSize - 1) / segSize
	segs := make([]*search.Segment, nSeg)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), nSeg) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= nSeg {
					return
				}
				part := docs[i*segSize : min(len(docs), (i+1)*segSize)]
				sd := make([]search.Doc, len(part))
				for j := range part {
					d := &part[j]
					sd[j] = search.Doc{ID: d.ID, Type: d.Type, Title: d.Title, People: d.People, Text: d.Text, Year: d.Year}
				}
				segs[i] = search.BuildSegment(sd)
			}
		})
	}
	wg.Wait()
	ix := search.NewIndex(segs...)
	elapsed := time.Since(start)
	segs = nil
	mem := heapInUse() - base
	st := ix.Stats()
	return &curioEngine{ix: ix}, buildInfo{
		elapsed: elapsed, memory: mem,
		note: fmt.Sprintf("%d segments of ≤%d docs, built %d at a time; %d terms, %d postings, Stats().Bytes %s",
			nSeg, segSize, min(runtime.GOMAXPROCS(0), nSeg), st.Terms, st.Postings, mib(st.Bytes)),
	}, nil
}

func (e *curioEngine) Search(q string) ([]string, error) {
	res := e.ix.Search(search.Query{Text: q, Limit: topK})
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}

func (e *curioEngine) Close() error { e.ix = nil; return nil }

// curioWholeWords is Curio with prefix matching of the last query word
// turned off (a trailing space), as a client would send a finished query.
type curioWholeWords struct{ *curioEngine }

func (e curioWholeWords) Search(q string) ([]string, error) { return e.curioEngine.Search(q + " ") }

// ---- Bleve ----

type bleveEngine struct{ idx bleve.Index }

// bleveDoc is what Bleve indexes; field names come from the json tags.
type bleveDoc struct {
	Title  string   `json:"title"`
	People []string `json:"people"`
	Text   string   `json:"text"`
}

// bleveMapping maps title, people and text as analyzed text (Unicode word
// segmentation, ASCII folding, lower case, English stop words; no term
// vectors, nothing stored) and selects BM25 scoring.
func bleveMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	im.ScoringModel = bindex.BM25Scoring
	err := im.AddCustomAnalyzer("folded", map[string]any{
		"type":          custom.Name,
		"char_filters":  []any{asciifolding.Name},
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name, en.StopName},
	})
	if err != nil {
		return nil, err
	}
	im.DefaultAnalyzer = "folded"
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	dm := bleve.NewDocumentStaticMapping()
	for _, f := range []string{"title", "people", "text"} {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = "folded"
		fm.Store = false
		fm.IncludeTermVectors = false
		fm.IncludeInAll = false
		fm.DocValues = false
		dm.AddFieldMappingsAt(f, fm)
	}
	im.DefaultMapping = dm
	return im, nil
}

// buildBleve indexes docs into an in-memory scorch index in batches of
// batchSize. (bleve.NewMemOnly uses the older upsidedown index, which has no
// field-length statistics and so cannot score BM25; in-memory scorch never
// merges its segments, so each batch stays one segment.)
func buildBleve(docs []doc, batchSize int) (*bleveEngine, buildInfo, error) {
	im, err := bleveMapping()
	if err != nil {
		return nil, buildInfo{}, err
	}
	base := heapInUse()
	start := time.Now()
	idx, err := bleve.NewUsing("", im, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, buildInfo{}, err
	}
	b := idx.NewBatch()
	for i := range docs {
		d := &docs[i]
		if err := b.Index(d.ID, bleveDoc{Title: d.Title, People: d.People, Text: d.Text}); err != nil {
			return nil, buildInfo{}, err
		}
		if b.Size() >= batchSize || i == len(docs)-1 {
			if err := idx.Batch(b); err != nil {
				return nil, buildInfo{}, err
			}
			b.Reset()
		}
	}
	elapsed := time.Since(start)
	b = nil
	mem := heapInUse() - base
	n, _ := idx.DocCount()
	if int(n) != len(docs) {
		return nil, buildInfo{}, fmt.Errorf("bleve: %d documents indexed, want %d", n, len(docs))
	}
	segs := ""
	if st, ok := idx.StatsMap()["index"].(map[string]any); ok {
		segs = fmt.Sprintf("; %v in-memory segments", st["num_root_memorysegments"])
	}
	return &bleveEngine{idx: idx}, buildInfo{
		elapsed: elapsed, memory: mem,
		note: fmt.Sprintf("in-memory scorch, batches of %d%s", batchSize, segs),
	}, nil
}

func (e *bleveEngine) Search(q string) ([]string, error) {
	var fields []bquery.Query
	for _, f := range []struct {
		name  string
		boost float64
	}{{"title", 3}, {"people", 2}, {"text", 1}} {
		m := bleve.NewMatchQuery(q)
		m.SetField(f.name)
		m.SetBoost(f.boost)
		fields = append(fields, m)
	}
	req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(fields...), topK, 0, false)
	res, err := e.idx.Search(req)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}

func (e *bleveEngine) Close() error { return e.idx.Close() }
