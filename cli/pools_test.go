package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/pools"
	"github.com/curiodata/curio/internal/storage/postgres"
)

func TestPrintPools(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	slot := func(id string, held bool) postgres.PoolSlot {
		s := postgres.PoolSlot{Pool: "mysql-publish", PoolRun: postgres.PoolRun{WorkflowID: id, RunID: "r-" + id, Job: "CatalogPipeline"}, RequestedAt: at}
		if held {
			s.AcquiredAt = &at
		}
		return s
	}
	var out bytes.Buffer
	err := printPools(&out, []pools.Usage{
		{Pool: "mysql-publish", Limit: 1, Jobs: []string{"BuildSimilarity", "CatalogPipeline"},
			Holders: []postgres.PoolSlot{slot("cat-1", true)}, Waiting: []postgres.PoolSlot{slot("cat-2", false)}},
		{Pool: "scrape", Limit: 2, Jobs: []string{"ScrapeCatalog"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `POOL           LIMIT  HELD  WAITING  JOBS
mysql-publish  1      1     1        BuildSimilarity, CatalogPipeline
scrape         2      0     0        ScrapeCatalog

POOL           STATE  SINCE                RUN
mysql-publish  holds  2026-12-01 12:00:00  CatalogPipeline cat-1 (run r-cat-1)
mysql-publish  waits  2026-12-01 12:00:00  CatalogPipeline cat-2 (run r-cat-2)
`
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	out.Reset()
	if err := printPools(&out, nil); err != nil || !strings.Contains(out.String(), "no job declares a pool") {
		t.Errorf("no pools: %q, %v", out.String(), err)
	}
}
