package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/curiodata/curio/internal/storage/mysql"
)

type mysqlRow struct {
	key     string
	rank    int
	payload []byte
}

func (a *Activities) flushModelRows(ctx context.Context, model, version string, batch *[]mysqlRow) error {
	rows := make([]mysql.ModelRow, len(*batch))
	for i, r := range *batch {
		rows[i] = mysql.ModelRow{Key: r.key, Rank: r.rank, Payload: r.payload}
	}
	*batch = (*batch)[:0]
	return a.MySQL.PutModelRows(ctx, model, version, rows)
}

// switchModel flushes the last rows, switches MySQL to the version and records it.
func (a *Activities) switchModel(ctx context.Context, model, version string, batch *[]mysqlRow) (ModelPublishResult, error) {
	if err := a.flushModelRows(ctx, model, version, batch); err != nil {
		return ModelPublishResult{}, err
	}
	n, err := a.MySQL.SwitchModel(ctx, model, version)
	if err != nil {
		return ModelPublishResult{}, err
	}
	if err := a.publishModel(ctx, model, version, n); err != nil {
		return ModelPublishResult{}, err
	}
	a.Logger.Info("model published", "model", model, "version", version, "rows", n)
	return ModelPublishResult{Model: model, Version: version, Rows: n}, nil
}

// publishGrouped publishes a model whose rows come from query ordered by key: consecutive
// rows with the same key become one MySQL row holding the JSON list of their values.
func publishGrouped[V any](ctx context.Context, a *Activities, model, version, query string, scan func(pgx.Rows) (string, V, error), args ...any) (ModelPublishResult, error) {
	rows, err := a.PG.Pool().Query(ctx, query, args...)
	if err != nil {
		return ModelPublishResult{}, fmt.Errorf("read %s %s: %w", model, version, err)
	}
	defer rows.Close()
	var batch []mysqlRow
	var cur string
	var vals []V
	emit := func() error {
		if cur == "" {
			return nil
		}
		b, err := json.Marshal(vals)
		if err != nil {
			return fmt.Errorf("encode %s row: %w", model, err)
		}
		batch = append(batch, mysqlRow{key: cur, payload: b})
		vals = nil
		if len(batch) >= 1000 {
			return a.flushModelRows(ctx, model, version, &batch)
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
	return a.switchModel(ctx, model, version, &batch)
}
