package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func migrateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema up to date and exit",
		Long: `Apply every pending migration to the configured database (PostgreSQL when
SUISHEN_DATABASE_URL is set, otherwise the embedded SQLite file) and exit.
serve does the same at start; running several at once against one PostgreSQL is safe.` + "\n" + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Migrate(cmd.Context()); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			v, err := st.MigrationVersion(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s schema at version %d\n", st.Backend(), v)
			return nil
		},
	}
	addDatabaseFlags(cmd)
	return cmd
}
