package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

// TestBackfillChecksTheRangeFirst: a bad or oversized range is a clear error before the CLI
// reaches for Temporal (the configured address is unreachable, so dialing would fail
// differently).
func TestBackfillChecksTheRangeFirst(t *testing.T) {
	cfg, err := config.FromLookup(func(name string) (string, bool) {
		switch name {
		case "CURIO_TEMPORAL_HOSTPORT":
			return "127.0.0.1:1", true
		case "CURIO_BACKFILL_MAX_PARTITIONS":
			return "48", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		args []string
		want error
		text string
	}{
		{[]string{assets.RawEvents, "--from", "not-a-date"}, assets.ErrBadRange, `"not-a-date"`},
		{[]string{assets.RawEvents, "--from", "1970-01-01T00", "--to", "2199-12-31T00", "--dry-run"}, assets.ErrBadRange, "a day from now"},
		{[]string{assets.RawEvents, "--from", "2020-01-01", "--to", "2020-01-04"}, assets.ErrTooManyPartitions, "72 partitions"},
	} {
		err := cmdBackfill(context.Background(), cfg, logger, builtinDefs(t), tc.args, io.Discard, io.Discard)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%v: got %v, want %v mentioning %s", tc.args, err, tc.want, tc.text)
		}
	}
}

func builtinDefs(t *testing.T) *pipeline.Definitions {
	t.Helper()
	defs, err := workflows.Definitions()
	if err != nil {
		t.Fatal(err)
	}
	return defs
}
