// Package teststores opens the warehouse and serving stores, migrated, on fresh databases
// for tests (see internal/testdb: each test gets its own databases, dropped afterwards).
package teststores

import (
	"context"
	"testing"

	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/testdb"
)

// Open returns a migrated PostgreSQL warehouse and MySQL serving store, both closed when
// the test ends, and the warehouse's DSN for direct connections. It skips the test when the
// servers are unreachable (fails under CI), like testdb.
func Open(t testing.TB) (*postgres.Store, *mysql.Store, string) {
	t.Helper()
	ctx := context.Background()
	dsn := testdb.Postgres(t)
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	my, err := mysql.Open(ctx, testdb.MySQL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { my.Close() })
	if _, err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := my.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return pg, my, dsn
}

// LoadDemo writes the generated demo catalog (movies and artworks) into the warehouse and
// returns its records.
func LoadDemo(t testing.TB, pg *postgres.Store, movies, artworks int) []domain.Record {
	t.Helper()
	ctx := context.Background()
	if err := pg.StartImport(ctx, "demo", "demo"); err != nil {
		t.Fatal(err)
	}
	var recs []domain.Record
	if err := demo.Records(demo.Options{Movies: movies, Artworks: artworks}, func(r domain.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.WriteRecords(ctx, "demo", recs); err != nil {
		t.Fatal(err)
	}
	return recs
}
