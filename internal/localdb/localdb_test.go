package localdb

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// TestStartServers starts both throwaway servers the way `curio dev` does on a machine
// with no DSNs configured, restarts them on the same data, and checks data survives.
func TestStartServers(t *testing.T) {
	if os.Getenv("CURIO_SKIP_LOCALDB") != "" {
		t.Skip("CURIO_SKIP_LOCALDB set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := tempDataDir(t)

	t.Run("postgres", func(t *testing.T) {
		pg, err := StartPostgres(ctx, dir+"/pg", "curio", logger)
		if err != nil {
			t.Fatal(err)
		}
		c, err := pgx.Connect(ctx, pg.DSN)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, `CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)`); err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
		if err := pg.Stop(); err != nil {
			t.Fatal(err)
		}
		pg, err = StartPostgres(ctx, dir+"/pg", "curio", logger)
		if err != nil {
			t.Fatalf("restart: %v", err)
		}
		defer pg.Stop()
		c, err = pgx.Connect(ctx, pg.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		var v int
		if err := c.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != 42 {
			t.Fatalf("after restart: v=%d err=%v", v, err)
		}
	})

	t.Run("mariadb", func(t *testing.T) {
		my, err := StartMariaDB(ctx, dir+"/my", "curio", logger)
		if err != nil {
			t.Fatal(err)
		}
		defer my.Stop()
		db, err := sql.Open("mysql", my.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var one int
		if err := db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
			t.Fatalf("select 1: %v", err)
		}
	})
}

func TestMissingBinaryNamesPackage(t *testing.T) {
	_, err := findBinary([]string{"no-such-db-binary"}, "/nonexistent/*")
	if err == nil {
		t.Fatal("want error")
	}
}

// tempDataDir is a fresh directory the postgres system user can traverse to (t.TempDir's
// 0700 parent forbids it when tests run as root), removed after the test.
func tempDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "curio-localdb-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
