package eventjobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/eventjobs"
	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/teststores"
)

// fixture is a fresh warehouse and serving store with the demo catalog, the activities
// under test and a direct connection for the lander's side (raw_events) and for checks.
type fixture struct {
	a     *eventjobs.Activities
	my    *mysql.Store
	db    *pgx.Conn
	env   *testsuite.TestActivityEnvironment
	items int
}

func setup(t *testing.T, movies, artworks int) *fixture {
	t.Helper()
	ctx := context.Background()
	pg, my, dsn := teststores.Open(t)
	recs := teststores.LoadDemo(t, pg, movies, artworks)
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	a := &eventjobs.Activities{Store: pg.EventJobs(), Publisher: my, Identity: "test-worker",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return &fixture{a: a, my: my, db: db, env: env, items: len(recs)}
}

// insertEvents lands events as the lander does (hour partitions of raw_events). A row is
// type, user, ts, item, country, category, source item, target item.
func (f *fixture) insertEvents(t *testing.T, rows [][]any) {
	t.Helper()
	ctx := context.Background()
	for _, r := range rows {
		from := r[2].(time.Time).UTC().Truncate(time.Hour)
		_, err := f.db.Exec(ctx, `CREATE TABLE IF NOT EXISTS raw_events_`+from.Format("2006010215")+` PARTITION OF raw_events FOR VALUES FROM ('`+
			from.Format(time.RFC3339)+`') TO ('`+from.Add(time.Hour).Format(time.RFC3339)+`')`)
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := f.db.QueryRow(ctx, `SELECT count(*) FROM raw_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		_, err := f.db.Exec(ctx, `INSERT INTO raw_events (event_id, type, user_id, ts, item_id, country, category, source_item, target_item, topic, kpartition, koffset)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'t',0,$10)`, append([]any{fmt.Sprint("ev", n+i)}, append(r, n+i)...)...)
		if err != nil {
			t.Fatal(err)
		}
	}
}

// run executes an activity as Temporal would and decodes its result into out (if not nil).
func (f *fixture) run(t *testing.T, fn, in, out any) {
	t.Helper()
	v, err := f.env.ExecuteActivity(fn, in)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := v.Get(out); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEventJobActivities(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 300, 200)
	a := f.a
	h9 := time.Date(2026, 11, 23, 9, 10, 0, 0, time.UTC)
	h10 := h9.Add(time.Hour)
	f.insertEvents(t, [][]any{
		{"upload", "u1", h9, "demo-aw-000001", "FR", nil, nil, nil},
		{"upload", "u2", h9, "demo-aw-000002", "FR", nil, nil, nil},
		{"upload", "u3", h10, "demo-aw-000003", "JP", nil, nil, nil},
		{"click", "u1", h9, nil, nil, nil, "demo-m-000001", "demo-m-000002"},
		{"click", "u2", h9, nil, nil, nil, "demo-m-000003", "demo-m-000002"},
		{"click", "u3", h10, nil, nil, nil, "demo-m-000002", "demo-m-000001"},
		{"search", "shopper", h9, nil, nil, "Drama", nil, nil},
		{"search", "shopper", h9.Add(time.Minute), nil, nil, "drama", nil, nil},
		{"search", "shopper", h10, nil, nil, "Drama", nil, nil},
		{"search", "buyer", h9, nil, nil, "Drama", nil, nil},
		{"search", "buyer", h9, nil, nil, "Drama", nil, nil},
		{"search", "buyer", h9, nil, nil, "Drama", nil, nil},
	})

	var hours eventjobs.HoursParams
	f.run(t, a.EventHours, eventjobs.HoursInput{EventType: "upload"}, &hours)
	if len(hours.Hours) != 2 || !hours.Hours[0].Equal(h9.Truncate(time.Hour)) {
		t.Fatalf("upload hours %v", hours.Hours)
	}
	params, _ := json.Marshal(hours)
	for shard := range 2 {
		for range 2 { // a re-run replaces, never adds
			var res activities.BatchShardResult
			f.run(t, a.UploadsShard, activities.BatchShardInput{Job: "AggregateUploads", Version: "v1", Shard: shard, Shards: 2, Params: params}, &res)
			if res.Shard != shard || res.Worker != "test-worker" || res.Items != 1 {
				t.Errorf("uploads shard %d result %+v", shard, res)
			}
		}
	}
	var fr int64
	_ = f.db.QueryRow(ctx, `SELECT sum(count) FROM upload_hourly WHERE country = 'FR'`).Scan(&fr)
	if fr != 2 {
		t.Errorf("FR uploads = %d, want 2", fr)
	}
	var runs int
	_ = f.db.QueryRow(ctx, `SELECT count(*) FROM batch_shard_runs WHERE job = 'AggregateUploads'`).Scan(&runs)
	if runs != 2 {
		t.Errorf("shard run rows %d, want 2 (a re-run of the same attempt replaces its row)", runs)
	}

	f.run(t, a.EventHours, eventjobs.HoursInput{EventType: "click", From: h10.Truncate(time.Hour)}, &hours)
	if len(hours.Hours) != 1 {
		t.Errorf("click hours from 10:00: %v", hours.Hours)
	}
	f.run(t, a.EventHours, eventjobs.HoursInput{EventType: "click"}, &hours)
	params, _ = json.Marshal(hours)
	for shard := range len(hours.Hours) {
		f.run(t, a.ClickEdgesShard, activities.BatchShardInput{Job: "ClickstreamPageRank", Version: "p1", Shard: shard, Shards: len(hours.Hours), Params: params}, nil)
	}
	var pr eventjobs.PageRankResult
	f.run(t, a.ComputePageRank, activities.ModelPublishInput{Version: "p1"}, &pr)
	top, err := published.PageRank.Top(ctx, f.my, 3)
	if err != nil || len(top) != 3 || top[0].Key != "demo-m-000002" || top[0].Value.Rank != 1 || pr.Edges != 3 || pr.Rows != 3 || pr.Model != published.PageRankName {
		t.Errorf("pagerank top %+v, %+v, %v", top, pr, err)
	}
	var stored int
	_ = f.db.QueryRow(ctx, `SELECT count(*) FROM page_ranks WHERE version = 'p1'`).Scan(&stored)
	if stored != 3 {
		t.Errorf("page_ranks rows %d, want 3", stored)
	}

	adsParams, _ := json.Marshal(eventjobs.AdsParams{Now: h10.Add(time.Hour), Window: 24 * time.Hour, MinSearches: 3, MaxProducts: 3})
	// buyer bought a drama: not targeted.
	var dramaID string
	_ = f.db.QueryRow(ctx, `SELECT id FROM movies WHERE 'Drama' = ANY(genres) ORDER BY id LIMIT 1`).Scan(&dramaID)
	f.insertEvents(t, [][]any{{"purchase", "buyer", h10, dramaID, nil, nil, nil, nil}})
	for range 2 { // a re-run of every shard replaces its rows
		for shard := range 3 {
			f.run(t, a.AdsShard, activities.BatchShardInput{Job: "TargetAds", Version: "a1", Shard: shard, Shards: 3, Params: adsParams}, nil)
		}
	}
	var pub activities.ModelPublishResult
	f.run(t, a.PublishAds, activities.ModelPublishInput{Version: "a1"}, &pub)
	targets, err := published.Ads.Get(ctx, f.my, "shopper")
	if err != nil || len(targets) != 1 || targets[0].Category != "drama" || targets[0].Searches != 3 || len(targets[0].Products) == 0 ||
		pub.Rows != 1 {
		t.Errorf("shopper targets %+v, %v, published %+v", targets, err, pub)
	}
	if _, err := published.Ads.Get(ctx, f.my, "buyer"); err == nil {
		t.Error("a user who bought in the category must not be targeted")
	}
	var current string
	_ = f.db.QueryRow(ctx, `SELECT version FROM model_current WHERE model = 'ads'`).Scan(&current)
	if current != "a1" {
		t.Errorf("warehouse current ads version %q, want a1", current)
	}
}

func TestShardInputErrorsAreNotRetryable(t *testing.T) {
	f := setup(t, 0, 0)
	params, _ := json.Marshal(eventjobs.HoursParams{Hours: []time.Time{time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}})
	for name, in := range map[string]activities.BatchShardInput{
		"no version":       {Job: "AggregateUploads", Shard: 0, Shards: 1, Params: params},
		"shard past hours": {Job: "AggregateUploads", Version: "v", Shard: 1, Shards: 2, Params: params},
		"bad params":       {Job: "AggregateUploads", Version: "v", Shard: 0, Shards: 1, Params: json.RawMessage(`{"hours": "x"}`)},
	} {
		_, err := f.env.ExecuteActivity(f.a.UploadsShard, in)
		if err == nil || !isBadInput(err) {
			t.Errorf("%s: %v, want a non-retryable %s error", name, err, activities.ErrTypeBadInput)
		}
	}
}

// isBadInput reports whether err is a non-retryable application error of type
// activities.ErrTypeBadInput.
func isBadInput(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == activities.ErrTypeBadInput && app.NonRetryable()
}
