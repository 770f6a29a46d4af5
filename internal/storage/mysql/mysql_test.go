package mysql_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/testdb"
)

func open(t *testing.T) *mysql.Store {
	t.Helper()
	ctx := context.Background()
	s, err := mysql.Open(ctx, testdb.MySQL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestItemsUpsertAndRead(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	items := []mysql.Item{
		{ID: "tt1", Type: "movie", Title: "Amélie", Year: 2001, Details: []byte(`{"id":"tt1"}`)},
		{ID: "moma-aw-2", Type: "artwork", Title: "Ferdinandsbrücke Project", ImageURL: "https://example.org/a.jpg"},
	}
	if err := s.UpsertItems(ctx, "v1", items); err != nil {
		t.Fatal(err)
	}
	items[0].Title = "Le Fabuleux Destin d'Amélie Poulain"
	if err := s.UpsertItems(ctx, "v2", items); err != nil {
		t.Fatal(err)
	}
	got, err := s.ItemsByID(ctx, []string{"tt1", "moma-aw-2", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["tt1"].Title != items[0].Title || got["tt1"].Year != 2001 || got["moma-aw-2"].ImageURL == "" {
		t.Errorf("got %+v", got)
	}
	if _, err := s.ItemsByID(ctx, nil); err != nil {
		t.Error(err)
	}
}

func TestPublishRequiresAllShardsAndSwitches(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if _, err := s.CurrentVersion(ctx); !errors.Is(err, mysql.ErrNotFound) {
		t.Fatalf("before publish: %v", err)
	}
	if err := s.CreateVersion(ctx, "v1", 2, "wf", "run"); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 9<<20) // spans three chunks
	if err := s.PutSegment(ctx, "v1", 0, 10, big); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, "v1", 3); !errors.Is(err, mysql.ErrIncomplete) {
		t.Fatalf("publish with a missing shard: want ErrIncomplete, got %v", err)
	}
	// A retried shard replaces what the first attempt stored.
	if err := s.PutSegment(ctx, "v1", 1, 5, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSegment(ctx, "v1", 1, 5, []byte("second")); err != nil {
		t.Fatal(err)
	}
	v, err := s.Publish(ctx, "v1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if v.Docs != 15 || v.Shards != 2 {
		t.Errorf("version = %+v", v)
	}
	cur, err := s.CurrentVersion(ctx)
	if err != nil || cur != "v1" {
		t.Fatalf("current = %q, %v", cur, err)
	}
	segs, err := s.LoadSegments(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || !bytes.Equal(segs[0], big) || string(segs[1]) != "second" {
		t.Errorf("segments: %d, len0=%d, seg1=%q", len(segs), len(segs[0]), segs[1])
	}
	if _, err := s.Publish(ctx, "nope", 3); !errors.Is(err, mysql.ErrNotFound) {
		t.Errorf("unknown version: %v", err)
	}
}

func TestPublishPrunesOldVersions(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for _, v := range []string{"v1", "v2", "v3"} {
		if err := s.CreateVersion(ctx, v, 1, "wf", v); err != nil {
			t.Fatal(err)
		}
		if err := s.PutSegment(ctx, v, 0, 1, []byte(v)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Publish(ctx, v, 2); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.LoadSegments(ctx, "v1"); !errors.Is(err, mysql.ErrNotFound) {
		t.Errorf("v1 should be pruned, got %v", err)
	}
	for _, v := range []string{"v2", "v3"} {
		if _, err := s.LoadSegments(ctx, v); err != nil {
			t.Errorf("%s should be kept: %v", v, err)
		}
	}
}
