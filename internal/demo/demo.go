// Package demo builds the demo catalog that `curio dev` loads: MoMA's Artists
// data (CC0, embedded from data/moma_artists.csv.gz; see data/README.md) and
// fictional artworks and movies generated deterministically from word lists
// and a seeded random source. No IMDb, Kaggle or Artsy data is shipped.
package demo

import (
	"compress/gzip"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/importer"
)

// dataFS holds the embedded, read-only demo data.
//
//go:embed data/moma_artists.csv.gz
var dataFS embed.FS

// artistsFile is the embedded MoMA Artists CSV, gzipped.
const artistsFile = "data/moma_artists.csv.gz"

// Defaults applied by Records to zero Options fields.
const (
	DefaultMovies   = 2000
	DefaultArtworks = 3000
	DefaultSeed     = 1
)

// Source is the Source of generated records and items.
const Source = "demo"

// Options sizes the generated part of the demo catalog.
type Options struct {
	Movies   int   // generated movies: 0 means DefaultMovies, negative means none
	Artworks int   // generated artworks: 0 means DefaultArtworks, negative means none
	Seed     int64 // random seed: 0 means DefaultSeed; equal options give equal output
}

// withDefaults fills zero fields and turns negative counts into zero.
func (o Options) withDefaults() Options {
	fill := func(n, def int) int {
		switch {
		case n == 0:
			return def
		case n < 0:
			return 0
		}
		return n
	}
	o.Movies, o.Artworks = fill(o.Movies, DefaultMovies), fill(o.Artworks, DefaultArtworks)
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	return o
}

// Records emits the demo catalog, in this order: every MoMA artist row of
// the embedded file (Source "moma-artists", as importer.ReadMoMAArtists
// reads it), then the generated artworks (Source "demo", IDs demo-aw-000001
// ...), then the generated movies (Source "demo", IDs demo-m-000001 ...).
// Generated records carry Raw = the item as JSON and Line = its number.
// Artworks are attributed to real MoMA artists but are fictional, and say so
// in their credit line and description. Output depends only on opts. If emit
// returns an error, Records stops and returns it wrapped.
func Records(opts Options, emit func(domain.Record) error) error {
	opts = opts.withDefaults()
	artists, err := emitArtists(emit)
	if err != nil {
		return err
	}
	if opts.Artworks > 0 {
		if len(artists) == 0 {
			return errors.New("demo: no artists to attribute artworks to")
		}
		r := rand.New(rand.NewPCG(uint64(opts.Seed), 0xA27))
		w := newArtWords()
		for i := 1; i <= opts.Artworks; i++ {
			a := w.artwork(r, i, artists)
			if err := emitItem(emit, domain.Record{Kind: domain.KindArtwork, Key: a.ID, Line: i, Artwork: a}, a); err != nil {
				return err
			}
		}
	}
	if opts.Movies > 0 {
		r := rand.New(rand.NewPCG(uint64(opts.Seed), 0x3071E))
		w := newMovieWords()
		for i := 1; i <= opts.Movies; i++ {
			m := w.movie(r, i)
			if err := emitItem(emit, domain.Record{Kind: domain.KindMovie, Key: m.ID, Line: i, Movie: m}, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// emitItem fills Source and Raw of a generated record and emits it.
func emitItem(emit func(domain.Record) error, rec domain.Record, item any) error {
	raw, err := json.Marshal(item)
	if err != nil {
		return fmt.Errorf("demo: marshal %s: %w", rec.Key, err)
	}
	rec.Source, rec.Raw = Source, raw
	if err := emit(rec); err != nil {
		return fmt.Errorf("demo: emit %s: %w", rec.Key, err)
	}
	return nil
}

// emitArtists emits the embedded MoMA artists and returns those fit to
// attribute generated artworks to: people (MoMA records a gender for them,
// not for firms and groups) with a known birth year and a name that is not a
// placeholder like "Unknown Artist".
func emitArtists(emit func(domain.Record) error) ([]*domain.Artist, error) {
	f, err := dataFS.Open(artistsFile)
	if err != nil {
		return nil, fmt.Errorf("demo: open %s: %w", artistsFile, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", artistsFile, err)
	}
	var picks []*domain.Artist
	err = importer.ReadMoMAArtists(zr, func(rec domain.Record) error {
		if a := rec.Artist; a != nil && a.Gender != "" && a.BeginYear > 0 && !placeholderName(a.Name) {
			picks = append(picks, a)
		}
		return emit(rec)
	})
	if err != nil {
		return nil, fmt.Errorf("demo: artists: %w", err)
	}
	if err := zr.Close(); err != nil {
		return nil, fmt.Errorf("demo: %s: %w", artistsFile, err)
	}
	return picks, nil
}

// placeholderName reports names MoMA uses for unattributed works.
func placeholderName(name string) bool {
	for _, p := range []string{"Unknown", "Unidentified", "Various", "Anonymous"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// between returns a random int in [lo, hi].
func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }

// chance reports true with probability pct percent.
func chance(r *rand.Rand, pct int) bool { return r.IntN(100) < pct }

// roman renders 1..10 as a Roman numeral.
func roman(n int) string {
	return []string{"", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"}[n]
}

// Batches is Records in batches of at most size records (the last may be shorter), for
// writers that store many rows per transaction.
func Batches(opts Options, size int, write func([]domain.Record) error) error {
	batch := make([]domain.Record, 0, size)
	err := Records(opts, func(r domain.Record) error {
		batch = append(batch, r)
		if len(batch) < size {
			return nil
		}
		err := write(batch)
		batch = batch[:0]
		return err
	})
	if err != nil || len(batch) == 0 {
		return err
	}
	return write(batch)
}
