"""Fit gensim's LdaMulticore on a corpus exported by bench/topics (main.go).

Usage: python3 gensim_lda.py CORPUS OUT_PREFIX K PASSES WORKERS ALPHA ETA

CORPUS: first line "V TRAIN HELDOUT", then one document per line (word ids, space
separated): TRAIN training documents, then HELDOUT held-out ones. Writes OUT_PREFIX.phi
(K×V float64, little-endian, topic-major: get_topics()) and prints one JSON line with the
training wall time, peak RSS and gensim's own held-out bound.

The training documents are shuffled (fixed seed) before the fit. The export is in catalog
order, all artworks and then all movies, two nearly disjoint vocabularies, and online VB
assumes a stationary stream (gensim's LdaModel.update docs): fed in that order, gensim's
first update (rho = 1 with the default offset 1) leaves every word that the first chunk
lacks at lambda = eta, where exp(E[log beta]) ~ exp(digamma(0.01)) ~ 1e-44 falls under the
epsilon that gensim adds to phinorm, so those words never gain statistics again (gensim
issues #1927, #2115): at 30k items one half of the catalog's held-out tokens fell on such
words and the model scored worse than uniform. GENSIM_KEEP_ORDER=1 reproduces that.

Diagnostics (not used by the reported runs): GENSIM_FLOAT64=1 trains in float64,
GENSIM_ALPHA (e.g. "symmetric") and GENSIM_ETA override the priors, GENSIM_LDAMODEL=1
fits with the single-process LdaModel instead.
"""
import json
import logging
import os
import random
import resource
import sys
import time
from collections import Counter

import numpy as np
from gensim.models import LdaModel, LdaMulticore


def read(path):
    with open(path) as f:
        v, ntrain, nheld = map(int, f.readline().split())
        docs = []
        for line in f:
            docs.append(sorted(Counter(map(int, line.split())).items()))
    return v, docs[:ntrain], docs[ntrain:ntrain + nheld]


def main():
    path, out, k, passes, workers, alpha, eta = sys.argv[1:8]
    k, passes, workers, alpha, eta = int(k), int(passes), int(workers), float(alpha), float(eta)
    logging.basicConfig(level=logging.WARNING)
    t0 = time.time()
    v, train, held = read(path)
    if not os.environ.get("GENSIM_KEEP_ORDER"):  # online VB needs a stationary stream: see above
        random.Random(7).shuffle(train)
    load = time.time() - t0
    t0 = time.time()
    a = os.environ.get("GENSIM_ALPHA") or np.full(k, alpha)  # diagnostics: e.g. "symmetric"
    e = float(os.environ["GENSIM_ETA"]) if os.environ.get("GENSIM_ETA") else eta
    kw = {} if os.environ.get("GENSIM_LDAMODEL") else {"workers": workers}
    cls = LdaModel if os.environ.get("GENSIM_LDAMODEL") else LdaMulticore
    lda = cls(train, num_topics=k, id2word={i: str(i) for i in range(v)}, passes=passes,
                       alpha=a, eta=e, **kw, eval_every=None, random_state=7,
                       dtype=np.float64 if os.environ.get("GENSIM_FLOAT64") else np.float32)
    fit = time.time() - t0
    phi = lda.get_topics().astype('<f8')
    phi.tofile(out + ".phi")
    t0 = time.time()
    bound = lda.log_perplexity(held) if held else float('nan')
    bound_s = time.time() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"train_tokens": sum(c for d in train for _, c in d), "load_s": load, "fit_s": fit, "k": int(phi.shape[0]), "v": int(phi.shape[1]),
                      "alpha": float(np.mean(lda.alpha)), "log_perplexity_bound": bound,
                      "bound_perplexity": 2 ** (-bound), "bound_s": bound_s,
                      "peak_rss_mib": rss / 1024, "peak_rss_worker_mib": kids / 1024}))


if __name__ == "__main__":
    main()
