package postgres_test

import (
	"context"
	"testing"
	"time"
)

func TestTermStoreRollupHour(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	st := s.Terms()
	hr := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	// term_windows as internal/ingest's speed line writes them: the hour 9:00 has "harbor"
	// 2+1 in minutes = 3 in the hour and "#noir" 1 = 1; "late" was counted in the hour only.
	// The 10:00 minute and the 8:00 windows are outside the hour.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO term_windows (window_size, window_start, kind, term, count) VALUES
		('1m', $1, 'term', 'harbor', 2), ('1m', $1 + interval '59 minutes', 'term', 'harbor', 1), ('1m', $1, 'tag', '#noir', 1),
		('1h', $1, 'term', 'harbor', 3), ('1h', $1, 'tag', '#noir', 1), ('1h', $1, 'term', 'late', 2),
		('1m', $1 + interval '1 hour', 'term', 'harbor', 5), ('1m', $1 - interval '1 hour', 'term', 'old', 1), ('1h', $1 - interval '1 hour', 'term', 'old', 1)`, hr); err != nil {
		t.Fatal(err)
	}
	count := func(size string) (n int) {
		t.Helper()
		if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM term_windows WHERE window_size = $1`, size).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Nothing is past retention yet.
	r, err := st.RollupHour(ctx, hr, hr.Add(-2*time.Hour), hr.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Hour.Equal(hr) || r.Terms != 3 || r.Tokens != 6 || r.Mismatched != 1 || r.Consistent || r.Pruned != 0 {
		t.Errorf("rollup %+v, want 3 terms, 6 counted, 1 mismatch (late), none pruned", r)
	}
	// Minutes before 9:00 and hours before 8:00 are pruned: the 8:00 minute only.
	if r, err = st.RollupHour(ctx, hr, hr, hr.Add(-time.Hour)); err != nil || r.Pruned != 1 {
		t.Errorf("rollup pruning the 8:00 minute: %+v, %v", r, err)
	}
	if m, h := count("1m"), count("1h"); m != 4 || h != 4 {
		t.Errorf("windows left: %d 1m, %d 1h, want 4 and 4", m, h)
	}
	var terms, tokens, pruned int64
	var consistent bool
	if err := s.Pool().QueryRow(ctx, `SELECT terms, tokens, consistent, pruned FROM term_rollups WHERE hour = $1`, hr).
		Scan(&terms, &tokens, &consistent, &pruned); err != nil {
		t.Fatal(err)
	}
	if terms != 3 || tokens != 6 || consistent || pruned != 1 {
		t.Errorf("term_rollups row: %d terms, %d tokens, consistent %v, %d pruned (the checks' prunes add up)", terms, tokens, consistent, pruned)
	}
	// An empty hour is consistent.
	if r, err := st.RollupHour(ctx, hr.Add(5*time.Hour), time.Time{}, time.Time{}); err != nil || !r.Consistent || r.Terms != 0 || r.Tokens != 0 {
		t.Errorf("empty hour %+v, %v", r, err)
	}
}
