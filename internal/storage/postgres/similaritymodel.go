package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
)

// similarityModelPart is the size of one similarity_models row.
const similarityModelPart = 8 << 20

// ModelInfo describes a stored similarity model.
type ModelInfo struct {
	Parts int   `json:"parts"`
	Bytes int64 `json:"bytes"`
}

// PutSimilarityModel stores the model that write produces as version's, in parts, in one
// transaction that replaces any parts stored before (a retried build replaces, never
// mixes). progress, if not nil, is called with the bytes stored so far after each part.
func (s *SimilarityStore) PutSimilarityModel(ctx context.Context, version string, write func(io.Writer) error, progress func(int64)) (ModelInfo, error) {
	var info ModelInfo
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		info = ModelInfo{}
		if _, err := tx.Exec(ctx, `DELETE FROM similarity_models WHERE version = $1`, version); err != nil {
			return fmt.Errorf("clear similarity model %s: %w", version, err)
		}
		pw := &partWriter{buf: make([]byte, 0, similarityModelPart), flush: func(b []byte) error {
			if _, err := tx.Exec(ctx, `INSERT INTO similarity_models (version, part, data) VALUES ($1, $2, $3)`, version, info.Parts, b); err != nil {
				return fmt.Errorf("store similarity model %s part %d: %w", version, info.Parts, err)
			}
			info.Parts++
			info.Bytes += int64(len(b))
			if progress != nil {
				progress(info.Bytes)
			}
			return nil
		}}
		if err := write(pw); err != nil {
			return err
		}
		return pw.Close()
	})
	if err != nil {
		return ModelInfo{}, err
	}
	return info, nil
}

// partWriter hands its input on in parts of cap(buf) bytes.
type partWriter struct {
	buf   []byte
	flush func([]byte) error
}

func (w *partWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(w.buf); err != nil {
				return n, err
			}
			w.buf = w.buf[:0]
		}
	}
	return n, nil
}

// Close stores what is left.
func (w *partWriter) Close() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.flush(w.buf)
	w.buf = w.buf[:0]
	return err
}

// ErrNoModel reports that a version has no stored similarity model.
var ErrNoModel = errors.New("no similarity model stored")

// SimilarityModel returns a reader over version's stored model, part by part (one part in
// memory at a time). It fails with ErrNoModel when none is stored.
func (s *SimilarityStore) SimilarityModel(ctx context.Context, version string) (io.Reader, ModelInfo, error) {
	var info ModelInfo
	err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(octet_length(data)), 0) FROM similarity_models WHERE version = $1`,
		version).Scan(&info.Parts, &info.Bytes)
	if err != nil {
		return nil, ModelInfo{}, fmt.Errorf("similarity model %s: %w", version, err)
	}
	if info.Parts == 0 {
		return nil, ModelInfo{}, fmt.Errorf("similarity model %s: %w", version, ErrNoModel)
	}
	return &partReader{ctx: ctx, s: s, version: version, parts: info.Parts}, info, nil
}

type partReader struct {
	ctx     context.Context
	s       *SimilarityStore
	version string
	next    int
	parts   int
	buf     []byte
}

func (r *partReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.next == r.parts {
			return 0, io.EOF
		}
		if err := r.s.pool.QueryRow(r.ctx, `SELECT data FROM similarity_models WHERE version = $1 AND part = $2`,
			r.version, r.next).Scan(&r.buf); err != nil {
			return 0, fmt.Errorf("read similarity model %s part %d: %w", r.version, r.next, err)
		}
		r.next++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// DropSimilarityModels deletes version's stored model and any other older than
// olderThan (left by runs that failed before publishing), returning the versions dropped.
func (s *SimilarityStore) DropSimilarityModels(ctx context.Context, version string, olderThan time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM similarity_models WHERE version = $1 OR created_at < now() - $2::interval`,
		version, fmt.Sprintf("%d seconds", int64(olderThan.Seconds())))
	if err != nil {
		return 0, fmt.Errorf("drop similarity models: %w", err)
	}
	return tag.RowsAffected(), nil
}
