package localdb

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// syncBuffer is a bytes.Buffer safe for the supervisor goroutine's log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// descendants returns pid and every process under it.
func descendants(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	all := []int{pid}
	for i := 0; i < len(all); i++ {
		all = append(all, children[all[i]]...)
	}
	return all
}

// checkEnviron fails t if any process of the server shows marker or a CURIO_ variable in
// its environment.
func checkEnviron(t *testing.T, s *Server, marker string) {
	t.Helper()
	pids := descendants(t, s.pid())
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			continue // a short-lived child that is gone
		}
		env := strings.Split(string(b), "\x00")
		for _, kv := range env {
			if strings.Contains(kv, marker) || strings.HasPrefix(kv, "CURIO_") {
				t.Errorf("%s pid %d has %q in its environment", s.name, pid, kv)
			}
		}
		if pid == s.pid() && !strings.Contains(string(b), "TZ=UTC") {
			t.Errorf("%s environment lacks TZ=UTC: %q", s.name, env)
		}
	}
	t.Logf("%s: checked the environment of %d processes", s.name, len(pids))
}

// killAndWaitRestart kills the server process with SIGKILL and waits until ping succeeds
// again from a new process.
func killAndWaitRestart(t *testing.T, ctx context.Context, s *Server, logs *syncBuffer, ping func(context.Context) error) {
	t.Helper()
	old := s.pid()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(45 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if s.pid() != old {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err = ping(pctx)
			cancel()
			if err == nil {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil || s.pid() == old {
		t.Fatalf("%s did not come back after SIGKILL: pid %d (was %d), ping: %v\nlogs:\n%s\nserver log: %s",
			s.name, s.pid(), old, err, logs.String(), tail(s.logFile))
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "signal: killed") {
		t.Errorf("want a warning with the exit status, got:\n%s", l)
	}
}

// checkStopEndsSupervision stops s and checks no process comes back.
func checkStopEndsSupervision(t *testing.T, s *Server, ping func(context.Context) error) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(minBackoff + 500*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := ping(ctx); err == nil {
		t.Errorf("%s answers after Stop", s.name)
	}
}

// TestServersIsolatedAndSupervised starts both servers with a secret in Curio's
// environment, checks it does not reach them, kills them with SIGKILL and checks they
// come back on the same DSN, then that Stop ends the supervision.
func TestServersIsolatedAndSupervised(t *testing.T) {
	if os.Getenv("CURIO_SKIP_LOCALDB") != "" {
		t.Skip("CURIO_SKIP_LOCALDB set")
	}
	const marker = "curio-test-marker-6f1d2c"
	t.Setenv("CURIO_ADMIN_TOKEN", marker)
	t.Setenv("CURIO_POSTGRES_DSN", "postgres://u:"+marker+"@h/db")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := tempDataDir(t)

	t.Run("mariadb", func(t *testing.T) {
		logs := &syncBuffer{}
		logger := slog.New(slog.NewTextHandler(logs, nil))
		my, err := StartMariaDB(ctx, dir+"/my", "curio", logger)
		if errors.Is(err, errMissing) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer my.Stop()
		db, err := sql.Open("mysql", my.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		checkEnviron(t, my, marker)
		killAndWaitRestart(t, ctx, my, logs, db.PingContext)
		checkEnviron(t, my, marker)
		var one int
		if err := db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
			t.Fatalf("select 1 after restart: %v", err)
		}
		checkStopEndsSupervision(t, my, db.PingContext)
	})

	t.Run("postgres", func(t *testing.T) {
		logs := &syncBuffer{}
		logger := slog.New(slog.NewTextHandler(logs, nil))
		pg, err := StartPostgres(ctx, dir+"/pg", "curio", logger)
		if errors.Is(err, errMissing) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer pg.Stop()
		ping := func(ctx context.Context) error {
			c, err := pgx.Connect(ctx, pg.DSN)
			if err != nil {
				return err
			}
			defer c.Close(ctx)
			return c.Ping(ctx)
		}
		checkEnviron(t, pg, marker)
		killAndWaitRestart(t, ctx, pg, logs, ping)
		checkEnviron(t, pg, marker)
		checkStopEndsSupervision(t, pg, ping)
	})
}
