package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// graphSpec shapes the generated click graph.
type graphSpec struct {
	Edges        int     // distinct (source, target) edges wanted
	EdgesPerNode float64 // edges per node: the node pool is Edges/EdgesPerNod
	GammaIn      float64 // power-law exponent of the in-degree distribution
	GammaOut     float64 // power-law exponent of the out-degree distribution
	Seed         uint64
}

// graphFiles is a generated graph on disk, read by both sides: edges.txt is one
// "source target" line per edge (node numbers 0..Nodes-1, what igraph's
// Read_Edgelist takes), weights.f64 the edges' click counts as little-endian
// float64 in the same order.
type graphFiles struct {
	Dir   string
	Nodes int
	Edges int
}

func (g graphFiles) edgesPath() string   { return filepath.Join(g.Dir, "edges.txt") }
func (g graphFiles) weightsPath() string { return filepath.Join(g.Dir, "weights.f64") }

// powerLaw samples ranks 0..n-1 with P(rank i) ∝ (i+1)^-alpha by inverting the
// continuous CDF (O(1) per sample, no tables). With alpha = 1/(gamma-1) the
// expected degrees follow a power law with exponent gamma (Chung–Lu).
type powerLaw struct {
	n, a, top float64 // a = 1-alpha, top = (n+1)^a - 1
}

func newPowerLaw(n int, gamma float64) powerLaw {
	a := 1 - 1/(gamma-1)
	return powerLaw{n: float64(n), a: a, top: math.Pow(float64(n+1), a) - 1}
}

func (p powerLaw) sample(r *rand.Rand) int {
	x := math.Pow(1+r.Float64()*p.top, 1/p.a)
	i := int(x) - 1
	if i < 0 {
		i = 0
	}
	if i >= int(p.n) {
		i = int(p.n) - 1
	}
	return i
}

// generate writes a reproducible directed click graph shaped like Wikipedia's
// clickstream: a Chung–Lu graph whose in- and out-degrees have independent
// heavy tails (in-rank is the node number, out-rank a random permutation of
// it), no self-loops, duplicate clicks summed into one weighted edge, heavy
// tailed click counts (at least 10, as in the published clickstream), nodes
// numbered in a random order so numbering says nothing about degree.
func generate(spec graphSpec, dir string) (graphFiles, error) {
	r := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15))
	pool := int(float64(spec.Edges) / spec.EdgesPerNode)
	in, out := newPowerLaw(pool, spec.GammaIn), newPowerLaw(pool, spec.GammaOut)
	outNode := r.Perm(pool)

	// Sample clicks until there are exactly spec.Edges distinct edges. A key packs
	// source (24 bits), target (24 bits) and the edge's number of sampled clicks
	// (16 bits, saturating), so sorting the keys and merging equal edges keeps
	// the array at one key per edge. Each round samples as many clicks as edges
	// are missing, so it never overshoots.
	if pool > 1<<24 {
		return graphFiles{}, fmt.Errorf("%d nodes: at most %d", pool, 1<<24)
	}
	const edgeMask = ^uint64(0xffff)
	var keys []uint64
	for len(keys) < spec.Edges {
		for range spec.Edges - len(keys) {
			s := outNode[out.sample(r)]
			t := in.sample(r)
			if s == t {
				continue
			}
			keys = append(keys, uint64(s)<<40|uint64(t)<<16|1)
		}
		slices.Sort(keys)
		merged := keys[:0]
		for _, k := range keys {
			if n := len(merged) - 1; n >= 0 && merged[n]&edgeMask == k&edgeMask {
				merged[n] = merged[n]&edgeMask | min(merged[n]&0xffff+k&0xffff, 0xffff)
				continue
			}
			merged = append(merged, k)
		}
		keys = merged
	}
	src := func(k uint64) uint64 { return k >> 40 }
	dst := func(k uint64) uint64 { return k >> 16 & (1<<24 - 1) }

	// Compact the node numbers to the nodes that occur, in a random order.
	present := make([]bool, pool)
	for _, k := range keys {
		present[src(k)], present[dst(k)] = true, true
	}
	id := make([]int32, pool)
	nodes := 0
	for _, v := range r.Perm(pool) {
		if present[v] {
			id[v] = int32(nodes)
			nodes++
		}
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return graphFiles{}, err
	}
	g := graphFiles{Dir: dir, Nodes: nodes, Edges: len(keys)}
	ef, err := os.Create(g.edgesPath())
	if err != nil {
		return g, err
	}
	defer ef.Close()
	wf, err := os.Create(g.weightsPath())
	if err != nil {
		return g, err
	}
	defer wf.Close()
	eb, wb := bufio.NewWriterSize(ef, 1<<20), bufio.NewWriterSize(wf, 1<<20)
	var line []byte
	var w8 [8]byte
	for _, k := range keys {
		// Per-edge click count: Pareto with tail index 1.2 and minimum 10 per
		// sampled click, drawn from the edge so it does not depend on order.
		u := (float64(splitmix(k&edgeMask)>>11) + 0.5) / (1 << 53)
		w := float64(k&0xffff) * math.Min(math.Floor(10*math.Pow(u, -1/1.2)), 1e9)
		line = strconv.AppendInt(line[:0], int64(id[src(k)]), 10)
		line = append(line, ' ')
		line = strconv.AppendInt(line, int64(id[dst(k)]), 10)
		line = append(line, '\n')
		eb.Write(line)
		binary.LittleEndian.PutUint64(w8[:], math.Float64bits(w))
		wb.Write(w8[:])
	}
	if err := eb.Flush(); err != nil {
		return g, err
	}
	if err := wb.Flush(); err != nil {
		return g, err
	}
	return g, nil
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// readEdges streams the graph's edges to fn.
func readEdges(g graphFiles, fn func(src, dst int, w float64)) error {
	ef, err := os.Open(g.edgesPath())
	if err != nil {
		return err
	}
	defer ef.Close()
	wf, err := os.Open(g.weightsPath())
	if err != nil {
		return err
	}
	defer wf.Close()
	es, wr := bufio.NewScanner(ef), bufio.NewReaderSize(wf, 1<<20)
	es.Buffer(make([]byte, 1<<16), 1<<16)
	var w8 [8]byte
	for es.Scan() {
		line := es.Bytes()
		sp := slices.Index(line, ' ')
		if sp < 0 {
			return fmt.Errorf("bad edge line %q", line)
		}
		src, err1 := strconv.Atoi(string(line[:sp]))
		dst, err2 := strconv.Atoi(string(line[sp+1:]))
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad edge line %q", line)
		}
		if _, err := io.ReadFull(wr, w8[:]); err != nil {
			return fmt.Errorf("weights: %w", err)
		}
		fn(src, dst, math.Float64frombits(binary.LittleEndian.Uint64(w8[:])))
	}
	return es.Err()
}

// readScores reads n little-endian float64 scores.
func readScores(path string, n int) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 8*n {
		return nil, fmt.Errorf("%s: %d bytes, want %d scores", path, len(b), n)
	}
	s := make([]float64, n)
	for i := range s {
		s[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return s, nil
}

func writeScores(path string, s []float64) error {
	b := make([]byte, 8*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return os.WriteFile(path, b, 0o644)
}
