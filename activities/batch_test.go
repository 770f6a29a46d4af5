package activities_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/curiodata/curio/activities"
)

func insertEvents(t *testing.T, a *activities.Activities, rows [][]any) {
	t.Helper()
	ctx := context.Background()
	for _, hr := range []string{"2026112309", "2026112310"} {
		from, _ := time.Parse("2006010215", hr)
		_, err := a.PG.Pool().Exec(ctx, `CREATE TABLE IF NOT EXISTS raw_events_`+hr+` PARTITION OF raw_events FOR VALUES FROM ('`+
			from.Format(time.RFC3339)+`') TO ('`+from.Add(time.Hour).Format(time.RFC3339)+`')`)
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range rows {
		_, err := a.PG.Pool().Exec(ctx, `INSERT INTO raw_events (event_id, type, user_id, ts, item_id, country, category, source_item, target_item, topic, kpartition, koffset)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'t',0,$10)`, append([]any{fmt.Sprint("ev", i)}, append(r, i)...)...)
		if err != nil {
			t.Fatal(err)
		}
	}
}
