package localdb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// StartPostgres starts a PostgreSQL server with its data in dir (created with initdb on
// first use), listening on 127.0.0.1 and a Unix socket in dir, and returns it once it
// accepts connections to the database dbname, which it creates if needed. The server is
// restarted on the same port if it dies, until Stop.
func StartPostgres(ctx context.Context, dir, dbname string, logger *slog.Logger) (*Server, error) {
	initdb, err := findBinary([]string{"initdb"}, "/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")
	if err != nil {
		return nil, fmt.Errorf("%w: PostgreSQL (install the Debian package `postgresql`, or set CURIO_POSTGRES_DSN): %w", errMissing, err)
	}
	postgres := filepath.Join(filepath.Dir(initdb), "postgres")
	if _, err := os.Stat(postgres); err != nil {
		return nil, fmt.Errorf("%w: no postgres next to %s (install `postgresql`, or set CURIO_POSTGRES_DSN)", errMissing, initdb)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("postgres data dir: %w", err)
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("postgres data dir: %w", err)
	}
	logFile := filepath.Join(dir, "postgres.log")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		run, uid, gid, err := asUser("postgres")
		if err != nil {
			return nil, err
		}
		cmd := run.apply(exec.CommandContext(ctx, initdb, "-D", data, "-U", "curio", "--auth=trust", "-E", "UTF8", "--no-instructions"))
		if err := chownR(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("postgres data dir: %w", err)
		}
		if err := reachable(dir, uid, gid); err != nil {
			return nil, err
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb %s: %w: %s", data, err, out)
		}
	}
	stopStale(filepath.Join(data, "postmaster.pid"), logger)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	run, _, _, err := asUser("postgres")
	if err != nil {
		return nil, err
	}
	newCmd := func() *exec.Cmd {
		return run.apply(exec.Command(postgres, "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
			"-c", "fsync=on", "-c", "max_connections=100"))
	}
	s, err := start("postgres", newCmd, logFile, logger)
	if err != nil {
		return nil, err
	}
	admin := fmt.Sprintf("postgres://curio@127.0.0.1:%d/postgres?sslmode=disable", port)
	err = s.waitReady(ctx, func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		var exists bool
		if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, dbname).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			_, err = c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbname}.Sanitize())
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.DSN = fmt.Sprintf("postgres://curio@127.0.0.1:%d/%s?sslmode=disable", port, dbname)
	s.supervise()
	return s, nil
}
