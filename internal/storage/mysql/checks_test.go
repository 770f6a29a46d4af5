package mysql_test

import (
	"context"
	"testing"
)

func TestIndexDocs(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	docs, served, err := s.IndexDocs(ctx, "v1")
	if err != nil || docs != 0 || served != 0 {
		t.Fatalf("nothing built: %d, %d, %v", docs, served, err)
	}
	if err := s.CreateVersion(ctx, "v1", 2, "wf", "run"); err != nil {
		t.Fatal(err)
	}
	for shard, n := range []int{3, 4} {
		if err := s.PutSegment(ctx, "v1", shard, n, []byte("seg")); err != nil {
			t.Fatal(err)
		}
	}
	// A shard stored in several chunks counts once.
	if err := s.PutSegment(ctx, "v1", 1, 4, make([]byte, 5<<20)); err != nil {
		t.Fatal(err)
	}
	if docs, served, err = s.IndexDocs(ctx, "v1"); err != nil || docs != 7 || served != 0 {
		t.Fatalf("v1 built: %d, %d, %v (want 7 docs, none served)", docs, served, err)
	}
	if _, err := s.Publish(ctx, "v1", 3); err != nil {
		t.Fatal(err)
	}
	if docs, served, err = s.IndexDocs(ctx, "v2"); err != nil || docs != 0 || served != 7 {
		t.Fatalf("v2 planned, v1 served: %d, %d, %v (want 0 docs, 7 served)", docs, served, err)
	}
}
