// Package testdb gives tests their own fresh PostgreSQL and MySQL/MariaDB databases on
// real servers, dropped when the test ends, so tests never see each other's rows.
//
// Servers come from CURIO_TEST_POSTGRES_DSN (default: postgres user on 127.0.0.1:5432) and
// CURIO_TEST_MYSQL_DSN (default: root on 127.0.0.1:3306). When a server is unreachable the
// test is skipped, except under CI=true, where it fails.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

func name(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	base := strings.ToLower(t.Name())
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, base)
	return fmt.Sprintf("curio_t_%.30s_%s", base, hex.EncodeToString(b))
}

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s unavailable under CI: %v", what, err)
	}
	t.Skipf("%s unavailable (%v): start it or set the DSN to run this test", what, err)
}

// Postgres creates a database and returns its DSN.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("CURIO_TEST_POSTGRES_DSN")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		unavailable(t, "PostgreSQL", err)
	}
	defer c.Close(ctx)
	db := name(t)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil || u.Scheme == "" {
		t.Fatalf("CURIO_TEST_POSTGRES_DSN must be a URL (postgres://...): %q", admin)
	}
	u.Path = "/" + db
	return u.String()
}

// MySQL creates a database and returns its go-sql-driver DSN.
func MySQL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("CURIO_TEST_MYSQL_DSN")
	if admin == "" {
		admin = "root@tcp(127.0.0.1:3306)/"
	}
	cfg, err := mysql.ParseDSN(admin)
	if err != nil {
		t.Fatalf("CURIO_TEST_MYSQL_DSN: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	adminDB, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer adminDB.Close()
	if err := adminDB.PingContext(ctx); err != nil {
		unavailable(t, "MySQL/MariaDB", err)
	}
	db := name(t)
	if _, err := adminDB.ExecContext(ctx, "CREATE DATABASE "+db+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		d, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return
		}
		defer d.Close()
		_, _ = d.Exec("DROP DATABASE IF EXISTS " + db)
	})
	cfg.DBName = db
	return cfg.FormatDSN()
}
