-- +goose Up
-- Concurrency pool slots (package internal/pools): one row per pool and run that holds one
-- of the pool's slots (acquired_at set) or waits for one, first come first served (seq).
-- A run's rows are deleted when it ends; rows of runs that died without releasing are
-- deleted when they block another run.
CREATE TABLE pool_slots (
    pool         text        NOT NULL,
    workflow_id  text        NOT NULL,
    run_id       text        NOT NULL,
    job          text        NOT NULL DEFAULT '',
    seq          bigint      GENERATED ALWAYS AS IDENTITY,
    requested_at timestamptz NOT NULL DEFAULT now(),
    acquired_at  timestamptz,
    -- shared: the run shares its parent run's slot (a child job of the same pool), which
    -- is not counted twice.
    shared       boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (pool, workflow_id, run_id)
);
CREATE INDEX pool_slots_run ON pool_slots (workflow_id, run_id);

-- +goose Down
DROP TABLE pool_slots;
