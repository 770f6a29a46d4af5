package postgres_test

import (
	"context"
	"testing"
	"time"
)

func TestEventPartitionStoreMaterializeHour(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	st := s.EventPartitions()
	h := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	landEvents(t, s, [][]any{
		{"view", "u1", h.Add(time.Minute), "m1"},
		{"view", "u2", h.Add(59 * time.Minute), "m1"},
		{"view", "u1", h.Add(time.Hour), "m1"}, // the next hour
	})
	if _, err := s.Pool().Exec(ctx, `INSERT INTO dead_letters (consumer, topic, kpartition, koffset, reason, detail, received_at)
		VALUES ('lander', 't', 0, 1, 'bad', '', $1), ('lander', 't', 0, 2, 'bad', '', $2)`, h.Add(time.Minute), h.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	p, err := st.MaterializeHour(ctx, h.Add(30*time.Minute), "wf-1")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Hour.Equal(h) || p.Events != 2 || p.DeadLetters != 1 {
		t.Errorf("materialized %+v, want hour %s with 2 events and 1 dead letter", p, h)
	}
	// A re-run replaces the record of the hour.
	landEvents(t, s, [][]any{{"view", "u3", h.Add(2 * time.Minute), "m1"}})
	if p, err = st.MaterializeHour(ctx, h, "wf-2"); err != nil || p.Events != 3 {
		t.Errorf("re-run: %+v, %v (want 3 events)", p, err)
	}
	var n int
	var wf string
	if err := s.Pool().QueryRow(ctx, `SELECT count(*), max(workflow_id) FROM event_partitions WHERE status = 'materialized'`).Scan(&n, &wf); err != nil {
		t.Fatal(err)
	}
	if n != 1 || wf != "wf-2" {
		t.Errorf("event_partitions: %d rows, workflow %q (want one row of wf-2)", n, wf)
	}
}
