package activities

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/curiodata/curio/internal/published"
)

// switchModel is SwitchModel with this worker's stores.
func switchModel[V any](ctx context.Context, a *Activities, m published.Model[V], version string, last []published.Row[V]) (ModelPublishResult, error) {
	return SwitchModel(ctx, a.MySQL, a.PG.BatchRuns(), a.Logger, m, version, last)
}

// publishGrouped publishes a model whose rows come from query ordered by key: consecutive
// rows with the same key become one MySQL row holding the JSON list of their values.
func publishGrouped[V any](ctx context.Context, a *Activities, m published.Model[[]V], version, query string, scan func(pgx.Rows) (string, V, error), args ...any) (ModelPublishResult, error) {
	model := m.Name()
	rows, err := a.PG.Pool().Query(ctx, query, args...)
	if err != nil {
		return ModelPublishResult{}, fmt.Errorf("read %s %s: %w", model, version, err)
	}
	defer rows.Close()
	var batch []published.Row[[]V]
	var cur string
	var vals []V
	emit := func() error {
		if cur == "" {
			return nil
		}
		batch = append(batch, published.Row[[]V]{Key: cur, Value: vals})
		vals = nil
		if len(batch) >= 1000 {
			err := m.Put(ctx, a.MySQL, version, batch)
			batch = batch[:0]
			return err
		}
		return nil
	}
	for rows.Next() {
		key, v, err := scan(rows)
		if err != nil {
			return ModelPublishResult{}, fmt.Errorf("read %s: %w", model, err)
		}
		if key != cur {
			if err := emit(); err != nil {
				return ModelPublishResult{}, err
			}
			cur = key
		}
		vals = append(vals, v)
	}
	if err := rows.Err(); err != nil {
		return ModelPublishResult{}, fmt.Errorf("read %s: %w", model, err)
	}
	if err := emit(); err != nil {
		return ModelPublishResult{}, err
	}
	return switchModel(ctx, a, m, version, batch)
}
