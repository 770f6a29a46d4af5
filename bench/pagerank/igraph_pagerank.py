"""igraph's side of bench/pagerank: load the generated graph, run PRPACK PageRank
with the parameters Curio's ClickstreamPageRank uses, write the scores.

Usage: python3 igraph_pagerank.py DIR DAMPING
Reads DIR/edges.txt and DIR/weights.f64, writes DIR/igraph.f64 (float64 scores by
node number) and prints one JSON line of timings and memory.
"""
import json
import resource
import sys
import time

import igraph
import numpy as np


def rss_peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    d, damping = sys.argv[1], float(sys.argv[2])
    t0 = time.perf_counter()
    g = igraph.Graph.Read_Edgelist(d + "/edges.txt", directed=True)
    # python-igraph takes weights as a Python sequence (it copies them into a C
    # vector inside pagerank): a list of floats, made here as part of loading.
    w = np.fromfile(d + "/weights.f64", dtype="<f8").tolist()
    assert len(w) == g.ecount(), (len(w), g.ecount())
    t1 = time.perf_counter()
    load_peak = rss_peak_mib()
    c1 = cpu_s()
    # weights are the click counts, as in Curio; PRPACK spreads the rank of
    # dangling nodes uniformly and teleports uniformly, as Curio does.
    pr = g.pagerank(directed=True, damping=damping, weights=w, implementation="prpack")
    t2, c2 = time.perf_counter(), cpu_s()
    np.asarray(pr, dtype="<f8").tofile(d + "/igraph.f64")
    print(json.dumps({
        "nodes": g.vcount(), "edges": g.ecount(),
        "load_s": t1 - t0, "compute_s": t2 - t1, "compute_cpu_s": c2 - c1,
        "load_peak_mib": load_peak, "peak_mib": rss_peak_mib(),
        "igraph": igraph.__version__,
    }))


main()
