package main

import (
	"math"
	"testing"
)

func TestSpearman(t *testing.T) {
	for _, c := range []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		{[]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		// Textbook example with a tie: ranks (1, 2.5, 2.5, 4) vs (1, 2, 3, 4).
		{[]float64{1, 2, 2, 3}, []float64{5, 6, 7, 8}, 0.9486832980505138},
	} {
		if got := spearman(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("spearman(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestTopKOverlap(t *testing.T) {
	a := []float64{0.1, 0.5, 0.2, 0.5, 0.05}
	b := []float64{0.5, 0.4, 0.01, 0.3, 0.02}
	if got := topK(a, 2); got[0] != 1 || got[1] != 3 {
		t.Errorf("topK = %v, want [1 3]", got)
	}
	if got := overlap(topK(a, 3), topK(b, 3)); got != 2 {
		t.Errorf("overlap = %d, want 2", got)
	}
}
