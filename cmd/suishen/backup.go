package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// backuper is a store that can copy itself consistently while it serves
// (the embedded SQLite backend).
type backuper interface {
	Backup(ctx context.Context, path string) error
}

func backupCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Copy the embedded database consistently, even while it serves",
		Long: `Write a consistent copy of the embedded SQLite database to FILE (it must not exist).
It is safe while suishen serve runs and writes: the copy is one snapshot.

Restore: stop the server, put FILE as suishen.db in an empty data directory together
with the master key (SUISHEN_MASTER_KEY or the data directory's master-key file) and
the admin token, then start suishen serve. The backup does not contain the master
key: keep the key apart from the backups, and keep it safe — without it the private
keys in a backup cannot be unsealed.

With PostgreSQL use the database's own tools (pg_dump, or base backups with WAL
archiving); see the README. Exit status: 0 done, 1 failed, 2 usage error.` + "\n" + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return exitError{code: 2, msg: "--out FILE is required\nUsage: " + cmd.UseLine()}
			}
			if _, err := os.Lstat(out); err == nil {
				return exitError{code: 2, msg: out + " already exists; name a new file"}
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if !cfg.Embedded() {
				return exitError{code: 2, msg: "suishen backup copies the embedded database; with PostgreSQL use pg_dump or base backups (see the README)"}
			}
			st, err := openExistingStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			b, ok := st.(backuper)
			if !ok {
				return exitError{code: 2, msg: "this database cannot be backed up by suishen"}
			}
			if err := b.Backup(cmd.Context(), out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s\n", st.Backend(), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the copy to (must not exist)")
	addDatabaseFlags(cmd)
	return cmd
}
