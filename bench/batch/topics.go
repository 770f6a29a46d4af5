package main

import (
	"fmt"
	"time"

	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/topics"
	"github.com/curiodata/curio/workflows"
)

// benchTopics runs BuildTopics with 1 and 3 worker processes on `shards` shards, then
// planned by size (no explicit shards) with 1 worker, then the same sampler in-process on the same corpus (the peer without orchestration), and reports fit time per
// 10k documents and the model's quality next to an unfitted model's.
func benchTopics(items, shards, iterations, sweeps, k int, run func(workers int, in workflows.BuildTopicsInput) (time.Duration, workflows.BuildTopicsResult)) {
	in := workflows.BuildTopicsInput{BatchOptions: workflows.BatchOptions{Shards: shards, MaxParallel: shards}, K: k, Iterations: iterations, Sweeps: sweeps, Seed: 7}
	fmt.Printf("BuildTopics over %d catalog items (plots and descriptions), K=%d, %d rounds × %d sweeps, %d shards:\n\n", items, k, iterations, sweeps, shards)
	fmt.Printf("| path | docs | wall time | per 10k docs | vs 1 worker |\n|---|---|---|---|---|\n")
	var base time.Duration
	var last workflows.BuildTopicsResult
	for _, w := range []int{1, 3} {
		d, res := run(w, in)
		if w == 1 {
			base = d
		}
		last = res
		docs := res.Plan.Docs
		fmt.Printf("| workflow, %d worker(s) | %d | %v | %v | %.2f× |\n", w, docs, d.Round(time.Millisecond),
			per10k(d, docs).Round(time.Millisecond), base.Seconds()/d.Seconds())
	}

	// The plan by size (no explicit shards): one TopicsFit activity below a few seconds of
	// sampling per round.
	auto := in
	auto.Shards = 0
	d, res := run(1, auto)
	fmt.Printf("| workflow, plan by size (%s, %d shard), 1 worker | %d | %v | %v | %.2f× |\n", res.Plan.Mode, res.Shards, res.Plan.Docs,
		d.Round(time.Millisecond), per10k(d, res.Plan.Docs).Round(time.Millisecond), base.Seconds()/d.Seconds())

	// The same corpus and sampler in one process: what the distribution costs.
	var ids, texts []string
	check(demo.Records(demo.Options{Movies: items / 2, Artworks: items / 2, Seed: 9}, func(r domain.Record) error {
		switch {
		case r.Movie != nil:
			ids, texts = append(ids, r.Movie.ID), append(texts, r.Movie.Title+". "+r.Movie.Plot)
		case r.Artwork != nil:
			ids, texts = append(ids, r.Artwork.ID), append(texts, r.Artwork.Title+". "+r.Artwork.Description)
		}
		return nil
	}))
	corpus := topics.BuildCorpus(ids, texts, topics.VocabOptions{MaxDocFrac: 0.25}) // as PrepareTopics
	var train, held [][]int32
	for i, d := range corpus.Docs {
		if len(d) == 0 {
			continue
		}
		if i%10 == 9 {
			held = append(held, d)
		} else {
			train = append(train, d)
		}
	}
	p := topics.Params{K: k}.WithDefaults()
	start := time.Now()
	global, _ := topics.Fit(train, len(corpus.Vocab), p, iterations*sweeps, 1, 7)
	inproc := time.Since(start)
	fmt.Printf("| in-process topics.Fit, 1 shard, same sweeps | %d | %v | %v | %.2f× |\n", len(train), inproc.Round(time.Millisecond),
		per10k(inproc, len(train)).Round(time.Millisecond), base.Seconds()/inproc.Seconds())
	random, _ := topics.Fit(train, len(corpus.Vocab), p, 0, 1, 7)

	q := last.Quality
	fmt.Printf("\nquality (held-out perplexity: lower is better; coherence over the top 10 words: higher is better)\n\n")
	fmt.Printf("| model | held-out perplexity | UMass | NPMI |\n|---|---|---|---|\n")
	fmt.Printf("| BuildTopics (3 workers) | %.1f | %.2f | %.3f |\n", q.Perplexity, q.CoherenceUMass, q.CoherenceNPMI)
	fmt.Printf("| in-process Fit, same rounds | %.1f | %.2f | %.3f |\n", topics.Perplexity(held, global, p, 30, 7),
		topics.CoherenceUMass(global, train, p, 10), topics.CoherenceNPMI(global, train, p, 10))
	fmt.Printf("| unfitted (random assignments) | %.1f | %.2f | %.3f |\n", topics.Perplexity(held, random, p, 30, 7),
		topics.CoherenceUMass(random, train, p, 10), topics.CoherenceNPMI(random, train, p, 10))
	fmt.Printf("| uniform over the vocabulary | %.0f | | |\n", q.UniformPPL)
	fmt.Println("\ntop words of the first topics:")
	for i, ws := range topics.TopWords(global, corpus.Vocab, p, 8)[:min(5, k)] {
		fmt.Printf("  topic %d:", i)
		for _, w := range ws {
			fmt.Printf(" %s", w.Word)
		}
		fmt.Println()
	}
}

func per10k(d time.Duration, docs int) time.Duration {
	if docs == 0 {
		return 0
	}
	return time.Duration(float64(d) * 10_000 / float64(docs))
}
