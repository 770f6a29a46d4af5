package devstack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/testdb"
)

// TestDevStopsCleanly runs `curio dev` as a user does, presses Ctrl-C (SIGINT) and checks
// the stop is what a user wants to see: the process exits 0 within the shutdown grace (plus
// a little), nothing it printed from the start to the end is an error, and the stop prints
// no warning either.
func TestDevStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the curio binary and runs curio dev")
	}
	bin := filepath.Join(t.TempDir(), "curio")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/curio")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build curio: %v\n%s", err, out)
	}

	t.Run("steady", func(t *testing.T) {
		// Everything running: the catalog pipeline has finished, the automation refreshes
		// the models for its version, the consumers land the generator's events.
		p := startDev(t, bin, 10*time.Second, append(testDSNs(t), "CURIO_DEMO_MOVIES=200", "CURIO_DEMO_ARTWORKS=200")...)
		p.waitReady(t)
		p.waitOutput(t, "catalog pipeline finished")
		p.sleep(t, 8*time.Second)
		p.stop(t)
	})
	t.Run("activity cut by the grace", func(t *testing.T) {
		// Ctrl-C while the catalog pipeline imports a catalog too large to finish within a
		// one-second grace: the worker cancels the import, which Temporal retries on the
		// next start.
		p := startDev(t, bin, time.Second, append(testDSNs(t), "CURIO_DEMO_MOVIES=40000", "CURIO_DEMO_ARTWORKS=40000")...)
		p.waitOutput(t, "pool slots acquired") // the import starts next
		p.sleep(t, 300*time.Millisecond)
		p.stop(t)
		if bytes.Contains(p.out.Bytes(), []byte("activity stopped with its worker")) {
			t.Log("the import was cut at the end of the grace")
		} else {
			t.Log("the import finished within the grace")
		}
	})
	t.Run("local databases", func(t *testing.T) {
		// No DSNs, as on a fresh machine: curio dev runs its own PostgreSQL and MariaDB,
		// which must stop last and not be taken for crashed servers.
		if os.Getenv("CURIO_SKIP_LOCALDB") != "" {
			t.Skip("CURIO_SKIP_LOCALDB set")
		}
		p := startDev(t, bin, 10*time.Second, "CURIO_POSTGRES_DSN=", "CURIO_MYSQL_DSN=", "CURIO_DEMO_MOVIES=200", "CURIO_DEMO_ARTWORKS=200")
		p.waitReady(t)
		p.waitOutput(t, "catalog pipeline finished")
		p.sleep(t, 3*time.Second)
		p.stop(t)
	})
}

// testDSNs points curio dev at fresh test databases.
func testDSNs(t *testing.T) []string {
	t.Helper()
	return []string{"CURIO_POSTGRES_DSN=" + testdb.Postgres(t), "CURIO_MYSQL_DSN=" + testdb.MySQL(t)}
}

// devProc is a `curio dev` process.
type devProc struct {
	cmd     *exec.Cmd
	dataDir string
	grace   time.Duration
	out     syncBuffer    // stdout and stderr
	exited  chan struct{} // closed when the process has exited; err is then set
	err     error
}

// startDev starts `curio dev` on free ports, logging JSON, with the shutdown grace and the
// extra environment given (the databases: testDSNs, or none for local servers).
func startDev(t *testing.T, bin string, grace time.Duration, env ...string) *devProc {
	t.Helper()
	// A data dir the local database servers' system user can reach when tests run as root
	// (t.TempDir's parent is mode 0700).
	dataDir, err := os.MkdirTemp("", "curio-dev-stop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	if err := os.Chmod(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &devProc{dataDir: dataDir, grace: grace, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "dev")
	p.cmd.Env = append(append(os.Environ(),
		"CURIO_DATA_DIR="+p.dataDir,
		"CURIO_HTTP_ADDR=127.0.0.1:0",
		"CURIO_TEMPORAL_ADDR=127.0.0.1:0",
		"CURIO_TEMPORAL_UI_ADDR=127.0.0.1:0",
		"CURIO_KAFKA_ADDR=127.0.0.1:0",
		"CURIO_DEV_EVENT_RATE=20",
		"CURIO_AUTOMATION=true",
		"CURIO_AUTOMATION_INTERVAL=2s",
		"CURIO_SCRAPE_DELAY=10ms",
		"CURIO_SHUTDOWN_GRACE="+grace.String(),
		"CURIO_LOG_FORMAT=json",
		"CURIO_LOG_LEVEL=info",
		"CURIO_TEMPORAL_LOG_LEVEL=warn", // the default: what a user sees
	), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	// Its own process group, as a shell gives a foreground job: Ctrl-C signals the group.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			b := p.out.Bytes()
			t.Logf("curio dev output (last 20000 bytes):\n%s", b[max(0, len(b)-20000):])
		}
	})
	return p
}

// waitFor polls cond until it holds, failing the test when curio dev exits or after 3 minutes.
func (p *devProc) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(3 * time.Minute)
	for !cond() {
		select {
		case <-p.exited:
			if bytes.Contains(p.out.Bytes(), []byte("database server binaries not installed")) {
				t.Skip("no local PostgreSQL or MariaDB binaries")
			}
			t.Fatalf("curio dev exited (%v) while waiting for %s", p.err, what)
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitReady waits until the API's /readyz answers 200.
func (p *devProc) waitReady(t *testing.T) {
	t.Helper()
	p.waitFor(t, "the API to be ready", func() bool {
		e, err := ReadEndpoints(p.dataDir)
		if err != nil || e.APIURL == "" {
			return false
		}
		resp, err := http.Get(e.APIURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// waitOutput waits until curio dev has printed s.
func (p *devProc) waitOutput(t *testing.T, s string) {
	t.Helper()
	p.waitFor(t, fmt.Sprintf("%q in the output", s), func() bool { return bytes.Contains(p.out.Bytes(), []byte(s)) })
}

// sleep lets curio dev run for d, failing the test if it exits meanwhile.
func (p *devProc) sleep(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("curio dev exited (%v) before the stop", p.err)
	case <-time.After(d):
	}
}

// stop sends SIGINT to curio dev's process group, as Ctrl-C in a terminal does, and checks that curio dev exits 0
// within the grace plus 15 seconds and printed no error, start included.
func (p *devProc) stop(t *testing.T) {
	t.Helper()
	mark := len(p.out.Bytes())
	stopAt := time.Now()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	limit := p.grace + 15*time.Second
	select {
	case <-p.exited:
		t.Logf("curio dev stopped in %s (grace %s)", time.Since(stopAt).Round(time.Millisecond), p.grace)
		if p.err != nil {
			t.Errorf("curio dev exited with %v after SIGINT, want status 0", p.err)
		}
	case <-time.After(limit):
		t.Fatalf("curio dev did not exit within %s of SIGINT", limit)
	}
	all := p.out.Bytes()
	if bad := errorLines(all); len(bad) > 0 {
		t.Errorf("curio dev printed %d error line(s), %d of them during the stop:\n%s",
			len(bad), len(errorLines(all[mark:])), strings.Join(bad, "\n"))
	}
	if warns := levelLines(all[mark:], "warn"); len(warns) > 0 {
		t.Errorf("curio dev printed %d warning(s) during the stop:\n%s", len(warns), strings.Join(warns, "\n"))
	}
}

// errorLines returns the lines of out logged at error level (or above), in any of the
// formats that end up there: slog JSON or text, the Temporal server's zap JSON.
func errorLines(out []byte) []string {
	var bad []string
	for _, lvl := range []string{"error", "dpanic", "panic", "fatal"} {
		bad = append(bad, levelLines(out, lvl)...)
	}
	return bad
}

// levelLines returns the lines of out logged at level (lower case), JSON or text.
func levelLines(out []byte, level string) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var rec struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level != "" {
			if strings.EqualFold(rec.Level, level) {
				lines = append(lines, line)
			}
			continue
		}
		if strings.Contains(strings.ToLower(line), "level="+level+" ") {
			lines = append(lines, line)
		}
	}
	return lines
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of everything written so far.
func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
