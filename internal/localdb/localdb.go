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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Restart backoff of a supervised server: the first restart waits minBackoff, each further
// one twice as long up to maxBackoff; a server that ran for stableAfter starts over.
var (
	minBackoff  = time.Second
	maxBackoff  = 30 * time.Second
	stableAfter = time.Minute
)

// Server is a running database server process. Once started it is supervised: when the
// process dies, it is started again with the same command line (same port, socket and
// data directory, so DSN stays valid), after a backoff, until Stop.
type Server struct {
	DSN     string
	name    string
	logFile string
	logger  *slog.Logger
	newCmd  func() *exec.Cmd // a fresh command for the server, for each (re)start

	mu       sync.Mutex
	cur      *proc
	stopping bool
	stop     chan struct{} // closed by Stop
	superv   chan struct{} // closed when the supervisor returns; nil when not supervised
}

// proc is one run of the server process.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited and err is set
	err    error
}

// Stop stops supervising the server, asks it to shut down and waits for it.
func (s *Server) Stop() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if !s.stopping {
		s.stopping = true
		close(s.stop)
	}
	p, superv := s.cur, s.superv
	s.mu.Unlock()
	if superv != nil {
		<-superv // after this, no new process starts
	}
	if p == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	return nil
}

// pid returns the process id of the server process running now, or 0.
func (s *Server) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || s.cur.cmd.Process == nil {
		return 0
	}
	return s.cur.cmd.Process.Pid
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

// start runs the command newCmd makes, with its output appended to logFile and the
// parent-death signal set so a crashed Curio does not leave servers behind. The server is
// not supervised until supervise is called.
func start(name string, newCmd func() *exec.Cmd, logFile string, logger *slog.Logger) (*Server, error) {
	s := &Server{name: name, logFile: logFile, logger: logger, newCmd: newCmd, stop: make(chan struct{})}
	p, err := s.spawn()
	if err != nil {
		return nil, err
	}
	s.cur = p
	return s, nil
}

// spawn starts one run of the server process.
func (s *Server) spawn() (*proc, error) {
	f, err := os.OpenFile(s.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", s.name, err)
	}
	cmd := s.newCmd()
	cmd.Stdout, cmd.Stderr = f, f
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", s.name, err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	return p, nil
}

// supervise restarts the server whenever its process exits, until Stop.
func (s *Server) supervise() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.superv != nil || s.stopping {
		return
	}
	s.superv = make(chan struct{})
	go s.superviseLoop(s.cur)
}

func (s *Server) superviseLoop(p *proc) {
	defer close(s.superv)
	backoff := minBackoff
	started := time.Now()
	for {
		var exit string
		if p != nil {
			select {
			case <-s.stop:
				return
			case <-p.exited:
			}
			exit = exitStatus(p.err)
		}
		if time.Since(started) >= stableAfter {
			backoff = minBackoff
		}
		s.logger.Warn("local database server exited; restarting it", "server", s.name, "exit", exit,
			"restart_in", backoff, "log", s.logFile)
		select {
		case <-s.stop:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			return
		}
		started = time.Now()
		np, err := s.spawn()
		if err != nil {
			s.logger.Warn("local database server did not restart", "server", s.name, "err", err)
		} else {
			s.logger.Info("local database server restarted", "server", s.name, "pid", np.cmd.Process.Pid)
			s.cur = np
		}
		s.mu.Unlock()
		p = np // nil when the start failed: wait the next backoff and try again
	}
}

// exitStatus describes how a server process ended, from exec.Cmd.Wait's error.
func exitStatus(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit status 0"
	case errors.As(err, &ee):
		return ee.ProcessState.String()
	default:
		return err.Error()
	}
}

// waitReady polls ping until it succeeds, the process exits or ctx ends.
func (s *Server) waitReady(ctx context.Context, ping func(context.Context) error) error {
	s.mu.Lock()
	p := s.cur
	s.mu.Unlock()
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ping(pctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited during start (%s); see %s: %s", s.name, exitStatus(p.err), s.logFile, tail(s.logFile))
		case <-ctx.Done():
			_ = s.Stop()
			return fmt.Errorf("%s did not become ready: %w (last error: %w); see %s", s.name, ctx.Err(), last, s.logFile)
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

// procUser is the user a server process runs as: its credentials (nil: Curio's own) and the
// minimal environment it gets.
type procUser struct {
	cred *syscall.Credential
	env  []string
}

// apply sets cmd's credentials and replaces its environment with the minimal one, so no
// variable of Curio's own (CURIO_ADMIN_TOKEN, DSNs, cloud credentials) reaches the server,
// where a database superuser could read it back from /proc.
func (r procUser) apply(cmd *exec.Cmd) *exec.Cmd {
	if r.cred != nil {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cred := *r.cred
		cmd.SysProcAttr.Credential = &cred
	}
	cmd.Env = slices.Clone(r.env)
	return cmd
}

// serverEnv is the whole environment of a database server process or its setup tools:
// PATH (to find helper programs), HOME of the user it runs as, a UTF-8 (or C) locale and
// UTC as time zone. Nothing else of Curio's environment is passed on.
func serverEnv(home string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	loc := "C"
	for _, d := range []string{"/usr/lib/locale/C.utf8", "/usr/lib/locale/C.UTF-8"} {
		if _, err := os.Stat(d); err == nil {
			loc = "C.UTF-8"
			break
		}
	}
	return []string{"PATH=" + path, "HOME=" + home, "LANG=" + loc, "LC_ALL=" + loc, "TZ=UTC"}
}

// currentUser is who Curio runs as, with a minimal environment.
func currentUser() procUser {
	home := "/"
	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		home = u.HomeDir
	} else if h, err := os.UserHomeDir(); err == nil {
		home = h
	}
	return procUser{env: serverEnv(home)}
}

// asUser returns how to run a server as the named system user when the current process is
// root, since PostgreSQL refuses to run as root (as Curio's own user otherwise), and the
// uid/gid to chown data files to.
func asUser(name string) (r procUser, uid, gid int, err error) {
	if os.Geteuid() != 0 {
		return currentUser(), os.Geteuid(), os.Getegid(), nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return procUser{}, 0, 0, fmt.Errorf("running as root and no %q system user to run the server as: %w", name, err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return procUser{cred: cred, env: serverEnv(u.HomeDir)}, uid, gid, nil
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
