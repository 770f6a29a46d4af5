// Package topics fits LDA topic models by collapsed Gibbs sampling, in a form
// that can be distributed across worker processes by document shards.
//
// The sampler follows AD-LDA (Newman, Asuncion, Smyth and Welling,
// "Distributed Algorithms for Topic Models", JMLR 2009): the corpus is split
// into shards; in each round every shard sweeps its own documents against a
// private snapshot of the global topic-word counts (which already include the
// shard's own previous contribution), and afterwards the shards' own counts
// are summed into new global counts. A round therefore needs, per shard, only
// the shard's documents, its topic assignments ([Assignments]) and the global
// [Counts]; it produces new assignments and the shard's own counts. Both
// types have compact, validated binary encodings, and every random choice is
// drawn from a PCG generator seeded explicitly, so a distributed run is
// reproducible: [Fit] runs the same protocol in one process and [SeedFor]
// documents the seeds it uses.
//
// A typical distributed driver:
//
//	round 0, per shard s: z, c := InitShard(docs_s, K, V, SeedFor(seed, 0, s)); store z, c
//	merge:                global := Sum(c_0, c_1, ...)
//	round r, per shard s: c := SweepShard(docs_s, z, global, p, 1, SeedFor(seed, r, s)); store z, c
//	merge:                global := Sum(c_0, c_1, ...)
//
// SweepShard trusts its inputs; a worker that loads them from storage should
// check them first with [ValidateShard] (and [Counts.Validate]).
//
// Besides fitting, the package builds corpora from text ([Tokens],
// [BuildCorpus]), describes fitted topics ([TopWords], [DocTopics], [Infer]),
// measures quality ([CoherenceUMass], [CoherenceNPMI], [Perplexity], and
// [PerplexityOf] for another implementation's topics) and
// generates synthetic corpora with known topics for tests and benchmarks
// ([Synthetic], [MatchTopics]).
package topics
