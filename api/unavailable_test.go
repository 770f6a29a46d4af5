package api_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/curiodata/curio/api"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/testdb"
)

// closedPort returns a local TCP address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// sqlItems reads items through a database/sql pool, as mysql.Store does.
type sqlItems struct{ db *sql.DB }

func (s sqlItems) ItemsByID(ctx context.Context, ids []string) (map[string]mysql.Item, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM items WHERE id = ?", strings.Join(ids, "")).Scan(&n); err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	return map[string]mysql.Item{}, nil
}

// wantUnavailable asserts 503 {"error":"service unavailable"} with Retry-After and nothing
// of the underlying error.
func wantUnavailable(t *testing.T, url string) {
	t.Helper()
	resp, body := do(t, http.MethodGet, url, "", nil, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.TrimSpace(body) != `{"error":"service unavailable"}` || resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET %s = %d %s (Retry-After %q), want 503 service unavailable with Retry-After", url, resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
}

// TestUnreachableDatabasesAre503 points the readers at ports nothing listens on.
func TestUnreachableDatabasesAre503(t *testing.T) {
	cfg := gomysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.DBName = "tcp", closedPort(t), "root", "curio"
	connector, err := gomysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })

	pool, err := pgxpool.New(context.Background(), "postgres://postgres@"+closedPort(t)+"/curio?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	srv := opsServer(t, api.Deps{Items: sqlItems{db}, Activity: ingest.NewReader(pool)})
	for _, path := range []string{"/api/search?q=matrix", "/api/items/tt0133093", "/api/trending", "/api/terms/trending", "/api/uploads/map"} {
		wantUnavailable(t, srv.URL+path)
	}
	// Bad requests stay 400: validation comes before the database.
	if resp, _ := do(t, http.MethodGet, srv.URL+"/api/items/%00", "", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad id with the database down: %d", resp.StatusCode)
	}
}

// proxy forwards TCP connections to target until it is killed, like a database server
// that goes away under an open pool.
type proxy struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.kill)
	return p
}

func (p *proxy) kill() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestKilledMySQLIs503 opens the real store through a proxy, then kills the proxy: the
// pool's connections break and new ones are refused.
func TestKilledMySQLIs503(t *testing.T) {
	dsn := testdb.MySQL(t)
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, cfg.Addr)
	cfg.Addr = p.l.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := mysql.Open(ctx, cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := opsServer(t, api.Deps{Items: store, Models: store})
	if resp, body := do(t, http.MethodGet, srv.URL+"/api/items/tt0133093", "", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("before the kill: %d %s", resp.StatusCode, body)
	}
	p.kill()
	for _, path := range []string{"/api/items/tt0133093", "/api/search?q=matrix", "/api/pagerank/top"} {
		wantUnavailable(t, srv.URL+path)
	}
}
