package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrFenced is returned for a shard write under a token that no longer owns the shard: a
// later attempt claimed it (the writer was cut off and its shard retried elsewhere).
var ErrFenced = errors.New("shard fenced: a newer attempt owns it")

// ShardFence names a shard and the token its attempt claimed (ClaimShard).
type ShardFence struct {
	Job     string
	Version string
	Shard   int
	Token   int64
}

// ClaimShard makes the calling attempt the owner of a shard and returns its fencing token;
// every earlier attempt's writes are refused from now on (ErrFenced). A claim waits for a
// fenced write in progress to commit, so no older write lands after it.
func (s *BatchRunStore) ClaimShard(ctx context.Context, job, version string, shard int, worker string, attempt int32) (ShardFence, error) {
	f := ShardFence{Job: job, Version: version, Shard: shard}
	err := s.pool.QueryRow(ctx, `INSERT INTO batch_shard_owners (job, version, shard, token, worker, attempt)
		VALUES ($1, $2, $3, nextval('batch_shard_token'), $4, $5)
		ON CONFLICT (job, version, shard) DO UPDATE SET token = EXCLUDED.token, worker = EXCLUDED.worker,
			attempt = EXCLUDED.attempt, claimed_at = now()
		RETURNING token`, job, version, shard, worker, attempt).Scan(&f.Token)
	if err != nil {
		return ShardFence{}, fmt.Errorf("claim shard %s/%s/%d: %w", job, version, shard, err)
	}
	return f, nil
}

// checkFence holds the shard's owner row (FOR SHARE: a new claim waits for this
// transaction) and fails with ErrFenced unless f's token still owns the shard.
func checkFence(ctx context.Context, tx pgx.Tx, f ShardFence) error {
	var token int64
	err := tx.QueryRow(ctx, `SELECT token FROM batch_shard_owners WHERE job = $1 AND version = $2 AND shard = $3 FOR SHARE`,
		f.Job, f.Version, f.Shard).Scan(&token)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("shard %s/%s/%d was never claimed: %w", f.Job, f.Version, f.Shard, ErrFenced)
	case err != nil:
		return fmt.Errorf("check shard owner %s/%s/%d: %w", f.Job, f.Version, f.Shard, err)
	case token != f.Token:
		return fmt.Errorf("shard %s/%s/%d: token %d, owner %d: %w", f.Job, f.Version, f.Shard, f.Token, token, ErrFenced)
	}
	return nil
}
