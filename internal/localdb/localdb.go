// Package localdb starts throwaway PostgreSQL and MariaDB/MySQL servers from the binaries
// installed on the machine, with their data under a directory Curio owns. `curio dev` uses
// them when no DSN is configured; they stop when Curio stops.
package localdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is a running database server process.
type Server struct {
	DSN    string
	cmd    *exec.Cmd
	done   chan error
	name   string
	logger *slog.Logger
}

// Stop asks the server to shut down and waits for it.
func (s *Server) Stop() error {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return nil
}

// findBinary returns the first of names found in PATH or in dirs (globs allowed).
func findBinary(names []string, dirs ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	for _, d := range dirs {
		matches, _ := filepath.Glob(d)
		// Newest version last in lexical order: prefer it.
		for i := len(matches) - 1; i >= 0; i-- {
			for _, n := range names {
				p := filepath.Join(matches[i], n)
				if st, err := os.Stat(p); err == nil && !st.IsDir() {
					return p, nil
				}
			}
		}
	}
	return "", fmt.Errorf("none of %v found in PATH or %v", names, dirs)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs cmd with its output in logFile and the parent-death signal set so a crashed
// Curio does not leave servers behind.
func start(name string, cmd *exec.Cmd, logFile string, logger *slog.Logger) (*Server, error) {
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &Server{cmd: cmd, done: make(chan error, 1), name: name, logger: logger}
	go func() { s.done <- cmd.Wait(); f.Close() }()
	return s, nil
}

// waitReady polls ping until it succeeds, the process exits or ctx ends.
func (s *Server) waitReady(ctx context.Context, logFile string, ping func(context.Context) error) error {
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ping(pctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("%s exited during start (%v); see %s: %s", s.name, err, logFile, tail(logFile))
		case <-ctx.Done():
			_ = s.Stop()
			return fmt.Errorf("%s did not become ready: %w (last error: %w); see %s", s.name, ctx.Err(), last, logFile)
		case <-time.After(150 * time.Millisecond):
		}
	}
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], " | ")
}

// asUser makes cmd run as the named system user when the current process is root, since
// PostgreSQL refuses to run as root. It returns the uid/gid to chown data files to.
func asUser(cmd *exec.Cmd, name string) (uid, gid int, err error) {
	if os.Geteuid() != 0 {
		return os.Geteuid(), os.Getegid(), nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, fmt.Errorf("running as root and no %q system user to run the server as: %w", name, err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	cmd.Env = append(os.Environ(), "HOME="+u.HomeDir)
	return uid, gid, nil
}

func chownR(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// stopStale stops a server left running on dir by an earlier, killed Curio (its pid file
// is pidFile), so the new one can start.
func stopStale(pidFile string, logger *slog.Logger) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 0 {
		return
	}
	p, err := os.FindProcess(pid)
	if err != nil || p.Signal(syscall.Signal(0)) != nil {
		return
	}
	logger.Warn("stopping a database server left running by an earlier run", "pid", pid, "pidfile", pidFile)
	_ = p.Signal(syscall.SIGTERM)
	for range 100 {
		if p.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = p.Kill()
}

// reachable checks that every parent of dir lets uid traverse it, because PostgreSQL runs
// as its own system user when Curio runs as root.
func reachable(dir string, uid, gid int) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("data dir parent %s: %w", p, err)
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		mode := st.Mode().Perm()
		okTraverse := mode&0o001 != 0 || (ok && int(sys.Uid) == uid && mode&0o100 != 0) || (ok && int(sys.Gid) == gid && mode&0o010 != 0)
		if !okTraverse {
			return fmt.Errorf("the postgres system user cannot reach %s because %s is mode %o: set CURIO_DATA_DIR to a directory under a world-traversable path (e.g. /var/lib/curio), or set CURIO_POSTGRES_DSN", dir, p, mode)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

var errMissing = errors.New("database server binaries not installed")
