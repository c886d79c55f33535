// Package pgtest starts a throwaway PostgreSQL cluster for tests.
//
// One cluster is started per test binary, on first use, from the local
// PostgreSQL installation (pg_config --bindir, else /usr/lib/postgresql/*/bin,
// else initdb on PATH; LEXTRAIL_PG_BINDIR overrides). Each Start call creates
// a fresh database in it, so tests are isolated, and drops it on cleanup.
//
// A package using Start should stop the cluster at the end of the test
// binary:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// or, with its own TestMain, call pgtest.Shutdown after m.Run. As a safety
// net for binaries killed before that (go test -timeout, ^C), a small
// watchdog process stops the cluster and removes its files once the test
// process has gone.
//
// When the binaries are absent the test is skipped with the reason, unless
// LEXTRAIL_REQUIRE_POSTGRES=1, in which case it fails. When running as root
// (CI containers), initdb, pg_ctl and postgres run as the "postgres" user via
// runuser (or su) and the data directory is owned by that user.
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver
)

// RequireEnv names the environment variable that turns a missing PostgreSQL
// into a test failure instead of a skip.
const RequireEnv = "LEXTRAIL_REQUIRE_POSTGRES"

type cluster struct {
	bindir  string
	version string
	dir     string // temp root: data/, socket, log
	port    int
	runAs   string // "" or the user to run binaries as
	admin   *sql.DB
	skip    string // why no cluster (binaries absent)
	err     error  // why the cluster failed to start
}

var (
	mu       sync.Mutex
	once     sync.Once
	cl       *cluster
	shutdown bool
	dbSeq    atomic.Int64
	skipNote sync.Once
)

// Start returns a postgres:// URL for a new, empty database in the shared
// cluster (starting the cluster on first call), connecting as the superuser
// "postgres" over TCP on 127.0.0.1 with trust authentication. The database is
// dropped (WITH (FORCE), so open sessions are terminated) when tb's cleanup
// runs. Cleanups run last-registered-first, so a store opened on the URL
// and closed in a t.Cleanup registered after Start is closed before the drop.
func Start(tb testing.TB) string {
	tb.Helper()
	once.Do(func() { cl = startCluster() })
	mu.Lock()
	c, down := cl, shutdown
	mu.Unlock()
	if down {
		tb.Fatal("pgtest: Start called after Shutdown")
	}
	if c.skip != "" {
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("pgtest: PostgreSQL required (%s=1) but unavailable: %s", RequireEnv, c.skip)
		}
		skipNote.Do(func() { fmt.Fprintf(os.Stderr, "pgtest: skipping PostgreSQL tests: %s\n", c.skip) })
		tb.Skipf("pgtest: PostgreSQL unavailable: %s (set %s=1 to make this a failure)", c.skip, RequireEnv)
	}
	if c.err != nil {
		tb.Fatalf("pgtest: %v", c.err)
	}
	name := fmt.Sprintf("lextrail_test_%d", dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if shutdown {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := c.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.url(name)
}

// Version returns the server's major version ("15"), starting the cluster
// if needed; "" when PostgreSQL is unavailable.
func Version() string {
	once.Do(func() { cl = startCluster() })
	if cl.skip != "" || cl.err != nil {
		return ""
	}
	return cl.version
}

// Main runs the tests and then stops the cluster: use it as TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Shutdown()
	os.Exit(code)
}

// Shutdown stops the cluster, if one was started, and removes its files.
// It is safe to call more than once and when no cluster was started.
func Shutdown() {
	mu.Lock()
	defer mu.Unlock()
	if shutdown {
		return
	}
	shutdown = true
	if cl == nil || cl.dir == "" {
		return
	}
	cl.stop()
}

func (c *cluster) url(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func startCluster() *cluster {
	c := &cluster{}
	bindir, why := findBindir()
	if bindir == "" {
		c.skip = why
		return c
	}
	c.bindir = bindir
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			c.skip = "running as root and there is no \"postgres\" user to run the server as"
			return c
		}
		c.runAs = "postgres"
	}
	if err := c.start(); err != nil {
		c.err = err
		if c.dir != "" {
			c.stop()
		}
	}
	return c
}

// findBindir locates a directory holding initdb, pg_ctl and postgres.
func findBindir() (string, string) {
	ok := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("LEXTRAIL_PG_BINDIR"); d != "" {
		if ok(d) {
			return d, ""
		}
		return "", fmt.Sprintf("LEXTRAIL_PG_BINDIR=%s has no initdb/pg_ctl/postgres", d)
	}
	var tried []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if ok(d) {
			return d, ""
		}
		tried = append(tried, d)
	} else {
		tried = append(tried, "pg_config (not found)")
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { // newest major first
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if ok(d) {
			return d, ""
		}
		tried = append(tried, d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		if d := filepath.Dir(p); ok(d) {
			return d, ""
		}
	}
	tried = append(tried, "/usr/lib/postgresql/*/bin", "initdb on PATH")
	return "", "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; tried " + strings.Join(tried, ", ") +
		" (install postgresql-15, or set LEXTRAIL_PG_BINDIR)"
}

// command builds a command running bin as c.runAs when set.
func (c *cluster) command(bin string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bindir, bin)
	var cmd *exec.Cmd
	switch {
	case c.runAs == "":
		cmd = exec.Command(path, args...)
	case lookPath("runuser") != "":
		cmd = exec.Command(lookPath("runuser"), append([]string{"-u", c.runAs, "--", path}, args...)...)
	default:
		q := []string{shellQuote(path)}
		for _, a := range args {
			q = append(q, shellQuote(a))
		}
		cmd = exec.Command("su", c.runAs, "-s", "/bin/sh", "-c", strings.Join(q, " "))
	}
	cmd.Dir = c.dir // a cwd the postgres user can enter
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	return cmd
}

func lookPath(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
			if _, err := os.Stat(filepath.Join(d, name)); err == nil {
				return filepath.Join(d, name)
			}
		}
		return ""
	}
	return p
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func run(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func (c *cluster) start() error {
	dir, err := os.MkdirTemp("", "lextrail-pgtest-")
	if err != nil {
		return err
	}
	c.dir = dir
	if c.runAs != "" {
		u, err := user.Lookup(c.runAs)
		if err != nil {
			return err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return fmt.Errorf("chown %s to %s: %w", dir, c.runAs, err)
		}
	}
	// Armed before anything is started, so that a test binary killed at any
	// point (go test -timeout, ^C, SIGKILL) leaves no server or files behind.
	c.watchdog()
	data := filepath.Join(dir, "data")
	if err := run(c.command("initdb", "-D", data, "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	if out, err := os.ReadFile(filepath.Join(data, "PG_VERSION")); err == nil {
		c.version = strings.TrimSpace(string(out))
	}
	// The free port is found by binding and releasing it, which can race
	// with another process; retry on a fresh port if the server fails.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
		lastErr = run(c.command("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-t", "60", "-w", "start"))
		if lastErr == nil {
			c.port = port
			break
		}
		if log, err := os.ReadFile(filepath.Join(dir, "log")); err == nil {
			lastErr = fmt.Errorf("%w\nserver log:\n%s", lastErr, log)
		}
	}
	if lastErr != nil {
		return fmt.Errorf("pg_ctl start: %w", lastErr)
	}
	admin, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		return err
	}
	admin.SetMaxOpenConns(2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return fmt.Errorf("connect to test cluster: %w", err)
	}
	c.admin = admin
	return nil
}

// watchdog starts a detached shell that stops the cluster and removes its
// directory once this process has exited without calling Shutdown.
func (c *cluster) watchdog() {
	stop := c.command("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop")
	var q []string
	for _, a := range stop.Args {
		q = append(q, shellQuote(a))
	}
	// initdb or pg_ctl may still be running when the test process dies, so
	// keep stopping and removing until the directory has stayed gone for a
	// few seconds (initdb creates its target directory with mkdir -p).
	script := fmt.Sprintf(`while kill -0 %d 2>/dev/null; do sleep 1; done
cd /
gone=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  if [ -d %[2]s ]; then
    gone=0
    if [ -f %[2]s/data/postmaster.pid ]; then %[3]s >/dev/null 2>&1; fi
    rm -rf %[2]s 2>/dev/null
  else
    gone=$((gone+1))
    [ $gone -ge 3 ] && exit 0
  fi
  sleep 1
done`, os.Getpid(), shellQuote(c.dir), strings.Join(q, " "))
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if err := cmd.Start(); err == nil {
		go cmd.Wait() //nolint:errcheck // reaped if it ever exits while we run
	}
}

func (c *cluster) stop() {
	if c.admin != nil {
		c.admin.Close()
	}
	if c.port != 0 {
		if err := run(c.command("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "stop")); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop: %v\n", err)
		}
	}
	if err := os.RemoveAll(c.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "pgtest: remove %s: %v\n", c.dir, err)
	}
	c.dir = ""
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
