// Command similar measures Curio's item similarity (internal/similar, what
// BuildSimilarity computes) next to scikit-learn's exact TF-IDF cosine neighbours on the
// same documents in the same run: time, memory, and recall@10 of Curio's exact and
// budgeted searches against scikit-learn's exact top 10.
//
//	go run ./bench/similar -items 100000,1000000 -queries 2000
//
// Documents are the demo catalog as BuildSimilarity reads it (half movies, half
// artworks, demo seed 9, mapped like activities/similarity's catalogDocs). Tokenization
// and field weighting are Curio's, done in Go for both sides: Go writes each document's
// raw term weights (similar.TermWeights) as a CSR matrix to a temp directory, and
// peer.py (Debian's python3-sklearn, /usr/bin/python3) applies TfidfTransformer
// (smooth_idf=False: idf = ln(N/df)+1, then L2), which gives Curio's vectors, and finds
// the exact top 10 of the same type by a chunked sparse product on one core.
//
// Queries: every (N/queries)-th document in ID order, or every document for sizes up to
// -all-upto (default 0: none) (NeighborsShard(0, N/queries)); full-catalog times of sampled
// runs are extrapolated (per-query time × N, plus build or transform). Curio runs with
// GOMAXPROCS=1 (one goroutine, one core), then with 2 goroutines over NeighborsShard
// splits.
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/similar"
	"github.com/curiodata/curio/workflows"
)

//go:embed peer.py
var peerScript []byte

const (
	k        = similar.DefaultK
	minScore = similar.DefaultMinScore
)

func main() {
	items := flag.String("items", "100000,1000000", "comma-separated catalog sizes (half movies, half artworks)")
	queries := flag.Int("queries", 2000, "sampled queries per size: every (N/queries)-th document in ID order")
	allUpTo := flag.Int("all-upto", 0, "sizes up to this many documents query every document; larger ones the sampled queries")
	maxPostings := flag.Int("max-postings", workflows.DefaultSimilarityMaxPostings, "Options.MaxPostings of the bounded search (BuildSimilarity's default)")
	rescore := flag.Int("rescore", workflows.DefaultSimilarityRescore, "Options.Rescore of the bounded search (BuildSimilarity's default)")
	parExact := flag.Bool("parallel-exact", true, "also time the exact search on 2 goroutines")
	seed := flag.Int64("seed", 9, "demo catalog seed")
	python := flag.String("python", "/usr/bin/python3", "Python with Debian's python3-sklearn")
	method := flag.String("method", "auto", "peer search: spsp, spdense, nn or auto (fastest on the first 64 queries)")
	peerOnly := flag.Bool("peer-only", false, "run only the scikit-learn side (a memory check: no Curio, no pair check, no recall)")
	dirFlag := flag.String("dir", "", "work directory (default: a temp dir, removed at the end)")
	flag.Parse()
	log.SetFlags(0)

	dir := *dirFlag
	if dir == "" {
		d, err := os.MkdirTemp("", "curio-bench-similar-")
		check(err)
		defer os.RemoveAll(d)
		dir = d
	}
	check(os.MkdirAll(dir, 0o755))
	script := filepath.Join(dir, "peer.py")
	check(os.WriteFile(script, peerScript, 0o644))

	for _, f := range strings.Split(*items, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		stride := 1
		if n > *allUpTo {
			stride = max(1, n / *queries)
		}
		sdir := filepath.Join(dir, strconv.Itoa(n))
		check(os.MkdirAll(sdir, 0o755))
		fmt.Println(runSize(n, stride, *seed, sdir, script, *python, *method,
			similar.Options{MaxPostings: *maxPostings, Rescore: *rescore}, *parExact, *peerOnly))
	}
}

// catalog returns the demo catalog as similarity documents, in ID order, like
// activities/similarity's catalogDocs.
func catalog(n int, seed int64) []similar.Doc {
	var docs []similar.Doc
	err := demo.Records(demo.Options{Movies: n / 2, Artworks: n / 2, Seed: seed}, func(r domain.Record) error {
		if m := r.Movie; m != nil {
			docs = append(docs, similar.Doc{ID: m.ID, Type: string(domain.TypeMovie), Title: m.Title, Text: m.Plot, Tags: m.Genres,
				People: append(append([]string{}, m.Directors...), m.Cast...)})
		}
		if w := r.Artwork; w != nil {
			docs = append(docs, similar.Doc{ID: w.ID, Type: string(domain.TypeArtwork), Title: w.Title, Text: w.Description,
				Tags: slices.DeleteFunc([]string{w.Medium, w.Classification}, func(s string) bool { return s == "" }), People: w.Artists})
		}
		return nil
	})
	check(err)
	slices.SortFunc(docs, func(x, y similar.Doc) int { return strings.Compare(x.ID, y.ID) })
	return docs
}

// export writes the raw term-weight matrix (CSR: indptr int64, indices int32, data
// float64, little-endian), the type of every row (uint8) and the query rows (int64).
// It returns the vocabulary size and the number of non-zeros.
func export(docs []similar.Doc, types map[string]uint8, qrows []int, dir string) (v, nnz int) {
	create := func(name string) (*os.File, *bufio.Writer) {
		f, err := os.Create(filepath.Join(dir, name))
		check(err)
		return f, bufio.NewWriterSize(f, 1<<20)
	}
	fp, wp := create("indptr.i64")
	fi, wi := create("indices.i32")
	fd, wd := create("data.f64")
	ft, wt := create("types.u8")
	termNum := map[string]int32{}
	type tw struct {
		t int32
		w float64
	}
	var row []tw
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], 0)
	_, _ = wp.Write(b[:])
	for _, d := range docs {
		row = row[:0]
		for term, w := range similar.TermWeights(d) {
			t, ok := termNum[term]
			if !ok {
				t = int32(len(termNum))
				termNum[term] = t
			}
			row = append(row, tw{t, w})
		}
		slices.SortFunc(row, func(a, b tw) int { return int(a.t) - int(b.t) })
		for _, e := range row {
			binary.LittleEndian.PutUint32(b[:4], uint32(e.t))
			_, _ = wi.Write(b[:4])
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(e.w))
			_, _ = wd.Write(b[:])
		}
		nnz += len(row)
		binary.LittleEndian.PutUint64(b[:], uint64(nnz))
		_, _ = wp.Write(b[:])
		_ = wt.WriteByte(types[d.Type])
	}
	for _, fw := range []struct {
		f *os.File
		w *bufio.Writer
	}{{fp, wp}, {fi, wi}, {fd, wd}, {ft, wt}} {
		check(fw.w.Flush())
		check(fw.f.Close())
	}
	q := make([]byte, 0, 8*len(qrows))
	for _, r := range qrows {
		q = binary.LittleEndian.AppendUint64(q, uint64(r))
	}
	check(os.WriteFile(filepath.Join(dir, "queries.i64"), q, 0o644))
	return len(termNum), nnz
}

// timed is one timed Curio search over the query rows.
type timed struct {
	wall time.Duration
	res  map[string][]similar.Neighbor
}

// search runs NeighborsShard over the query rows (every stride-th document in ID order)
// on g goroutines: goroutine j takes the rows ≡ j·stride mod g·stride.
func search(m *similar.Model, stride, g int, opts similar.Options) timed {
	t0 := time.Now()
	parts := make([]map[string][]similar.Neighbor, g)
	var wg sync.WaitGroup
	for j := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[j] = m.NeighborsShard(j*stride, g*stride, opts)
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	res := parts[0]
	for _, p := range parts[1:] {
		for id, nb := range p {
			res[id] = nb
		}
	}
	return timed{wall, res}
}

// peerResult is peer.py's report.
type peerResult struct {
	LoadS       float64            `json:"load_s"`
	NNZ         int                `json:"nnz"`
	TransformS  float64            `json:"transform_s"`
	Pairs       int                `json:"pairs"`
	PairMaxDiff float64            `json:"pair_max_abs_diff"`
	PairExample [][]float64        `json:"pair_examples"`
	Calibration map[string]float64 `json:"calibration_us_per_query"`
	Method      string             `json:"method"`
	Queries     int                `json:"queries"`
	SearchS     float64            `json:"search_s"`
	MaxRSSKiB   float64            `json:"max_rss_kib"`
	RUMaxRSSKiB float64            `json:"ru_maxrss_kib"`
}

// recall is Curio's recall@k against the peer's exact top k.
type recall struct {
	hits, truth, queries, perfect, empty int
}

func (r recall) String() string {
	if r.truth == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", float64(r.hits)/float64(r.truth))
}

// score compares Curio's neighbours of each query with the peer's truth: the peer's
// top k with score ≥ MinScore; a Curio neighbour is a hit if its score reaches the
// truth's last score (ties at the k-th place are common), hits capped at the truth size.
func score(res map[string][]similar.Neighbor, ids []string, truth [][]float64) recall {
	var r recall
	for qi, id := range ids {
		t := truth[qi]
		if len(t) == 0 {
			r.empty++
			continue
		}
		thr := t[len(t)-1] - 1e-9
		h := 0
		for _, nb := range res[id] {
			if nb.Score >= thr {
				h++
			}
		}
		h = min(h, len(t))
		r.hits += h
		r.truth += len(t)
		r.queries++
		if h == len(t) {
			r.perfect++
		}
	}
	return r
}

func runSize(n, stride int, seed int64, dir, script, python, method string, bopts similar.Options, parExact, peerOnly bool) string {
	t0 := time.Now()
	docs := catalog(n, seed)
	genS := time.Since(t0).Seconds()
	types := map[string]uint8{}
	for _, d := range docs {
		if _, ok := types[d.Type]; !ok {
			types[d.Type] = 0
		}
	}
	tnames := make([]string, 0, len(types))
	for t := range types {
		tnames = append(tnames, t)
	}
	sort.Strings(tnames)
	for i, t := range tnames {
		types[t] = uint8(i)
	}
	var qrows []int
	for i := 0; i < len(docs); i += stride {
		qrows = append(qrows, i)
	}
	qids := make([]string, len(qrows))
	for j, r := range qrows {
		qids[j] = docs[r].ID
	}
	t0 = time.Now()
	v, nnz := export(docs, types, qrows, dir)
	exportS := time.Since(t0).Seconds()
	log.Printf("%d items: %d docs generated in %.1fs; %d queries (stride %d); exported %d terms, %d non-zeros in %.1fs",
		n, len(docs), genS, len(qrows), stride, v, nnz, exportS)

	if peerOnly {
		// Memory check of the peer alone (no Curio side, no pair check, no recall).
		check(os.WriteFile(filepath.Join(dir, "pairs.f64"), nil, 0o644))
		peer := runPeer(dir, script, python, method, len(docs), v)
		return fmt.Sprintf("peer only, %d docs, %d queries: method %s, transform %.2f s, search %.2f s (%.0f µs/query), peak RSS (VmHWM) %.0f MiB, ru_maxrss %.0f MiB",
			len(docs), peer.Queries, peer.Method, peer.TransformS, peer.SearchS, peer.SearchS/float64(peer.Queries)*1e6, peer.MaxRSSKiB/1024, peer.RUMaxRSSKiB/1024)
	}

	// Curio, one core.
	prevProcs := runtime.GOMAXPROCS(1)
	debug.FreeOSMemory()
	resetHWM := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapDocs := ms.HeapAlloc
	t0 = time.Now()
	m := similar.Build(docs)
	buildS := time.Since(t0).Seconds()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapModel := ms.HeapAlloc - heapDocs
	log.Printf("  Curio build %.2fs, model heap %.0f MiB", buildS, mib(heapModel))
	exact := search(m, stride, 1, similar.Options{})
	log.Printf("  Curio exact, 1 goroutine: %.2fs", exact.wall.Seconds())
	bounded := search(m, stride, 1, bopts)
	log.Printf("  Curio bounded, 1 goroutine: %.2fs", bounded.wall.Seconds())
	runtime.GOMAXPROCS(2)
	boundedPar := search(m, stride, 2, bopts)
	log.Printf("  Curio bounded, 2 goroutines: %.2fs", boundedPar.wall.Seconds())
	var exactPar timed
	if parExact {
		exactPar = search(m, stride, 2, similar.Options{})
		log.Printf("  Curio exact, 2 goroutines: %.2fs", exactPar.wall.Seconds())
		if !reflect.DeepEqual(exactPar.res, exact.res) {
			log.Printf("  WARNING: exact results differ between 1 and 2 goroutines")
		}
	}
	if !reflect.DeepEqual(boundedPar.res, bounded.res) {
		log.Printf("  WARNING: bounded results differ between 1 and 2 goroutines")
	}
	runtime.GOMAXPROCS(prevProcs)
	hwm := readHWM()
	heapPeak := ms.HeapSys

	// Pairs for the score check: Curio's exact neighbours of the first queries.
	rowOf := func(id string) int {
		i, ok := slices.BinarySearchFunc(docs, id, func(d similar.Doc, id string) int { return strings.Compare(d.ID, id) })
		if !ok {
			log.Fatalf("unknown id %s", id)
		}
		return i
	}
	var pairs []byte
	for j := 0; j < len(qrows) && j < 8; j++ {
		for _, nb := range exact.res[qids[j]] {
			for _, x := range []float64{float64(qrows[j]), float64(rowOf(nb.ID)), nb.Score} {
				pairs = binary.LittleEndian.AppendUint64(pairs, math.Float64bits(x))
			}
		}
	}
	check(os.WriteFile(filepath.Join(dir, "pairs.f64"), pairs, 0o644))
	m = nil
	runtime.GC()
	debug.FreeOSMemory()

	// scikit-learn.
	peer := runPeer(dir, script, python, method, len(docs), v)
	log.Printf("  sklearn (%s): transform %.2fs, search %.2fs; calibration µs/query %v", peer.Method, peer.TransformS, peer.SearchS, peer.Calibration)
	idxRaw, err := os.ReadFile(filepath.Join(dir, "nbr_idx.i32"))
	check(err)
	scRaw, err := os.ReadFile(filepath.Join(dir, "nbr_score.f64"))
	check(err)
	truth := make([][]float64, len(qrows))
	for j := range qrows {
		for c := range k {
			p := j*k + c
			if int32(binary.LittleEndian.Uint32(idxRaw[4*p:])) < 0 {
				break
			}
			truth[j] = append(truth[j], math.Float64frombits(binary.LittleEndian.Uint64(scRaw[8*p:])))
		}
	}

	// Agreement of the exact score lists (both sorted best first).
	same, maxDiff := 0, 0.0
	for j, id := range qids {
		c := exact.res[id]
		ok := len(c) == len(truth[j])
		for i := range min(len(c), len(truth[j])) {
			d := math.Abs(c[i].Score - truth[j][i])
			maxDiff = max(maxDiff, d)
			if d > 1e-6 {
				ok = false
			}
		}
		if ok {
			same++
		}
	}
	rExact, rBounded := score(exact.res, qids, truth), score(bounded.res, qids, truth)

	nq := len(qrows)
	full := nq == len(docs)
	perQ := func(wall time.Duration) float64 { return wall.Seconds() / float64(nq) * 1e6 }
	fullTime := func(setup float64, wall time.Duration) string {
		if full {
			return fmt.Sprintf("%.1f s", setup+wall.Seconds())
		}
		return fmt.Sprintf("≈ %.0f s (extrapolated)", setup+wall.Seconds()/float64(nq)*float64(len(docs)))
	}
	skPerQ := peer.SearchS / float64(peer.Queries) * 1e6
	var b strings.Builder
	fmt.Fprintf(&b, "\n**%s documents** (%s terms, %s non-zeros; %s queries%s)\n\n", commas(len(docs)), commas(v), commas(nnz), commas(nq),
		map[bool]string{true: ", every document", false: fmt.Sprintf(", every %s-th document", commas(stride))}[full])
	fmt.Fprintf(&b, "| side | build / transform | query wall | µs/query | vs sklearn | full catalog | peak RSS | recall@10 |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| scikit-learn exact (%s), 1 core | %.2f s | %.2f s | %s | 1.00 | %s | %.0f MiB | (truth) |\n",
		peer.Method, peer.TransformS, peer.SearchS, us(skPerQ), fullTime(peer.TransformS, time.Duration(peer.SearchS*float64(time.Second))), peer.MaxRSSKiB/1024)
	row := func(name string, setup float64, t timed, rec string, rss string) {
		fmt.Fprintf(&b, "| %s | %s | %.2f s | %s | %.2f | %s | %s | %s |\n", name, map[bool]string{true: fmt.Sprintf("%.2f s", setup), false: "(same model)"}[setup > 0],
			t.wall.Seconds(), us(perQ(t.wall)), perQ(t.wall)/skPerQ, fullTime(setup, t.wall), rss, rec)
	}
	rss := fmt.Sprintf("%.0f MiB", hwm/1024)
	if resetHWM != nil {
		rss += " (whole process)"
	}
	row("Curio exact, 1 goroutine", buildS, exact, rExact.String(), rss)
	row(fmt.Sprintf("Curio bounded (MaxPostings %s, Rescore %s), 1 goroutine", commas(bopts.MaxPostings), commas(bopts.Rescore)), buildS, bounded, rBounded.String(), "″")
	if parExact {
		row(fmt.Sprintf("Curio exact, 2 goroutines (×%.2f)", exact.wall.Seconds()/exactPar.wall.Seconds()), 0, exactPar, "same", "″")
	}
	row(fmt.Sprintf("Curio bounded, 2 goroutines (×%.2f)", bounded.wall.Seconds()/boundedPar.wall.Seconds()), 0, boundedPar, "same", "″")
	fmt.Fprintf(&b, "\nGo side: docs generated in %.1f s; tokenization + CSR export %.1f s (shared by both sides, not in either's time); "+
		"Curio model live heap %.0f MiB (heap sys after Build %.0f MiB); Curio peak RSS includes the []Doc (Go heap before Build %.0f MiB). "+
		"sklearn load of the CSR files %.2f s.\n", genS, exportS, mib(heapModel), mib(heapPeak), mib(heapDocs), peer.LoadS)
	fmt.Fprintf(&b, "Score check: %d (query, Curio neighbour) pairs, max |Curio − sklearn| = %.2e (examples %v).\n", peer.Pairs, peer.PairMaxDiff, peer.PairExample)
	fmt.Fprintf(&b, "Exact top-10 score lists identical (±1e-6, same length): %d of %d queries; max |diff| at equal rank %.2e.\n", same, nq, maxDiff)
	for _, x := range []struct {
		name string
		r    recall
	}{{"exact", rExact}, {"bounded", rBounded}} {
		fmt.Fprintf(&b, "Recall %s: %d / %d hits, %d of %d queries perfect; %d queries without any neighbour ≥ %.2f.\n",
			x.name, x.r.hits, x.r.truth, x.r.perfect, x.r.queries, x.r.empty, minScore)
	}
	fmt.Fprintf(&b, "sklearn peak RSS is its VmHWM; its getrusage ru_maxrss said %.0f MiB (inherits the Go parent's peak across exec).\n", peer.RUMaxRSSKiB/1024)
	if peer.Calibration != nil {
		fmt.Fprintf(&b, "sklearn methods on the first 64 queries (µs/query): spsp %.0f, spdense %.0f, NearestNeighbors %.0f.\n",
			peer.Calibration["spsp"], peer.Calibration["spdense"], peer.Calibration["nn"])
	}
	return b.String()
}

// runPeer runs peer.py on the exported matrix in dir.
func runPeer(dir, script, python, method string, n, v int) peerResult {
	meta, _ := json.Marshal(map[string]any{"n": n, "v": v, "k": k, "min_score": minScore, "method": method})
	check(os.WriteFile(filepath.Join(dir, "meta.json"), meta, 0o644))
	cmd := exec.Command(python, script, dir)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1")
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	check(cmd.Run())
	var peer peerResult
	check(json.Unmarshal(stdout.Bytes(), &peer))
	return peer
}

// readHWM returns this process's peak RSS (VmHWM) in KiB.
func readHWM() float64 {
	data, err := os.ReadFile("/proc/self/status")
	check(err)
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			v, err := strconv.ParseFloat(f[0], 64)
			check(err)
			return v
		}
	}
	return 0
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func us(v float64) string {
	if v >= 1000 {
		return commas(int(math.Round(v)))
	}
	return fmt.Sprintf("%.0f", v)
}

// commas formats n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
