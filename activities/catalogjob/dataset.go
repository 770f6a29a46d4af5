package catalogjob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/importer"
	"github.com/curiodata/curio/internal/storage/postgres"
)

// DatasetInput names a public dataset file (or files) on the worker's machine.
type DatasetInput struct {
	// Format is one of importer.Formats(): movies-csv, imdb-tsv, moma-artists, moma-artworks.
	Format string `json:"format"`
	// Paths: one file, or for imdb-tsv title.basics.tsv then optionally title.ratings.tsv.
	Paths []string `json:"paths"`
}

// Validate reports a clear error for a bad format or path list.
func (in DatasetInput) Validate() error {
	known := false
	for _, f := range importer.Formats() {
		known = known || f == in.Format
	}
	switch {
	case !known:
		return fmt.Errorf("unknown dataset format %q: want one of %s", in.Format, strings.Join(importer.Formats(), ", "))
	case len(in.Paths) == 0:
		return fmt.Errorf("dataset %s: no file given", in.Format)
	case in.Format == "imdb-tsv" && len(in.Paths) > 2:
		return errors.New("imdb-tsv: give title.basics.tsv and optionally title.ratings.tsv")
	case in.Format != "imdb-tsv" && len(in.Paths) > 1:
		return fmt.Errorf("%s: give exactly one file", in.Format)
	}
	return nil
}

// LoadDataset streams a dataset into the warehouse in batches of batchSize records, calling
// progress after every batch. Rows that do not parse are kept in the raw zone with their
// reason and counted as failed; they never stop the load.
func LoadDataset(ctx context.Context, pg *postgres.Store, in DatasetInput, importID string, batchSize int, progress func(postgres.WriteStats)) (postgres.WriteStats, error) {
	var total postgres.WriteStats
	if err := in.Validate(); err != nil {
		return total, err
	}
	files := make([]io.Reader, 0, len(in.Paths))
	for _, p := range in.Paths {
		f, err := os.Open(p)
		if err != nil {
			return total, fmt.Errorf("open dataset file: %w", err)
		}
		defer f.Close()
		files = append(files, f)
	}
	if err := pg.StartImport(ctx, importID, in.Format); err != nil {
		return total, err
	}
	batch := make([]domain.Record, 0, batchSize)
	flush := func() error {
		st, err := pg.WriteRecords(ctx, importID, batch)
		if err != nil {
			return err
		}
		total.Add(st)
		batch = batch[:0]
		if progress != nil {
			progress(total)
		}
		return nil
	}
	emit := func(r domain.Record) error {
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			return flush()
		}
		return ctx.Err()
	}
	var err error
	switch in.Format {
	case "movies-csv":
		err = importer.ReadMoviesCSV(files[0], emit)
	case "imdb-tsv":
		var ratings io.Reader
		if len(files) == 2 {
			ratings = files[1]
		}
		err = importer.ReadIMDbTSV(files[0], ratings, emit)
	case "moma-artists":
		err = importer.ReadMoMAArtists(files[0], emit)
	case "moma-artworks":
		err = importer.ReadMoMAArtworks(files[0], emit)
	}
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return total, fmt.Errorf("import %s from %s: %w", in.Format, strings.Join(in.Paths, ", "), err)
	}
	if err := pg.FinishImport(ctx, importID, total); err != nil {
		return total, err
	}
	return total, nil
}

// ImportDataset loads a dataset file that is on the worker's machine. Writes are upserts,
// so a retried attempt rewrites the same rows.
func (a *Activities) ImportDataset(ctx context.Context, in DatasetInput) (ImportResult, error) {
	if err := in.Validate(); err != nil {
		return ImportResult{}, activities.BadInput(err)
	}
	info := activity.GetInfo(ctx)
	id := info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/" + in.Format
	st, err := LoadDataset(ctx, a.Store, in, id, a.batchSize(), func(st postgres.WriteStats) { activity.RecordHeartbeat(ctx, st) })
	if errors.Is(err, os.ErrNotExist) {
		return ImportResult{}, activities.BadInput(err)
	}
	return ImportResult{ImportID: id, Dataset: in.Format, OK: st.OK, Failed: st.Failed}, err
}
