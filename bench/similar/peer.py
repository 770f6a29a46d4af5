"""scikit-learn side of bench/similar: exact TF-IDF cosine top-k neighbours.

Usage: peer.py DIR   (DIR written by bench/similar; see main.go)

Reads the raw (pre-IDF) term-weight matrix that Go exported (tokenization and field
weighting are Curio's, done in Go for both sides), turns it into TF-IDF vectors with
TfidfTransformer(norm="l2", use_idf=True, smooth_idf=False, sublinear_tf=False), which
is Curio's weighting (idf = ln(N/df) + 1, L2 norm), checks a few pair scores against
Curio's, then finds for each query row its exact top-k neighbours among the rows of the
same type, excluding itself, with score >= min_score. Writes nbr_idx.i32 / nbr_score.f64
(queries x k, -1 / 0 padded) to DIR and prints one JSON object on stdout.

Search methods (one core; the caller sets OMP/BLAS threads to 1):
  spsp    (Q_chunk @ X_type.T).toarray(), then argpartition: a chunked sparse x sparse
          product, what NearestNeighbors(metric="cosine", algorithm="brute") computes;
  spdense X_type @ Q_chunk.T.toarray(): sparse x dense, the output dense from the start;
  nn      NearestNeighbors(n_neighbors=k+1, metric="cosine", algorithm="brute").kneighbors.
  auto    times each on the first queries (not counted) and uses the fastest.
"""

import json
import os
import resource
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.neighbors import NearestNeighbors


def vm_hwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def chunk_rows(n_type):
    # Bound the dense score block of one chunk to ~16M float64 (128 MiB).
    return int(max(8, min(1024, 16_000_000 // max(n_type, 1))))


def top_k_rows(S, self_local, k, min_score):
    """Top k per row of a dense score block, self excluded, best first (ties: lower index)."""
    c = S.shape[0]
    S[np.arange(c), self_local] = -np.inf
    kk = min(k, S.shape[1] - 1)
    if kk <= 0:
        return np.full((c, k), -1, np.int64), np.zeros((c, k))
    part = np.argpartition(-S, kk - 1, axis=1)[:, :kk]
    sc = np.take_along_axis(S, part, axis=1)
    order = np.lexsort((part, -sc), axis=1)
    idx = np.take_along_axis(part, order, axis=1)
    sc = np.take_along_axis(sc, order, axis=1)
    idx = np.where(sc >= min_score, idx, -1)
    sc = np.where(sc >= min_score, sc, 0.0)
    if kk < k:
        idx = np.pad(idx, ((0, 0), (0, k - kk)), constant_values=-1)
        sc = np.pad(sc, ((0, 0), (0, k - kk)))
    return idx, sc


class TypeIndex:
    """The rows of one type, prepared for one method."""

    def __init__(self, X, rows, method, k):
        self.rows = rows
        self.method = method
        self.k = k
        Xt = X[rows]
        self.n = Xt.shape[0]
        if method == "spsp":
            self.XtT = Xt.T.tocsr()
        elif method == "spdense":
            self.Xt = Xt
        elif method == "nn":
            self.nn = NearestNeighbors(n_neighbors=min(k + 1, self.n), metric="cosine", algorithm="brute").fit(Xt)

    def search(self, X, qrows, min_score):
        """Top k (global row index, score) of each query row, best first."""
        k = self.k
        local = np.searchsorted(self.rows, qrows)
        out_i = np.full((len(qrows), k), -1, np.int64)
        out_s = np.zeros((len(qrows), k))
        c = chunk_rows(self.n)
        for a in range(0, len(qrows), c):
            b = min(a + c, len(qrows))
            Q = X[qrows[a:b]]
            if self.method == "nn":
                dist, ind = self.nn.kneighbors(Q)
                sc = 1.0 - dist
                for r in range(b - a):
                    keep = [(s, i) for s, i in zip(sc[r], ind[r]) if i != local[a + r]]
                    keep.sort(key=lambda t: (-t[0], t[1]))
                    keep = [(s, i) for s, i in keep[:k] if s >= min_score]
                    for j, (s, i) in enumerate(keep):
                        out_i[a + r, j] = i
                        out_s[a + r, j] = s
                continue
            if self.method == "spsp":
                S = (Q @ self.XtT).toarray()
            else:
                S = np.asarray(self.Xt @ Q.T.toarray()).T.copy()
            idx, sc = top_k_rows(S, local[a:b], k, min_score)
            out_i[a:b] = idx
            out_s[a:b] = sc
        glob = np.where(out_i >= 0, self.rows[np.maximum(out_i, 0)], -1)
        return glob, out_s


def search_all(X, types, queries, method, k, min_score):
    """Top k of every query, in query order; returns (idx, score, seconds)."""
    t0 = time.perf_counter()
    out_i = np.full((len(queries), k), -1, np.int64)
    out_s = np.zeros((len(queries), k))
    for t in np.unique(types):
        rows = np.flatnonzero(types == t)
        sel = np.flatnonzero(types[queries] == t)
        if len(sel) == 0:
            continue
        ti = TypeIndex(X, rows, method, k)
        gi, gs = ti.search(X, queries[sel], min_score)
        out_i[sel] = gi
        out_s[sel] = gs
    return out_i, out_s, time.perf_counter() - t0


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    n, v, k, min_score = meta["n"], meta["v"], meta["k"], meta["min_score"]
    method = meta.get("method", "auto")
    res = {}

    t0 = time.perf_counter()
    indptr = np.fromfile(os.path.join(d, "indptr.i64"), dtype="<i8")
    indices = np.fromfile(os.path.join(d, "indices.i32"), dtype="<i4")
    data = np.fromfile(os.path.join(d, "data.f64"), dtype="<f8")
    types = np.fromfile(os.path.join(d, "types.u8"), dtype=np.uint8)
    queries = np.fromfile(os.path.join(d, "queries.i64"), dtype="<i8")
    W = sp.csr_matrix((data, indices, indptr), shape=(n, v))
    del indptr, indices, data
    res["load_s"] = time.perf_counter() - t0
    res["nnz"] = int(W.nnz)

    t0 = time.perf_counter()
    X = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=False, sublinear_tf=False).fit_transform(W)
    X = sp.csr_matrix(X)
    res["transform_s"] = time.perf_counter() - t0
    del W

    # Pair check: Curio's exact scores of some (query, neighbour) pairs against the
    # dot products of sklearn's vectors.
    pairs = np.fromfile(os.path.join(d, "pairs.f64"), dtype="<f8").reshape(-1, 3)
    diffs = []
    for q, nb, score in pairs:
        s = float(X[int(q)].multiply(X[int(nb)]).sum())
        diffs.append(abs(s - score))
    res["pairs"] = len(diffs)
    res["pair_max_abs_diff"] = max(diffs) if diffs else 0.0
    res["pair_examples"] = [[int(q), int(nb), float(score), float(X[int(q)].multiply(X[int(nb)]).sum())]
                            for q, nb, score in pairs[:3]]

    if method == "auto":
        # Calibrate on the first 64 queries of the list (both types), not counted.
        calib = queries[: min(len(queries), 64)]
        times = {}
        for m in ("spsp", "spdense", "nn"):
            _, _, s = search_all(X, types, calib, m, k, min_score)
            times[m] = s / len(calib) * 1e6
        res["calibration_us_per_query"] = times
        method = min(times, key=times.get)
    res["method"] = method

    out_i, out_s, secs = search_all(X, types, queries, method, k, min_score)
    res["queries"] = int(len(queries))
    res["search_s"] = secs
    # ru_maxrss is not this process's own peak when its parent is large: Linux carries the
    # hiwater RSS of the address space replaced by execve (the Go parent's, as Go spawns
    # with CLONE_VM) into it. VmHWM is the peak of this process's own address space.
    res["ru_maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res["max_rss_kib"] = vm_hwm_kib()
    out_i.astype("<i4").tofile(os.path.join(d, "nbr_idx.i32"))
    out_s.astype("<f8").tofile(os.path.join(d, "nbr_score.f64"))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
