package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/curiodata/curio/activities"
)

func TestRollupTermsChecksAndPrunes(t *testing.T) {
	acts, env, _ := setup(t)
	ctx := context.Background()
	hr := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	old := hr.Add(-100 * 24 * time.Hour)
	// The hour: "harbor" 2+1 in minutes = 3 in the hour; "#noir" 1 = 1. Plus windows past retention.
	if _, err := acts.PG.Pool().Exec(ctx, `INSERT INTO term_windows (window_size, window_start, kind, term, count) VALUES
		('1m', $1, 'term', 'harbor', 2), ('1m', $1 + interval '5 minutes', 'term', 'harbor', 1), ('1m', $1, 'tag', '#noir', 1),
		('1h', $1, 'term', 'harbor', 3), ('1h', $1, 'tag', '#noir', 1),
		('1m', $2, 'term', 'old', 1), ('1h', $2, 'term', 'old', 1)`, hr, old); err != nil {
		t.Fatal(err)
	}
	val, err := env.ExecuteActivity(acts.RollupTerms, activities.TermsRollupInput{Hour: hr})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.TermsRollupResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if !res.Consistent || res.Terms != 2 || res.Tokens != 4 || res.Pruned != 2 {
		t.Errorf("rollup %+v, want consistent, 2 terms, 4 counted, 2 pruned", res)
	}
	// A lost minute makes the hour inconsistent.
	if _, err := acts.PG.Pool().Exec(ctx, `DELETE FROM term_windows WHERE window_size = '1m' AND term = '#noir'`); err != nil {
		t.Fatal(err)
	}
	val, err = env.ExecuteActivity(acts.RollupTerms, activities.TermsRollupInput{Hour: hr})
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
