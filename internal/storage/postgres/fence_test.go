package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/storage/postgres"
)

// TestShardFenceRefusesZombieWrites: once a second attempt claims a shard, the first
// attempt's writes (a worker cut off mid-shard) fail with ErrFenced and change nothing; a
// write in progress when the claim comes commits first, and the claim waits for it.
func TestShardFenceRefusesZombieWrites(t *testing.T) {
	ctx := context.Background()
	pg := open(t)
	st := pg.Similarity()
	rowsOf := func() string {
		t.Helper()
		var out string
		if err := st.EachSimilarItem(ctx, "v1", func(it postgres.SimilarItem) error {
			out += fmt.Sprintf("%s=%s ", it.ItemID, it.NeighborID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	zombie, err := st.ClaimShard(ctx, "BuildSimilarity", "v1", 0, "w2", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceSimilarItemsFenced(ctx, zombie, []string{"a"}, []postgres.SimilarItem{{ItemID: "a", Rank: 1, NeighborID: "old"}}); err != nil {
		t.Fatal(err)
	}
	retry, err := st.ClaimShard(ctx, "BuildSimilarity", "v1", 0, "w1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if retry.Token <= zombie.Token {
		t.Fatalf("tokens %d then %d: want increasing", zombie.Token, retry.Token)
	}
	if err := st.ReplaceSimilarItemsFenced(ctx, retry, []string{"a"}, []postgres.SimilarItem{{ItemID: "a", Rank: 1, NeighborID: "new"}}); err != nil {
		t.Fatal(err)
	}
	err = st.ReplaceSimilarItemsFenced(ctx, zombie, []string{"a", "b"}, []postgres.SimilarItem{{ItemID: "a", Rank: 1, NeighborID: "late"},
		{ItemID: "b", Rank: 1, NeighborID: "late"}})
	if !errors.Is(err, postgres.ErrFenced) {
		t.Fatalf("zombie write: %v, want ErrFenced", err)
	}
	if got := rowsOf(); got != "a=new " {
		t.Errorf("rows after the zombie's late write: %q", got)
	}
	// Another shard, and the same shard of another version, are not fenced by this one.
	other, err := st.ClaimShard(ctx, "BuildSimilarity", "v1", 1, "w2", 1)
	if err != nil || st.ReplaceSimilarItemsFenced(ctx, other, []string{"c"}, nil) != nil {
		t.Fatalf("another shard: %v", err)
	}

	// A claim made while a fenced write holds the owner row waits for it to commit.
	tx, err := pg.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT token FROM batch_shard_owners WHERE job = 'BuildSimilarity' AND version = 'v1' AND shard = 0 FOR SHARE`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	claimed := make(chan time.Time, 1)
	wg.Go(func() {
		if _, err := st.ClaimShard(ctx, "BuildSimilarity", "v1", 0, "w3", 3); err != nil {
			t.Error(err)
		}
		claimed <- time.Now()
	})
	time.Sleep(300 * time.Millisecond)
	released := time.Now()
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if at := <-claimed; at.Before(released) {
		t.Errorf("the claim did not wait for the write in progress")
	}
}
