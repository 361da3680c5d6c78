// Command suishen is the one binary of Suishen: it serves the API, migrates
// the database, manages keys, verifies codes offline and imports
// certificates in bulk. Run `suishen --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/suishen/suishen/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := rootCommand()
	if err := root.ExecuteContext(ctx); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, "suishen:", ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "suishen:", err)
		os.Exit(1)
	}
}

// exitError carries a specific exit status (verify uses 0/1/2/3).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func envHelp() string {
	s := "\nEnvironment:\n"
	for _, v := range config.Vars {
		d := v.Default
		if d == "" {
			d = "(unset)"
		}
		s += fmt.Sprintf("  %-24s %s [default %s]\n", v.Name, v.Meaning, d)
	}
	return s
}

func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "suishen",
		Short: "Suishen issues and verifies 随申码 codes and electronic certificates (电子证照)",
		Long: `Suishen issues electronic certificates (电子证照, GB/T 36901–36906) signed with SM2/SM3,
and 随申码 codes that verify offline against a signed trust bundle.

With no SUISHEN_DATABASE_URL it runs on an embedded SQLite database in SUISHEN_DATA_DIR;
with a postgres:// URL it runs on PostgreSQL, and any number of nodes can share it.` + "\n" + envHelp(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCommand(), migrateCommand(), versionCommand(), auditCommand(), keysCommand(), trustCommand(), importCommand(), verifyCommand())
	return root
}
