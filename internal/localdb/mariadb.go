package localdb

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/go-sql-driver/mysql"
)

// StartMariaDB starts a MariaDB (or MySQL) server with its data in dir (initialized on first
// use), listening on 127.0.0.1 and a Unix socket in dir, and returns it once the database
// dbname exists. The server is restarted on the same port and socket if it dies, until
// Stop.
func StartMariaDB(ctx context.Context, dir, dbname string, logger *slog.Logger) (*Server, error) {
	server, err := findBinary([]string{"mariadbd", "mysqld"}, "/usr/sbin", "/usr/libexec")
	if err != nil {
		return nil, fmt.Errorf("%w: MariaDB/MySQL (install the Debian package `mariadb-server`, or set CURIO_MYSQL_DSN): %w", errMissing, err)
	}
	installer, err := findBinary([]string{"mariadb-install-db", "mysql_install_db"}, "/usr/bin", "/usr/local/bin")
	if err != nil {
		return nil, fmt.Errorf("%w: mariadb-install-db (install `mariadb-server`, or set CURIO_MYSQL_DSN): %w", errMissing, err)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("mariadb data dir: %w", err)
	}
	data := filepath.Join(dir, "data")
	sock := filepath.Join(dir, "mysqld.sock")
	logFile := filepath.Join(dir, "mariadb.log")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mariadb data dir: %w", err)
	}
	runAs := ""
	if os.Geteuid() == 0 {
		runAs = "root" // explicit, since mariadbd refuses to run as root otherwise
	}
	if _, err := os.Stat(filepath.Join(data, "mysql")); err != nil {
		args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal",
			"--skip-test-db", "--basedir=/usr"}
		if runAs != "" {
			args = append(args, "--user="+runAs)
		}
		cmd := currentUser().apply(exec.CommandContext(ctx, installer, args...))
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %w: %s", installer, err, out)
		}
	}
	stopStale(filepath.Join(dir, "mysqld.pid"), logger)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"--no-defaults", "--datadir=" + data, "--socket=" + sock, "--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1", "--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--skip-name-resolve",
		"--max-allowed-packet=64M", "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"}
	if runAs != "" {
		args = append(args, "--user="+runAs)
	}
	run := currentUser()
	s, err := start("mariadbd", func() *exec.Cmd { return run.apply(exec.Command(server, args...)) }, logFile, logger)
	if err != nil {
		return nil, err
	}
	// Root has no password and authenticates over the socket that only this machine reaches.
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", sock
	err = s.waitReady(ctx, func(ctx context.Context) error {
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+dbname+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
		return err
	})
	if err != nil {
		return nil, err
	}
	cfg.DBName = dbname
	s.DSN = cfg.FormatDSN()
	s.supervise()
	return s, nil
}
