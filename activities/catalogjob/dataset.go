package catalogjob

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// DatasetInput names a public dataset file (or files) to import.
type DatasetInput struct {
	// Format is one of importer.Formats(): movies-csv, imdb-tsv, moma-artists, moma-artworks.
	Format string `json:"format"`
	// Paths: one file, or for imdb-tsv title.basics.tsv then optionally title.ratings.tsv.
	// Each is an http:// or https:// URL, which any worker downloads, or a path on the
	// machine of the worker that runs the import. A name ending in ".gz" is decompressed.
	Paths []string `json:"paths"`
	// SHA256 optionally gives the expected hex SHA-256 of each file of Paths, in order, as
	// served (compressed, for a .gz); "" or a missing entry means no check for that file.
	// A file that does not match fails the import before any row is written.
	SHA256 []string `json:"sha256,omitempty"`
}

// Validate reports a clear error for a bad format, path list or checksum.
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
	case len(in.SHA256) > len(in.Paths):
		return fmt.Errorf("dataset %s: %d checksums for %d files", in.Format, len(in.SHA256), len(in.Paths))
	}
	for i, p := range in.Paths {
		switch {
		case p == "":
			return fmt.Errorf("dataset %s: file %d: empty path", in.Format, i+1)
		case isURL(p):
			if _, err := parseDatasetURL(p); err != nil {
				return err
			}
		case strings.Contains(p, "://"):
			scheme, _, _ := strings.Cut(p, "://")
			return fmt.Errorf("dataset %s: unsupported URL scheme %q: give an http(s):// URL or a path on the worker", in.Format, scheme)
		}
	}
	for i, sum := range in.SHA256 {
		if b, err := hex.DecodeString(sum); sum != "" && (err != nil || len(b) != sha256.Size) {
			return fmt.Errorf("dataset %s: sha256 of file %d: want 64 hex digits, got %q", in.Format, i+1, sum)
		}
	}
	return nil
}

// checksum returns the expected SHA-256 of the i-th file, "" for none.
func (in DatasetInput) checksum(i int) string {
	if i < len(in.SHA256) {
		return in.SHA256[i]
	}
	return ""
}

// datasetFile is a local file ready to import.
type datasetFile struct {
	path       string // on this machine
	name       string // what errors call it: the path given, or the URL redacted
	downloaded bool   // a temporary file, removed after the import
}

// localFiles downloads the URLs of in (with d) and checks the checksums of all its files,
// returning local files in the order of in.Paths and a function that removes the downloads.
// Missing local files are left to the open on import.
func localFiles(ctx context.Context, d *Downloader, in DatasetInput) ([]datasetFile, func(), error) {
	files := make([]datasetFile, 0, len(in.Paths))
	cleanup := func() {
		for _, f := range files {
			if f.downloaded {
				_ = os.Remove(f.path)
			}
		}
	}
	for i, p := range in.Paths {
		if !isURL(p) {
			if sum := in.checksum(i); sum != "" {
				if err := verifySHA256(p, p, sum); err != nil {
					cleanup()
					return nil, func() {}, err
				}
			}
			files = append(files, datasetFile{path: p, name: p})
			continue
		}
		u, err := parseDatasetURL(p)
		if err != nil {
			cleanup()
			return nil, func() {}, err
		}
		local, err := d.Download(ctx, p, in.checksum(i))
		if err != nil {
			cleanup()
			return nil, func() {}, err
		}
		files = append(files, datasetFile{path: local, name: redactURL(u), downloaded: true})
	}
	return files, cleanup, nil
}

// LoadDataset streams a dataset into the warehouse in batches of batchSize records, calling
// progress after every batch. Rows that do not parse are kept in the raw zone with their
// reason and counted as failed; they never stop the load. URLs in in.Paths are downloaded
// first with a default Downloader.
func LoadDataset(ctx context.Context, pg *postgres.Store, in DatasetInput, importID string, batchSize int, progress func(postgres.WriteStats)) (postgres.WriteStats, error) {
	if err := in.Validate(); err != nil {
		return postgres.WriteStats{}, err
	}
	files, cleanup, err := localFiles(ctx, &Downloader{}, in)
	if err != nil {
		return postgres.WriteStats{}, err
	}
	defer cleanup()
	return importFiles(ctx, pg, in.Format, files, importID, batchSize, progress)
}

// openDatasetFile opens a local dataset file, decompressing a .gz.
func openDatasetFile(f datasetFile) (io.ReadCloser, error) {
	file, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("open dataset file: %w", err)
	}
	if !isGzipName(f.path) {
		return file, nil
	}
	zr, err := gzip.NewReader(file)
	if err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("dataset %s: %w", f.name, err)
	}
	return gzipFile{zr, file}, nil
}

// gzipFile closes both the decompressor and the file under it.
type gzipFile struct {
	*gzip.Reader
	file *os.File
}

func (g gzipFile) Close() error { return errors.Join(g.Reader.Close(), g.file.Close()) }

// importFiles reads local files of a format into the warehouse (see LoadDataset).
func importFiles(ctx context.Context, pg *postgres.Store, format string, files []datasetFile, importID string, batchSize int, progress func(postgres.WriteStats)) (postgres.WriteStats, error) {
	var total postgres.WriteStats
	readers := make([]io.Reader, 0, len(files))
	names := make([]string, 0, len(files))
	for _, f := range files {
		r, err := openDatasetFile(f)
		if err != nil {
			return total, err
		}
		defer r.Close()
		readers = append(readers, r)
		names = append(names, f.name)
	}
	if err := pg.StartImport(ctx, importID, format); err != nil {
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
	switch format {
	case "movies-csv":
		err = importer.ReadMoviesCSV(readers[0], emit)
	case "imdb-tsv":
		var ratings io.Reader
		if len(readers) == 2 {
			ratings = readers[1]
		}
		err = importer.ReadIMDbTSV(readers[0], ratings, emit)
	case "moma-artists":
		err = importer.ReadMoMAArtists(readers[0], emit)
	case "moma-artworks":
		err = importer.ReadMoMAArtworks(readers[0], emit)
	}
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return total, fmt.Errorf("import %s from %s: %w", format, strings.Join(names, ", "), err)
	}
	if err := pg.FinishImport(ctx, importID, total); err != nil {
		return total, err
	}
	return total, nil
}

// ImportDataset loads a dataset from http(s) URLs, downloaded with a.Downloads (heartbeating
// the bytes received), or from files on this worker's machine. Writes are upserts, so a
// retried attempt rewrites the same rows. A local path missing here, a bad checksum and a
// URL answered with a 4xx other than 408 and 429 fail without retries.
func (a *Activities) ImportDataset(ctx context.Context, in DatasetInput) (ImportResult, error) {
	if err := in.Validate(); err != nil {
		return ImportResult{}, activities.BadInput(err)
	}
	if err := a.checkLocalPaths(in); err != nil {
		return ImportResult{}, err
	}
	info := activity.GetInfo(ctx)
	id := info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/" + in.Format
	d := a.Downloads
	if d.Logger == nil {
		d.Logger = activities.Logger(ctx, a.Logger)
	}
	// Download progress and, later, write stats are heartbeated: both only keep the activity alive.
	d.Progress = func(p DownloadProgress) { activity.RecordHeartbeat(ctx, p) }
	files, cleanup, err := localFiles(ctx, &d, in)
	if err != nil {
		var se *StatusError
		if errors.Is(err, ErrChecksumMismatch) || (errors.As(err, &se) && !se.Temporary()) {
			return ImportResult{}, activities.BadInput(err)
		}
		return ImportResult{}, err
	}
	defer cleanup()
	st, err := importFiles(ctx, a.Store, in.Format, files, id, a.batchSize(), func(st postgres.WriteStats) { activity.RecordHeartbeat(ctx, st) })
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, gzip.ErrHeader) {
		return ImportResult{}, activities.BadInput(err)
	}
	return ImportResult{ImportID: id, Dataset: in.Format, OK: st.OK, Failed: st.Failed}, err
}

// checkLocalPaths fails, not retryably, when a local path of in is not on this worker:
// paths are read on the machine of whichever worker picked the activity up.
func (a *Activities) checkLocalPaths(in DatasetInput) error {
	for _, p := range in.Paths {
		if isURL(p) {
			continue
		}
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return activities.BadInput(fmt.Errorf("dataset %s: not found on worker %s (paths are read on the worker's machine; use an http(s):// URL to import from any worker)", p, a.worker()))
		case err != nil:
			return fmt.Errorf("dataset %s on worker %s: %w", p, a.worker(), err)
		case fi.IsDir():
			return activities.BadInput(fmt.Errorf("dataset %s: is a directory on worker %s, want a file", p, a.worker()))
		}
	}
	return nil
}

// worker names this worker in errors: Identity (the worker's Temporal identity), else the
// host name.
func (a *Activities) worker() string {
	if a.Identity != "" {
		return a.Identity
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "unknown"
}
