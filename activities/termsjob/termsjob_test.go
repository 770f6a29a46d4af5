package termsjob_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/testsuite"

	"github.com/curiodata/curio/activities/termsjob"
	"github.com/curiodata/curio/internal/teststores"
)

func TestRollupTermsChecksAndPrunes(t *testing.T) {
	ctx := context.Background()
	pg, _, dsn := teststores.Open(t)
	// A direct connection for the speed line's side (internal/ingest writes term_windows).
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	a := &termsjob.Activities{Store: pg.Terms()}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	hr := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	old := hr.Add(-100 * 24 * time.Hour)
	// The hour: "harbor" 2+1 in
	// minutes = 3 in the hour; "#noir" 1 = 1. Plus windows past retention.
	if _, err := db.Exec(ctx, `INSERT INTO term_windows (window_size, window_start, kind, term, count) VALUES
		('1m', $1, 'term', 'harbor', 2), ('1m', $1 + interval '5 minutes', 'term', 'harbor', 1), ('1m', $1, 'tag', '#noir', 1),
		('1h', $1, 'term', 'harbor', 3), ('1h', $1, 'tag', '#noir', 1),
		('1m', $2, 'term', 'old', 1), ('1h', $2, 'term', 'old', 1)`, hr, old); err != nil {
		t.Fatal(err)
	}
	val, err := env.ExecuteActivity(a.RollupTerms, termsjob.TermsRollupInput{Hour: hr.Add(20 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	var res termsjob.TermsRollupResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if !res.Consistent || res.Terms != 2 || res.Tokens != 4 || res.Pruned != 2 || !res.Hour.Equal(hr) {
		t.Errorf("rollup %+v, want hour %s consistent, 2 terms, 4 counted, 2 pruned", res, hr)
	}
	// A lost minute makes the hour inconsistent.
	if _, err := db.Exec(ctx, `DELETE FROM term_windows WHERE window_size = '1m' AND term = '#noir'`); err != nil {
		t.Fatal(err)
	}
	val, err = env.ExecuteActivity(a.RollupTerms, termsjob.TermsRollupInput{Hour: hr})
	if err != nil {
		t.Fatal(err)
	}
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Consistent || res.Mismatched != 1 {
		t.Errorf("rollup after a lost minute %+v, want 1 mismatch", res)
	}
}
