package similar

import (
	"cmp"
	"slices"
)

// qterm is one rare term of a query: its weight, its postings restricted to the
// query's type, and the most it can add to any candidate's score.
type qterm struct {
	w  float64
	ps []posting
	ub float64
}

// neighborsBounded finds a document's neighbours with a bounded amount of work
// (Options.MaxPostings > 0).
//
// Candidate generation visits the query's terms by decreasing bound (the term's weight
// times the largest weight in its postings) and scans at most MaxPostings postings,
// skipping a term whose postings would exceed what is left (the first term is always
// scanned); it stops early, without loss, once the bounds of the terms left cannot lift
// any other document above the K-th best partial score (all weights are positive, so a
// partial dot product is a lower bound of the score). The Rescore candidates with the
// highest partial scores are then scored exactly, through a dense copy of the query, in
// the same term order as neighbors, so a neighbour's score is bit-identical to the exact
// path's; what the budget can cost is a neighbour that was never a candidate.
func (m *Model) neighborsBounded(q int32, opts Options, s *scratch) []Neighbor {
	budget, rescore := opts.MaxPostings, opts.Rescore
	qType := m.types[q]
	lo, hi := m.typeStart[qType], m.typeStart[qType+1]
	terms := s.qterms[:0]
	total := 0
	for _, e := range m.rare[q] {
		ps := m.postings[e.term]
		if len(ps) > 0 && (ps[0].doc < lo || ps[len(ps)-1].doc >= hi) {
			from, _ := slices.BinarySearchFunc(ps, lo, cmpPostingDoc)
			to, _ := slices.BinarySearchFunc(ps[from:], hi, cmpPostingDoc)
			ps = ps[from : from+to]
		}
		if len(ps) == 0 || (len(ps) == 1 && ps[0].doc == q) {
			continue
		}
		terms = append(terms, qterm{w: e.w, ps: ps, ub: e.w * m.maxW[e.term]})
		total += len(ps)
	}
	if float64(total) <= float64(budget)+float64(rescore)*m.meanLen && !opts.alwaysBound {
		// The exact search scans every posting (and completes each candidate's common
		// part); the bounded one scans up to the budget and then scores rescore candidates
		// exactly, about rescore × meanLen postings' worth. When every posting fits in that
		// much work, exact costs no more and loses nothing.
		s.qterms = terms[:0]
		return m.neighbors(q, opts, s)
	}
	slices.SortFunc(terms, func(a, b qterm) int {
		if c := cmp.Compare(b.ub, a.ub); c != 0 {
			return c
		}
		return cmp.Compare(len(a.ps), len(b.ps))
	})
	var rem float64 // bounds what the terms not yet scanned can add
	for _, t := range terms {
		rem += t.ub
	}
	qNorm := m.commonNorm[q]
	commonUB := qNorm * m.maxCommonNorm[qType]

	touched := s.touched[:0]
	threshold := opts.MinScore
	scanned := 0
	maxAcc := 0.0 // no partial score is higher, so neither is the K-th
	for j, t := range terms {
		if rem+commonUB+pruneSlack < threshold {
			break
		}
		if j > 0 && scanned+len(t.ps) > budget {
			continue
		}
		for _, p := range t.ps {
			if p.doc == q {
				continue
			}
			if !s.seen[p.doc] {
				s.seen[p.doc] = true
				touched = append(touched, p.doc)
			}
			s.acc[p.doc] += t.w * p.w
			maxAcc = max(maxAcc, s.acc[p.doc])
		}
		scanned += len(t.ps)
		rem -= t.ub
		// Selecting the K-th partial score costs a pass over the candidates: only when it
		// could stop the scan.
		if len(touched) >= opts.K && j+1 < len(terms) && rem+commonUB+pruneSlack < maxAcc {
			threshold = max(threshold, kthLargest(s, touched, opts.K))
		}
	}

	// Rescore the candidates with the best partial scores.
	cut := 0.0
	if len(touched) > rescore {
		cut = kthLargest(s, touched, rescore)
	}
	qc := s.qCommon
	for _, e := range m.commonOf(q) {
		qc[e.term] = e.w
	}
	if s.qRare == nil {
		s.qRare = make([]float64, len(m.postings))
	}
	qr := s.qRare
	for _, e := range m.rare[q] {
		qr[e.term] = e.w
	}
	top := s.top[:0]
	for _, d := range touched {
		acc := s.acc[d]
		s.acc[d] = 0
		s.seen[d] = false
		if acc < cut {
			continue
		}
		var common float64
		for _, e := range m.commonEnt[m.commonOff[d]:m.commonOff[d+1]] {
			common += qc[e.term] * e.w
		}
		var rare float64
		for _, e := range m.rare[d] {
			rare += qr[e.term] * e.w
		}
		score := rare + common
		if score > 1 {
			score = 1
		}
		if score < opts.MinScore {
			continue
		}
		top = pushTop(top, opts.K, cand{doc: d, score: score})
	}
	for _, e := range m.commonOf(q) {
		qc[e.term] = 0
	}
	for _, e := range m.rare[q] {
		qr[e.term] = 0
	}
	s.touched = touched[:0]
	s.top = top[:0]
	s.qterms = terms[:0]
	return sortedNeighbors(m, top)
}

// kthLargest returns the k-th largest partial score among the candidates (k ≤ len(ds)).
func kthLargest(s *scratch, ds []int32, k int) float64 {
	v := s.vals[:0]
	for _, d := range ds {
		v = append(v, s.acc[d])
	}
	s.vals = v
	return quickselect(v, k-1)
}

// quickselect returns the element that would be at index k if v were sorted in
// decreasing order. It reorders v.
func quickselect(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		p := v[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] > p {
				i++
			}
			for v[j] < p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}
