package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/curiodata/curio/api"
	"github.com/curiodata/curio/internal/pools"
	"github.com/curiodata/curio/internal/storage/postgres"
)

type poolUsage struct {
	usage []pools.Usage
	err   error
}

func (p poolUsage) Usage(context.Context) ([]pools.Usage, error) { return p.usage, p.err }

func TestPoolsAPI(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	serve := func(r api.PoolReader) string {
		srv := httptest.NewServer(api.New(api.Deps{Pools: r, Logger: logger, Limits: api.Limits{SearchRate: -1}}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	since := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	holder := postgres.PoolSlot{Pool: "mysql-publish", PoolRun: postgres.PoolRun{WorkflowID: "cat-1", RunID: "r1", Job: "CatalogPipeline"},
		RequestedAt: since, AcquiredAt: &since}
	u := serve(poolUsage{usage: []pools.Usage{{Pool: "mysql-publish", Limit: 1, Jobs: []string{"CatalogPipeline"},
		Holders: []postgres.PoolSlot{holder}, Waiting: []postgres.PoolSlot{}}}})
	var got struct {
		Pools []struct {
			Pool    string   `json:"pool"`
			Limit   int      `json:"limit"`
			Jobs    []string `json:"jobs"`
			Holders []struct {
				WorkflowID string     `json:"workflow_id"`
				RunID      string     `json:"run_id"`
				Job        string     `json:"job"`
				AcquiredAt *time.Time `json:"acquired_at"`
			} `json:"holders"`
			Waiting []any `json:"waiting"`
		} `json:"pools"`
	}
	get(t, u+"/api/pools", http.StatusOK, &got)
	if len(got.Pools) != 1 || got.Pools[0].Limit != 1 || len(got.Pools[0].Holders) != 1 || got.Pools[0].Waiting == nil {
		t.Fatalf("pools = %+v", got)
	}
	if h := got.Pools[0].Holders[0]; h.WorkflowID != "cat-1" || h.Job != "CatalogPipeline" || h.AcquiredAt == nil || !h.AcquiredAt.Equal(since) {
		t.Errorf("holder = %+v", h)
	}

	var e struct{ Error string }
	get(t, serve(nil)+"/api/pools", http.StatusServiceUnavailable, &e)
	get(t, serve(poolUsage{err: errors.New("db down")})+"/api/pools", http.StatusInternalServerError, &e)
	if e.Error != "internal error" {
		t.Errorf("error %q leaks the cause", e.Error)
	}
}
