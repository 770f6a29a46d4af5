package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/curiodata/curio/scrapers/artsy"
	"github.com/curiodata/curio/scrapers/imdb"
)

// cmdScrape implements `curio scrape parse --source imdb|artsy FILE`: parse a saved page or
// API response and print one JSON object per record, with no network.
func cmdScrape(args []string, stdout io.Writer) error {
	const use = "usage: curio scrape parse --source imdb|artsy FILE"
	if len(args) == 0 || args[0] != "parse" {
		return fmt.Errorf("%s: %w", use, errUsage)
	}
	flags, pos, err := splitFlags(args[1:], flagSet{Values: []string{"source"}})
	if err != nil || len(pos) != 1 {
		return usageError(use, err)
	}
	body, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read page: %w", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	switch flags["source"] {
	case "imdb":
		return parseIMDbFile(body, pos[0], enc)
	case "artsy":
		doc, err := artsy.Parse(body)
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		for _, a := range doc.Artists {
			if err := enc.Encode(map[string]any{"kind": "artist", "artist": a}); err != nil {
				return err
			}
		}
		for _, w := range doc.Artworks {
			if err := enc.Encode(map[string]any{"kind": "artwork", "artwork": w}); err != nil {
				return err
			}
		}
		for _, g := range doc.Genes {
			if err := enc.Encode(map[string]any{"kind": "gene", "gene": g}); err != nil {
				return err
			}
		}
		if doc.Next != "" {
			return enc.Encode(map[string]any{"kind": "next", "href": doc.Next})
		}
		return nil
	default:
		return fmt.Errorf("--source must be imdb or artsy: %s: %w", use, errUsage)
	}
}

func parseIMDbFile(body []byte, name string, enc *json.Encoder) error {
	t, terr := imdb.ParseTitle(body, "")
	if terr == nil {
		return enc.Encode(t)
	}
	hits, serr := imdb.ParseSearch(body)
	if serr == nil && len(hits) > 0 {
		for _, h := range hits {
			if err := enc.Encode(h); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%s is neither an IMDb title page (%w) nor a search page (%w)", name, terr, errors.Join(serr, errors.New("no results")))
}
