package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/postgres"
	"github.com/suishen/suishen/store/sqlite"
)

// addConfigFlags adds the flags of a command that listens and uses the
// database (serve).
func addConfigFlags(cmd *cobra.Command) {
	cmd.Flags().String("addr", "", "listen address (overrides SUISHEN_ADDR)")
	addDatabaseFlags(cmd)
}

// addDatabaseFlags adds the flags that choose the database; commands that do
// not listen have no --addr.
func addDatabaseFlags(cmd *cobra.Command) {
	cmd.Flags().String("data-dir", "", "data directory (overrides SUISHEN_DATA_DIR)")
	cmd.Flags().String("database-url", "", "postgres:// URL (overrides SUISHEN_DATABASE_URL)")
}

func loadConfig(cmd *cobra.Command) (config.Config, error) {
	over := map[string]string{}
	for flag, env := range map[string]string{"addr": "SUISHEN_ADDR", "data-dir": "SUISHEN_DATA_DIR", "database-url": "SUISHEN_DATABASE_URL"} {
		if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
			over[env] = f.Value.String()
		}
	}
	cfg, err := config.Load(os.Getenv, over)
	if err != nil {
		return cfg, exitError{code: 2, msg: "configuration: " + err.Error()}
	}
	return cfg, nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// backend is a store with its migrations.
type backend interface {
	store.Store
	Migrate(ctx context.Context) error
	MigrationVersion(ctx context.Context) (int64, error)
}

// openStore opens PostgreSQL when SUISHEN_DATABASE_URL is set, otherwise
// the embedded SQLite file in the data directory.
func openStore(ctx context.Context, cfg config.Config) (backend, error) {
	if !cfg.Embedded() {
		st, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		return st, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "suishen.db"))
	if err != nil {
		return nil, fmt.Errorf("open embedded database: %w", err)
	}
	return st, nil
}

// ensureSecrets fills in the admin token and master key in embedded mode:
// read from the data directory, or generated on first start, saved 0600 and
// reported once through announce.
func ensureSecrets(cfg *config.Config, log *slog.Logger, announce io.Writer) error {
	if !cfg.Embedded() {
		return nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if len(cfg.MasterKey) == 0 {
		v, created, err := secretFile(filepath.Join(cfg.DataDir, "master-key"), func() string {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			return hex.EncodeToString(b)
		})
		if err != nil {
			return err
		}
		if cfg.MasterKey, err = config.ParseMasterKey(v); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(cfg.DataDir, "master-key"), err)
		}
		if created {
			log.Warn("generated a master key in the data directory; set SUISHEN_MASTER_KEY and keep it apart from the data in production",
				"path", filepath.Join(cfg.DataDir, "master-key"))
		}
	}
	if cfg.AdminToken == "" {
		v, created, err := secretFile(filepath.Join(cfg.DataDir, "admin-token"), principal.NewAdminToken)
		if err != nil {
			return err
		}
		cfg.AdminToken = v
		if created {
			fmt.Fprintf(announce, "\nSuishen generated an admin token (shown once; also saved 0600 in %s):\n\n    %s\n\n",
				filepath.Join(cfg.DataDir, "admin-token"), v)
		}
	}
	return nil
}

// secretFile reads a secret, or creates it with gen if it does not exist.
func secretFile(path string, gen func() string) (value string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	v := gen()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process won the race
		b, err := os.ReadFile(path)
		return strings.TrimSpace(string(b)), false, err
	}
	if err != nil {
		return "", false, err
	}
	if _, err := f.WriteString(v + "\n"); err != nil {
		f.Close()
		return "", false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", false, err
	}
	return v, true, f.Close()
}

// setup is the common start of every command that works on the database:
// configuration, embedded secrets, the store, migrations. Logs go to logTo.
func setup(cmd *cobra.Command, logTo io.Writer) (config.Config, *slog.Logger, backend, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return cfg, nil, nil, err
	}
	return setupWith(cmd, cfg, logTo, false)
}

// setupReadOnly is setup for commands that only read (keys list|export, audit
// verify): they never create a data directory, secrets or a database, and
// answer exit 2 naming where they looked when there is none.
func setupReadOnly(cmd *cobra.Command, logTo io.Writer) (config.Config, *slog.Logger, backend, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return cfg, nil, nil, err
	}
	return setupWith(cmd, cfg, logTo, true)
}

func setupWith(cmd *cobra.Command, cfg config.Config, logTo io.Writer, readOnly bool) (config.Config, *slog.Logger, backend, error) {
	ctx := cmd.Context()
	log := newLogger(cfg, logTo)
	if readOnly {
		st, err := openExistingStore(ctx, cfg)
		if err != nil {
			return cfg, nil, nil, err
		}
		if cfg.Embedded() && len(cfg.MasterKey) == 0 {
			path := filepath.Join(cfg.DataDir, "master-key")
			b, err := os.ReadFile(path)
			if err != nil {
				st.Close()
				return cfg, nil, nil, exitError{code: 2, msg: "no master key at " + path + "; set SUISHEN_MASTER_KEY"}
			}
			if cfg.MasterKey, err = config.ParseMasterKey(strings.TrimSpace(string(b))); err != nil {
				st.Close()
				return cfg, nil, nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		return cfg, log, st, nil
	}
	if err := ensureSecrets(&cfg, log, os.Stderr); err != nil {
		return cfg, nil, nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return cfg, nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return cfg, nil, nil, fmt.Errorf("migrate: %w", err)
	}
	return cfg, log, st, nil
}

// errNoDatabase is the usage error of a read-only command pointed at nothing.
func errNoDatabase(where string) error {
	return exitError{code: 2, msg: "no database at " + where + "; set SUISHEN_DATA_DIR or SUISHEN_DATABASE_URL (or run `suishen migrate` first)"}
}

// openExistingStore opens a database that must already hold Suishen's
// schema: it creates no file or directory, and migrates an existing schema
// forward only (so an older database still reads), never from nothing.
func openExistingStore(ctx context.Context, cfg config.Config) (backend, error) {
	if cfg.Embedded() {
		path := filepath.Join(cfg.DataDir, "suishen.db")
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			return nil, errNoDatabase(path)
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	v, err := st.MigrationVersion(ctx)
	if err != nil || v == 0 {
		st.Close()
		where := filepath.Join(cfg.DataDir, "suishen.db")
		if !cfg.Embedded() {
			where = "the PostgreSQL database of SUISHEN_DATABASE_URL (it has no Suishen schema)"
		}
		return nil, errNoDatabase(where)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return st, nil
}
