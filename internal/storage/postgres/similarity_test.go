package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/storage/postgres"
)

func TestSimilarityStoreReplacesAndReadsInOrder(t *testing.T) {
	ctx := context.Background()
	st := open(t).Similarity()
	all := func(version string) string {
		t.Helper()
		var out string
		if err := st.EachSimilarItem(ctx, version, func(it postgres.SimilarItem) error {
			out += fmt.Sprintf("%s#%d=%s:%g ", it.ItemID, it.Rank, it.NeighborID, it.Score)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if err := st.ReplaceSimilarItems(ctx, "v1", []string{"b", "a"}, []postgres.SimilarItem{
		{ItemID: "b", Rank: 2, NeighborID: "c", Score: 0.25}, {ItemID: "b", Rank: 1, NeighborID: "a", Score: 0.5},
		{ItemID: "a", Rank: 1, NeighborID: "b", Score: 0.5},
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceSimilarItems(ctx, "v2", []string{"a"}, []postgres.SimilarItem{{ItemID: "a", Rank: 1, NeighborID: "z", Score: 1}}); err != nil {
		t.Fatal(err)
	}
	if got, want := all("v1"), "a#1=b:0.5 b#1=a:0.5 b#2=c:0.25 "; got != want {
		t.Errorf("v1 %q, want %q (by item, then rank)", got, want)
	}
	// A retried chunk replaces its items' rows: b loses its second neighbor; an item listed
	// without rows is cleared; other items and versions are untouched.
	if err := st.ReplaceSimilarItems(ctx, "v1", []string{"b", "c"}, []postgres.SimilarItem{{ItemID: "b", Rank: 1, NeighborID: "d", Score: 0.75}}); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceSimilarItems(ctx, "v1", []string{"b"}, []postgres.SimilarItem{{ItemID: "b", Rank: 1, NeighborID: "d", Score: 0.75}}); err != nil {
		t.Fatal(err)
	}
	if got, want := all("v1"), "a#1=b:0.5 b#1=d:0.75 "; got != want {
		t.Errorf("v1 after replace %q, want %q", got, want)
	}
	if got, want := all("v2"), "a#1=z:1 "; got != want {
		t.Errorf("v2 %q, want %q", got, want)
	}
	if got := all("none"); got != "" {
		t.Errorf("unknown version %q", got)
	}
	// An error from fn stops the scan and comes back as is.
	stop := errors.New("stop")
	n := 0
	err := st.EachSimilarItem(ctx, "v1", func(postgres.SimilarItem) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("scan stopped after %d rows with %v", n, err)
	}
	// Two rows of one item at one rank are refused, and nothing of the call is kept.
	err = st.ReplaceSimilarItems(ctx, "v1", []string{"a"}, []postgres.SimilarItem{{ItemID: "a", Rank: 1, NeighborID: "x"}, {ItemID: "a", Rank: 1, NeighborID: "y"}})
	if err == nil {
		t.Error("duplicate rank accepted")
	}
	if got, want := all("v1"), "a#1=b:0.5 b#1=d:0.75 "; got != want {
		t.Errorf("v1 after a failed replace %q, want %q (one transaction)", got, want)
	}
}

func TestSimilarityModelStoredInPartsAndReplaced(t *testing.T) {
	ctx := context.Background()
	st := open(t).Similarity()
	if _, _, err := st.SimilarityModel(ctx, "v1"); !errors.Is(err, postgres.ErrNoModel) {
		t.Fatalf("no model: err %v, want ErrNoModel", err)
	}
	model := make([]byte, 8<<20+12345) // more than one part
	for i := range model {
		model[i] = byte(i * 7)
	}
	put := func(data []byte) postgres.ModelInfo {
		t.Helper()
		var seen int64
		info, err := st.PutSimilarityModel(ctx, "v1", func(w io.Writer) error {
			for b := data; len(b) > 0; b = b[min(len(b), 100_000):] {
				if _, err := w.Write(b[:min(len(b), 100_000)]); err != nil {
					return err
				}
			}
			return nil
		}, func(n int64) { seen = n })
		if err != nil {
			t.Fatal(err)
		}
		if info.Bytes != int64(len(data)) || seen != info.Bytes {
			t.Fatalf("stored %+v (progress %d), want %d bytes", info, seen, len(data))
		}
		return info
	}
	read := func() []byte {
		t.Helper()
		r, _, err := st.SimilarityModel(ctx, "v1")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if info := put(model); info.Parts != 2 {
		t.Fatalf("%d parts, want 2", info.Parts)
	}
	if !bytes.Equal(read(), model) {
		t.Fatal("model read back differs")
	}
	// A retried build replaces the whole model, never mixes parts.
	put([]byte("short"))
	if got := read(); string(got) != "short" {
		t.Fatalf("after replace: %d bytes", len(got))
	}
	// A failed write stores nothing new and keeps the old model.
	boom := errors.New("boom")
	if _, err := st.PutSimilarityModel(ctx, "v1", func(io.Writer) error { return boom }, nil); !errors.Is(err, boom) {
		t.Fatalf("failed write: %v", err)
	}
	if got := read(); string(got) != "short" {
		t.Fatalf("after failed write: %q", got)
	}
	if n, err := st.DropSimilarityModels(ctx, "v1", time.Hour); err != nil || n != 1 {
		t.Fatalf("drop: %d rows, %v", n, err)
	}
	if _, _, err := st.SimilarityModel(ctx, "v1"); !errors.Is(err, postgres.ErrNoModel) {
		t.Fatalf("after drop: %v", err)
	}
}
