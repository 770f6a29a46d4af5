package main

import (
	"cmp"
	"math"
	"slices"
)

// ranks returns the rank of every score (1 = smallest), ties given their average
// rank, as Spearman's ρ needs.
func ranks(s []float64) []float64 {
	idx := make([]int32, len(s))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(s[a], s[b]) })
	r := make([]float64, len(s))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && s[idx[j]] == s[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// spearman is Spearman's rank correlation of a and b: Pearson's correlation of
// their ranks, ties averaged.
func spearman(a, b []float64) float64 {
	return pearson(ranks(a), ranks(b))
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return sxy / math.Sqrt(sxx*syy)
}

// topK returns the k nodes with the highest scores, ties by node number.
func topK(s []float64, k int) []int32 {
	idx := make([]int32, len(s))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(s[b], s[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return idx[:min(k, len(idx))]
}

// overlap counts the nodes a and b share.
func overlap(a, b []int32) int {
	in := make(map[int32]bool, len(a))
	for _, v := range a {
		in[v] = true
	}
	n := 0
	for _, v := range b {
		if in[v] {
			n++
		}
	}
	return n
}

// diff returns the L1 distance of a and b and the largest relative difference of a
// score.
func diff(a, b []float64) (l1, maxRel float64) {
	for i := range a {
		d := math.Abs(a[i] - b[i])
		l1 += d
		maxRel = max(maxRel, d/b[i])
	}
	return l1, maxRel
}
