package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/curiodata/curio/internal/adtarget"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/pagerank"
	"github.com/curiodata/curio/internal/storage/postgres"
)

// landEvents inserts events as the lander does (hour partitions of raw_events): type, user,
// ts, item.
func landEvents(t *testing.T, s *postgres.Store, rows [][]any) {
	t.Helper()
	ctx := context.Background()
	for i, r := range rows {
		from := r[2].(time.Time).UTC().Truncate(time.Hour)
		_, err := s.Pool().Exec(ctx, `CREATE TABLE IF NOT EXISTS raw_events_`+from.Format("2006010215")+` PARTITION OF raw_events FOR VALUES FROM ('`+
			from.Format(time.RFC3339)+`') TO ('`+from.Add(time.Hour).Format(time.RFC3339)+`')`)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Pool().Exec(ctx, `INSERT INTO raw_events (event_id, type, user_id, ts, item_id, topic, kpartition, koffset)
			VALUES ($1,$2,$3,$4,$5,'t',0,$6)`, fmt.Sprint("ev", i), r[0], r[1], r[2], r[3], i)
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestEventJobStoreReadsEventsAndCatalog(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	st := s.EventJobs()
	h := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if _, err := s.WriteRecords(ctx, "imp", []domain.Record{
		{Source: "demo", Kind: domain.KindMovie, Key: "m1", Movie: &domain.Movie{ID: "m1", Title: "A", Genres: []string{"Drama"}, Source: "demo"}},
		{Source: "demo", Kind: domain.KindMovie, Key: "m2", Movie: &domain.Movie{ID: "m2", Title: "B", Genres: []string{"Drama", "Comedy"}, Source: "demo"}},
		{Source: "demo", Kind: domain.KindMovie, Key: "m3", Movie: &domain.Movie{ID: "m3", Title: "C", Genres: []string{"Drama"}, Source: "demo"}},
	}); err != nil {
		t.Fatal(err)
	}
	landEvents(t, s, [][]any{
		{"view", "u1", h.Add(time.Minute), "m3"},
		{"view", "u2", h.Add(2 * time.Minute), "m3"},
		{"purchase", "u1", h.Add(3 * time.Minute), "m2"},
		{"view", "u1", h.Add(2 * time.Hour), "m1"},
		{"view", "u1", h.Add(-time.Hour), "m1"}, // before the window
	})

	hours, err := st.EventHours(ctx, "view", h, h.Add(2*time.Hour))
	if err != nil || len(hours) != 1 || !hours[0].Equal(h) {
		t.Errorf("view hours in [9:00, 11:00): %v, %v (the bounds are [from, to))", hours, err)
	}
	if hours, err := st.EventHours(ctx, "click", time.Time{}, h.Add(24*time.Hour)); err != nil || len(hours) != 0 {
		t.Errorf("click hours %v, %v", hours, err)
	}

	// m3 has 2 views and m2 a purchase in the window; m1's views are outside it.
	pop, err := st.CategoryPopularity(ctx, []string{"drama", "comedy", "western"}, h, h.Add(time.Hour), 2)
	if err != nil || !slices.Equal(pop["drama"], []string{"m3", "m2"}) || !slices.Equal(pop["comedy"], []string{"m2"}) || len(pop["western"]) != 0 {
		t.Errorf("popularity %v, %v", pop, err)
	}
	if pop, err := st.CategoryPopularity(ctx, nil, h, h.Add(time.Hour), 2); err != nil || len(pop) != 0 {
		t.Errorf("popularity of no category %v, %v", pop, err)
	}

	// Every purchase and search lands in exactly one user shard.
	var purchases int
	for i := range 3 {
		p, err := st.Purchases(ctx, h, h.Add(time.Hour), postgres.Shard{Index: i, Of: 3})
		if err != nil {
			t.Fatal(err)
		}
		purchases += len(p)
		for _, x := range p {
			if x.UserID != "u1" || x.ItemID != "m2" {
				t.Errorf("purchase %+v", x)
			}
		}
	}
	if purchases != 2 { // m2 is a drama and a comedy
		t.Errorf("%d purchase rows over the shards, want one per category of the item (2)", purchases)
	}
}

func TestEventJobStoreReplacesVersionsAndShards(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	st := s.EventJobs()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := s.Pool().QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if err := st.ReplacePageRanks(ctx, "p1", []pagerank.Rank{{ID: "a", Score: 0.6}, {ID: "b", Score: 0.4}}); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplacePageRanks(ctx, "p2", []pagerank.Rank{{ID: "a", Score: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplacePageRanks(ctx, "p1", []pagerank.Rank{{ID: "b", Score: 0.7}, {ID: "a", Score: 0.3}}); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM page_ranks WHERE version = 'p1'`); n != 2 {
		t.Errorf("p1 has %d ranks after a re-run, want 2", n)
	}
	if n := count(`SELECT rank FROM page_ranks WHERE version = 'p1' AND item_id = 'b'`); n != 1 {
		t.Errorf("b's rank in p1 = %d, want 1 (the re-run's)", n)
	}
	if n := count(`SELECT count(*) FROM page_ranks WHERE version = 'p2'`); n != 1 {
		t.Errorf("p2 has %d ranks, want 1 (another version is kept)", n)
	}

	// One shard of one holds every user; a re-run replaces the version's rows.
	last := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var all []adtarget.Target
	for i := range 8 {
		all = append(all, adtarget.Target{UserID: fmt.Sprint("user", i), Category: "drama", Searches: 3, LastSearch: last, Products: []string{"m1"}},
			adtarget.Target{UserID: fmt.Sprint("user", i), Category: "comedy", Searches: 4, LastSearch: last.Add(time.Minute), Products: []string{"m2"}})
	}
	for range 2 {
		if err := st.ReplaceAdTargets(ctx, "a1", postgres.Shard{Index: 0, Of: 1}, all); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.ReplaceAdTargets(ctx, "a2", postgres.Shard{Index: 0, Of: 1}, all[:1]); err != nil {
		t.Fatal(err)
	}
	var got []adtarget.Target
	if err := st.EachAdTarget(ctx, "a1", func(x adtarget.Target) error { got = append(got, x); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(all) {
		t.Fatalf("%d targets of a1 after a re-run, want %d", len(got), len(all))
	}
	if got[0].UserID != "user0" || got[0].Category != "comedy" || got[1].Category != "drama" || !got[0].LastSearch.Equal(last.Add(time.Minute)) ||
		!slices.Equal(got[0].Products, []string{"m2"}) {
		t.Errorf("targets not by user, latest search first: %+v", got[:2])
	}
	// Split over two shards, each shard's (empty) re-run clears only its own users.
	if err := st.ReplaceAdTargets(ctx, "a1", postgres.Shard{Index: 0, Of: 2}, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM ad_targets WHERE version = 'a1'`); n == 0 || n == len(all) {
		t.Errorf("%d of %d targets left after clearing shard 0 of 2, want some of them", n, len(all))
	}
	if err := st.ReplaceAdTargets(ctx, "a1", postgres.Shard{Index: 1, Of: 2}, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM ad_targets WHERE version = 'a1'`); n != 0 {
		t.Errorf("%d targets left after clearing both shards", n)
	}
	if n := count(`SELECT count(*) FROM ad_targets WHERE version = 'a2'`); n != 1 {
		t.Errorf("a2 has %d targets, want 1 (another version is kept)", n)
	}
	stop := errors.New("stop")
	if err := st.EachAdTarget(ctx, "a2", func(adtarget.Target) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("EachAdTarget returned %v, want fn's error", err)
	}

	run := postgres.ShardRun{Job: "TargetAds", Version: "a1", Shard: 1, Attempt: 1, Worker: "w1", Items: 5, StartedAt: last}
	for _, r := range []postgres.ShardRun{run, {Job: run.Job, Version: run.Version, Shard: 1, Attempt: 1, Worker: "w2", Items: 6, StartedAt: last},
		{Job: run.Job, Version: run.Version, Shard: 1, Attempt: 2, Worker: "w3", Items: 7, StartedAt: last}} {
		if err := st.RecordShardRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(`SELECT count(*) FROM batch_shard_runs WHERE job = 'TargetAds'`); n != 2 {
		t.Errorf("%d shard run rows, want one per attempt (2)", n)
	}
	if n := count(`SELECT items FROM batch_shard_runs WHERE job = 'TargetAds' AND attempt = 1`); n != 6 {
		t.Errorf("attempt 1 items %d, want the last record's (6)", n)
	}

	for _, v := range []string{"a1", "a2", "a1"} {
		if err := st.RecordModelVersion(ctx, "ads", v, 10); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(`SELECT count(*) FROM model_versions WHERE model = 'ads'`); n != 2 {
		t.Errorf("%d ads versions, want 2", n)
	}
	if n := count(`SELECT count(*) FROM model_current WHERE model = 'ads' AND version = 'a1'`); n != 1 {
		t.Error("the last recorded version is not current")
	}
}

func TestEventJobStoreReplacesHours(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	st := s.EventJobs()
	h := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	landEvents(t, s, [][]any{
		{"upload", "u1", h.Add(time.Minute), "a1"},
		{"upload", "u2", h.Add(2 * time.Minute), "a2"},
		{"upload", "u3", h.Add(time.Hour), "a3"},
	})
	if _, err := s.Pool().Exec(ctx, `UPDATE raw_events SET country = 'FR'`); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		n, err := st.ReplaceUploadHour(ctx, h)
		if err != nil || n != 1 {
			t.Errorf("upload hour rows %d, %v, want 1", n, err)
		}
	}
	var count int64
	if err := s.Pool().QueryRow(ctx, `SELECT sum(count) FROM upload_hourly`).Scan(&count); err != nil || count != 2 {
		t.Errorf("uploads counted %d, %v, want 2 (the hour's, once)", count, err)
	}
	if n, err := st.ReplaceClickEdgeHour(ctx, h); err != nil || n != 0 {
		t.Errorf("click edges of an hour without clicks: %d, %v", n, err)
	}
	if edges, err := st.ClickEdges(ctx); err != nil || len(edges) != 0 {
		t.Errorf("click edges %v, %v", edges, err)
	}
	// Edges summed over hours, in (source, target) order, ids shared between edges.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO click_edges (hour, source_item, target_item, clicks) VALUES
		($1, 'tt2', 'tt1', 3), ($1, 'tt1', 'tt2', 2), ($2, 'tt1', 'tt2', 5), ($2, 'tt1', 'tt3', 1)`, h, h.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	edges, err := st.ClickEdges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(edges); got != "[{tt1 tt2 7} {tt1 tt3 1} {tt2 tt1 3}]" {
		t.Errorf("click edges %s", got)
	}
	if unsafe.StringData(edges[0].From) != unsafe.StringData(edges[1].From) || unsafe.StringData(edges[0].To) != unsafe.StringData(edges[2].From) {
		t.Errorf("item ids are not shared between edges")
	}
}
