package teststore

// Dropping a database makes PostgreSQL checkpoint, which takes a second or
// more on a busy machine; a test does not wait for it. Its cleanup hands the
// database to a dropper that drops in the background, one at a time. A test
// binary may exit before the dropper is done, so each database is named after
// the process that made it (suishen_t_<pid>_<random>), and the first
// PostgreSQL test of every later binary drops those left by processes that
// no longer run.

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// testDatabaseName returns a new database name carrying this process's id.
func testDatabaseName() string {
	return "suishen_t_" + strconv.Itoa(os.Getpid()) + "_" + randomSuffix()
}

// ownerAlive reports whether the process that created database name may
// still be running (true when unsure).
func ownerAlive(name string) bool {
	rest, ok := strings.CutPrefix(name, "suishen_t_")
	if !ok {
		return true
	}
	pidText, _, ok := strings.Cut(rest, "_")
	if !ok {
		return true
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return true
	}
	if pid == os.Getpid() {
		return true
	}
	err = syscall.Kill(pid, 0)
	return !errors.Is(err, syscall.ESRCH)
}

type dropper struct {
	once  sync.Once
	queue chan string
}

var droppers sync.Map // TEST_DATABASE_URL → *dropper

// startDropper starts the dropper for the server of base (once), which
// first sweeps databases left behind.
func startDropper(base string) *dropper {
	v, _ := droppers.LoadOrStore(base, &dropper{queue: make(chan string, 4096)})
	d := v.(*dropper)
	d.once.Do(func() {
		go d.run(base)
	})
	return d
}

// dropLater queues database name for dropping on the server of base.
func dropLater(base, name string) {
	d := startDropper(base)
	select {
	case d.queue <- name:
	default: // a full queue: the next binary's sweep drops it
	}
}

func (d *dropper) run(base string) {
	drop := func(name string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	// Databases left behind by test binaries that have exited.
	func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		rows, err := c.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'suishen\_t\_%\_%'`)
		if err != nil {
			return
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return
		}
		for _, n := range names {
			if !ownerAlive(n) {
				select {
				case d.queue <- n:
				default:
				}
			}
		}
	}()
	for name := range d.queue {
		drop(name)
	}
}
