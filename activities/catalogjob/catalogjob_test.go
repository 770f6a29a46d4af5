package catalogjob_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/search"
	"github.com/curiodata/curio/internal/serving"
	"github.com/curiodata/curio/internal/teststores"
)

type recorder struct{ versions []string }

func (r *recorder) PublishVersion(_ context.Context, v string) error {
	r.versions = append(r.versions, v)
	return nil
}

func setup(t *testing.T) (*catalogjob.Activities, *testsuite.TestActivityEnvironment, *recorder) {
	t.Helper()
	pg, my, _ := teststores.Open(t)
	rec := &recorder{}
	a := &catalogjob.Activities{Store: pg, Serving: my, Notifier: rec, Identity: "test-worker", BatchSize: 500,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return a, env, rec
}

func TestCatalogActivitiesBuildAServableIndex(t *testing.T) {
	ctx := context.Background()
	a, env, rec := setup(t)

	val, err := env.ExecuteActivity(a.ImportDemoCatalog, catalogjob.ImportDemoInput{Movies: 120, Artworks: 80})
	if err != nil {
		t.Fatal(err)
	}
	var imp catalogjob.ImportResult
	if err := val.Get(&imp); err != nil {
		t.Fatal(err)
	}
	if imp.Failed != 0 || imp.OK < 200 {
		t.Fatalf("import = %+v", imp)
	}
	// Importing again (a retried activity, or the next scheduled run) adds nothing.
	if _, err := env.ExecuteActivity(a.ImportDemoCatalog, catalogjob.ImportDemoInput{Movies: 120, Artworks: 80}); err != nil {
		t.Fatal(err)
	}
	counts, err := a.Store.Counts(ctx)
	if err != nil || counts.Movies != 120 || counts.Artworks != 80 {
		t.Fatalf("counts = %+v, %v", counts, err)
	}

	val, err = env.ExecuteActivity(a.PlanIndex, catalogjob.PlanIndexInput{Version: "v1", Shards: 3, WorkflowID: "wf", RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	var plan catalogjob.IndexPlan
	_ = val.Get(&plan)
	docs := 0
	for sh := range plan.Shards {
		val, err := env.ExecuteActivity(a.BuildIndexShard, catalogjob.ShardInput{Version: "v1", Shard: sh, Shards: plan.Shards})
		if err != nil {
			t.Fatal(err)
		}
		var r catalogjob.ShardResult
		_ = val.Get(&r)
		if r.Worker != "test-worker" {
			t.Errorf("worker = %q", r.Worker)
		}
		docs += r.Docs
	}
	if docs != 200 {
		t.Fatalf("shards hold %d docs, want 200", docs)
	}
	// Rebuilding a shard (a retry after a worker died) is idempotent.
	if _, err := env.ExecuteActivity(a.BuildIndexShard, catalogjob.ShardInput{Version: "v1", Shard: 1, Shards: 3}); err != nil {
		t.Fatal(err)
	}
	val, err = env.ExecuteActivity(a.PublishCatalog, catalogjob.PublishInput{Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	var pub catalogjob.PublishResult
	_ = val.Get(&pub)
	if pub.Docs != 200 || len(rec.versions) != 1 || rec.versions[0] != "v1" {
		t.Fatalf("publish = %+v, announced %v", pub, rec.versions)
	}

	h := serving.NewHolder(a.Serving, a.Logger)
	if err := h.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	snap, err := h.Current()
	if err != nil || snap.Version != "v1" || snap.Index.Len() != 200 {
		t.Fatalf("snapshot = %+v, %v", snap, err)
	}
	// Every indexed id has its details in MySQL.
	res := snap.Index.Search(search.Query{Text: "the", Limit: 100})
	ids := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	items, err := a.Serving.ItemsByID(ctx, ids)
	if err != nil || len(items) != len(ids) || len(ids) == 0 {
		t.Fatalf("items for %d hits: %d, %v", len(ids), len(items), err)
	}
}

func TestPublishIncompleteVersionIsNotRetried(t *testing.T) {
	a, env, _ := setup(t)
	if _, err := env.ExecuteActivity(a.PlanIndex, catalogjob.PlanIndexInput{Version: "v1", Shards: 2}); err != nil {
		t.Fatal(err)
	}
	_, err := env.ExecuteActivity(a.PublishCatalog, catalogjob.PublishInput{Version: "v1"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != activities.ErrTypeIncomplete {
		t.Fatalf("want non-retryable %s, got %v", activities.ErrTypeIncomplete, err)
	}
}

func TestImportDatasetKeepsBadRows(t *testing.T) {
	a, env, _ := setup(t)
	dir := t.TempDir()
	basics := filepath.Join(dir, "basics.tsv")
	ratings := filepath.Join(dir, "ratings.tsv")
	os.WriteFile(basics, []byte("tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres\n"+
		"tt0133093\tmovie\tThe Matrix\tThe Matrix\t0\t1999\t\\N\t136\tAction,Sci-Fi\n"+
		"tt0000002\tshort\tbroken row\n"+
		"tt0114814\tmovie\tThe Usual Suspects\tThe Usual Suspects\t0\t1995\t\\N\t106\tCrime,Drama\n"), 0o644)
	os.WriteFile(ratings, []byte("tconst\taverageRating\tnumVotes\ntt0133093\t8.7\t2000000\n"), 0o644)
	val, err := env.ExecuteActivity(a.ImportDataset, catalogjob.DatasetInput{Format: "imdb-tsv", Paths: []string{basics, ratings}})
	if err != nil {
		t.Fatal(err)
	}
	var res catalogjob.ImportResult
	_ = val.Get(&res)
	if res.OK != 2 || res.Failed != 1 {
		t.Fatalf("result = %+v", res)
	}
	failed, err := a.Store.FailedRecords(context.Background(), "imdb-tsv", 10)
	if err != nil || len(failed) != 1 || failed[0].Error == "" {
		t.Fatalf("failed rows = %+v, %v", failed, err)
	}
	_, err = env.ExecuteActivity(a.ImportDataset, catalogjob.DatasetInput{Format: "imdb-tsv", Paths: []string{filepath.Join(dir, "missing.tsv")}})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Fatalf("missing file: want non-retryable error, got %v", err)
	}
	_, err = env.ExecuteActivity(a.ImportDataset, catalogjob.DatasetInput{Format: "csv"})
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Fatalf("bad format: want non-retryable error, got %v", err)
	}
}

func TestCatalogAndIndexChecks(t *testing.T) {
	ctx := context.Background()
	a, env, _ := setup(t)
	checks := func(act any, in catalogjob.CheckInput) map[string]bool {
		t.Helper()
		v, err := env.ExecuteActivity(act, in)
		if err != nil {
			t.Fatal(err)
		}
		var res []assets.CheckResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, r := range res {
			if !r.Blocking || r.Detail == "" {
				t.Errorf("check %+v: want blocking, with a detail", r)
			}
			out[r.Name] = r.Passed
		}
		return out
	}
	if _, err := env.ExecuteActivity(a.ImportDemoCatalog, catalogjob.ImportDemoInput{Movies: 20, Artworks: 10}); err != nil {
		t.Fatal(err)
	}
	if got := checks(a.CheckCatalog, catalogjob.CheckInput{}); !got["no_empty_titles"] || !got["no_duplicate_ids"] {
		t.Errorf("demo catalog checks: %v, want both passed", got)
	}
	if _, err := a.Store.WriteRecords(ctx, "bad", []domain.Record{
		{Source: "test", Kind: domain.KindMovie, Key: "dup", Movie: &domain.Movie{ID: "dup", Title: "  ", Source: "test"}},
		{Source: "test", Kind: domain.KindArtwork, Key: "dup", Artwork: &domain.Artwork{ID: "dup", Title: "Same id", Source: "test"}},
	}); err != nil {
		t.Fatal(err)
	}
	if got := checks(a.CheckCatalog, catalogjob.CheckInput{}); got["no_empty_titles"] || got["no_duplicate_ids"] {
		t.Errorf("catalog with a blank title and a shared id: %v, want both failed", got)
	}

	// The first version passes with any document count; the next must keep at least
	// MinRatio of the served one.
	if _, err := env.ExecuteActivity(a.PlanIndex, catalogjob.PlanIndexInput{Version: "v1", Shards: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ExecuteActivity(a.BuildIndexShard, catalogjob.ShardInput{Version: "v1", Shard: 0, Shards: 1}); err != nil {
		t.Fatal(err)
	}
	if got := checks(a.CheckIndex, catalogjob.CheckInput{Version: "v1"}); !got["row_count_within_bounds"] {
		t.Errorf("first version: %v, want passed", got)
	}
	if _, err := env.ExecuteActivity(a.PublishCatalog, catalogjob.PublishInput{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ExecuteActivity(a.PlanIndex, catalogjob.PlanIndexInput{Version: "v2", Shards: 1}); err != nil {
		t.Fatal(err)
	}
	if got := checks(a.CheckIndex, catalogjob.CheckInput{Version: "v2"}); got["row_count_within_bounds"] {
		t.Errorf("empty version: %v, want failed", got)
	}
	if _, err := env.ExecuteActivity(a.BuildIndexShard, catalogjob.ShardInput{Version: "v2", Shard: 0, Shards: 1}); err != nil {
		t.Fatal(err)
	}
	if got := checks(a.CheckIndex, catalogjob.CheckInput{Version: "v2", MinRatio: 0.9}); !got["row_count_within_bounds"] {
		t.Errorf("rebuilt version: %v, want passed", got)
	}
	if got := checks(a.CheckIndex, catalogjob.CheckInput{Version: "v2", MinRatio: 2}); got["row_count_within_bounds"] {
		t.Errorf("min ratio 2: %v, want failed", got)
	}
}
