// Command pagerank measures Curio's PageRank (internal/pagerank, the reduce step of
// ClickstreamPageRank) next to python3-igraph's PRPACK PageRank (C, single thread) on
// the same generated click graphs in the same run: wall time, peak memory, and how
// well Curio's ranking agrees with igraph's (Spearman ρ over all nodes, overlap of the
// top 100).
//
//	go run ./bench/pagerank -edges 1000000,10000000,30000000
//
// For each size it generates a reproducible power-law click graph (about 6 edges per
// node, like Wikipedia's English clickstream: ~5M articles for 30M edges) into a temp
// directory once, then runs each side as its own process so peak RSS (getrusage of the
// child) compares like with like. Both sides read the same files; loading is timed apart
// from the PageRank computation. Needs Debian's python3-igraph (/usr/bin/python3).
package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/curiodata/curio/internal/pagerank"
)

//go:embed igraph_pagerank.py
var igraphScript []byte

// idPrefix makes node IDs look like the job's item IDs in length (20 bytes, about an
// English Wikipedia title); the fixed-width number keeps ID order equal to node
// number order, so both sides see the nodes in the same order.
const idPrefix = "Wiki_Article"

func nodeID(b []byte, n int) []byte {
	b = append(b, idPrefix...)
	s := strconv.Itoa(n)
	for range 8 - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// sideResult is what a side reports about one run.
type sideResult struct {
	Nodes       int     `json:"nodes"`
	Edges       int     `json:"edges"`
	LoadS       float64 `json:"load_s"`
	ComputeS    float64 `json:"compute_s"`
	ComputeCPUS float64 `json:"compute_cpu_s"`
	LoadPeakMiB float64 `json:"load_peak_mib"`
	PeakMiB     float64 `json:"peak_mib"`
	Iterations  int     `json:"iterations,omitempty"`
	Converged   bool    `json:"converged,omitempty"`
	HeapEdgesMB float64 `json:"heap_edges_mib,omitempty"`
	// Filled in by the parent from the child's rusage.
	ChildMaxRSSMiB float64 `json:"-"`
	CPUS           float64 `json:"-"`
}

func main() {
	sizes := flag.String("edges", "1000000,10000000,30000000", "comma-separated edge counts")
	perNode := flag.Float64("edges-per-node", 6, "edges per node (English clickstream: ~30M edges, ~5M articles)")
	gammaIn := flag.Float64("gamma-in", 2.2, "power-law exponent of in-degrees")
	gammaOut := flag.Float64("gamma-out", 2.6, "power-law exponent of out-degrees")
	seed := flag.Uint64("seed", 1, "generator seed")
	procs := flag.Int("procs", 1, "GOMAXPROCS of Curio's process (1: single thread, like igraph)")
	python := flag.String("python", "/usr/bin/python3", "Python with Debian's python3-igraph")
	runs := flag.Int("runs", 1, "runs of each side per size; the fastest PageRank is reported (the machine is shared)")
	keep := flag.String("dir", "", "work directory (default: a temp dir, removed at the end)")
	child := flag.String("child", "", "internal: run Curio's side on this graph directory")
	childNodes := flag.Int("child-nodes", 0, "internal: the graph's node count")
	cpuProfile := flag.String("cpuprofile", "", "internal: write a CPU profile of Curio's compute here")
	flag.Parse()
	log.SetFlags(0)

	if *child != "" {
		if err := runCurio(graphFiles{Dir: *child, Nodes: *childNodes}, *cpuProfile); err != nil {
			log.Fatal(err)
		}
		return
	}

	dir := *keep
	if dir == "" {
		d, err := os.MkdirTemp("", "curio-bench-pagerank-")
		check(err)
		defer os.RemoveAll(d)
		dir = d
	}
	check(os.MkdirAll(dir, 0o755))
	script := filepath.Join(dir, "igraph_pagerank.py")
	check(os.WriteFile(script, igraphScript, 0o644))
	self, err := os.Executable()
	check(err)

	fmt.Printf("| edges | nodes | Curio load | Curio PageRank (CPU) | igraph load | igraph PageRank (CPU) | ratio wall (CPU) | Curio peak RSS | igraph peak RSS | ρ | top-100 |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|\n")
	var notes []string
	for _, f := range strings.Split(*sizes, ",") {
		m, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		gdir := filepath.Join(dir, f)
		t0 := time.Now()
		g, err := generate(graphSpec{Edges: m, EdgesPerNode: *perNode, GammaIn: *gammaIn, GammaOut: *gammaOut, Seed: *seed}, gdir)
		check(err)
		log.Printf("%d edges: generated %d nodes, %d edges in %.1fs", m, g.Nodes, g.Edges, time.Since(t0).Seconds())

		var ig, cu sideResult
		prof := filepath.Join(dir, fmt.Sprintf("curio-%d.pprof", m))
		for run := range *runs {
			// Alternate which side goes first, so neither always runs on a cold page cache.
			sides := []func(){
				func() {
					cmd := exec.Command(*python, script, gdir, strconv.FormatFloat(pagerank.DefaultDamping, 'g', -1, 64))
					// Debian's PRPACK is built with OpenMP: one thread, like Curio's.
					cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
					ig = fastest(ig, runChild(cmd), run)
				},
				func() {
					cmd := exec.Command(self, "-child", gdir, "-child-nodes", strconv.Itoa(g.Nodes), "-cpuprofile", prof)
					cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(*procs))
					cu = fastest(cu, runChild(cmd), run)
				},
			}
			if run%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, f := range sides {
				f()
			}
		}
		if *keep != "" {
			log.Printf("CPU profile of Curio's compute: %s", prof)
		}
		if ig.Nodes != g.Nodes || ig.Edges != g.Edges || cu.Nodes != g.Nodes {
			log.Fatalf("node/edge counts differ: generated %d/%d, igraph %d/%d, Curio %d nodes", g.Nodes, g.Edges, ig.Nodes, ig.Edges, cu.Nodes)
		}

		cs, err := readScores(filepath.Join(gdir, "curio.f64"), g.Nodes)
		check(err)
		is, err := readScores(filepath.Join(gdir, "igraph.f64"), g.Nodes)
		check(err)
		rho := spearman(cs, is)
		top := overlap(topK(cs, 100), topK(is, 100))
		l1, maxRel := diff(cs, is)
		check(os.RemoveAll(gdir))

		fmt.Printf("| %s | %s | %.2f s | %.2f s (%.2f s) | %.2f s | %.2f s (%.2f s) | %.2f× (%.2f×) | %s | %s | %.6f | %d |\n",
			thousands(g.Edges), thousands(g.Nodes), cu.LoadS, cu.ComputeS, cu.ComputeCPUS, ig.LoadS, ig.ComputeS, ig.ComputeCPUS,
			cu.ComputeS/ig.ComputeS, cu.ComputeCPUS/ig.ComputeCPUS, mib(cu.ChildMaxRSSMiB), mib(ig.ChildMaxRSSMiB), rho, top)
		notes = append(notes, fmt.Sprintf("%s edges: Curio %d iterations (converged %v), process CPU %.2f s, RSS after load %s, Go heap of the loaded edges %s (%.0f B/edge), L1(curio−igraph) %.2e, max relative score difference %.2e; igraph process CPU %.2f s, RSS after load %s",
			thousands(g.Edges), cu.Iterations, cu.Converged, cu.CPUS, mib(cu.LoadPeakMiB), mib(cu.HeapEdgesMB), cu.HeapEdgesMB*(1<<20)/float64(g.Edges), l1, maxRel,
			ig.CPUS, mib(ig.LoadPeakMiB)))
	}
	fmt.Println()
	for _, n := range notes {
		fmt.Println("- " + n)
	}
}

// fastest keeps the run with the shorter PageRank wall time and the larger peak RSS.
func fastest(best, r sideResult, run int) sideResult {
	if run == 0 {
		return r
	}
	peak := max(best.ChildMaxRSSMiB, r.ChildMaxRSSMiB)
	if r.ComputeS < best.ComputeS {
		best = r
	}
	best.ChildMaxRSSMiB = peak
	return best
}

// runChild runs cmd, decodes the JSON line it prints and adds the child's peak RSS
// and CPU time from its rusage.
func runChild(cmd *exec.Cmd) sideResult {
	var out bytes.Buffer
	var res sideResult
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s: %v\n%s", cmd.Path, err, out.String())
	}
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &res); err != nil {
		log.Fatalf("%s: %v in %q", cmd.Path, err, out.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	res.ChildMaxRSSMiB = float64(ru.Maxrss) / 1024
	res.CPUS = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return res
}

// runCurio is Curio's side: load the edges as the job's reduce holds them (one Edge per
// row with the item ids interned — one string per item — as the store's ClickEdges reads
// them from click_edges), run pagerank.Compute with the job's options, write the scores by
// node number.
func runCurio(g graphFiles, cpuProfile string) error {
	t0 := time.Now()
	edges := make([]pagerank.Edge, 0, 1024)
	var buf []byte
	ids := map[string]string{}
	intern := func(b []byte) string {
		if id, ok := ids[string(b)]; ok {
			return id
		}
		id := string(b)
		ids[id] = id
		return id
	}
	err := readEdges(g, func(src, dst int, w float64) {
		buf = nodeID(buf[:0], src)
		from := intern(buf)
		buf = nodeID(buf[:0], dst)
		edges = append(edges, pagerank.Edge{From: from, To: intern(buf), Weight: w})
	})
	ids = nil // the store's map is gone once ClickEdges returns
	if err != nil {
		return err
	}
	// Like the job's slice from pgx.CollectRows, it keeps the spare capacity of
	// growing by append.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	loadS := time.Since(t0).Seconds()
	loadPeak := peakRSSMiB()

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	t1, c1 := time.Now(), cpuSeconds()
	res := pagerank.Compute(edges, pagerank.Options{}) // what ComputePageRank passes
	computeS, computeCPU := time.Since(t1).Seconds(), cpuSeconds()-c1
	pprof.StopCPUProfile()
	runtime.KeepAlive(edges)

	scores := make([]float64, g.Nodes)
	for _, r := range res.Ranks {
		n, err := strconv.Atoi(strings.TrimPrefix(r.ID, idPrefix))
		if err != nil || n >= g.Nodes {
			return fmt.Errorf("unexpected ID %q", r.ID)
		}
		scores[n] = r.Score
	}
	if err := writeScores(filepath.Join(g.Dir, "curio.f64"), scores); err != nil {
		return err
	}
	debug.FreeOSMemory()
	return json.NewEncoder(os.Stdout).Encode(sideResult{
		Nodes: len(res.Ranks), Edges: len(edges), LoadS: loadS, ComputeS: computeS, ComputeCPUS: computeCPU,
		LoadPeakMiB: loadPeak, PeakMiB: peakRSSMiB(), Iterations: res.Iterations, Converged: res.Converged,
		HeapEdgesMB: float64(ms.HeapAlloc) / (1 << 20),
	})
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}

func mib(v float64) string {
	if v >= 1024 {
		return fmt.Sprintf("%.2f GiB", v/1024)
	}
	return fmt.Sprintf("%.0f MiB", v)
}

func thousands(n int) string {
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
