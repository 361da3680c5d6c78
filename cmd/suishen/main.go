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
	"strings"
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
		if isUsageError(err) {
			fmt.Fprintln(os.Stderr, "suishen:", err)
			fmt.Fprintln(os.Stderr, "Run 'suishen --help' for usage.")
			os.Exit(2)
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

// markUsageErrors makes every usage error of every command — an unknown
// flag, a bad flag value, a wrong number of arguments — exit 2, like the
// commands' own usage errors, with the command's usage line.
func markUsageErrors(c *cobra.Command) {
	c.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitError{code: 2, msg: fmt.Sprintf("%v\nUsage: %s", err, c.UseLine())}
	})
	if !c.Runnable() && c.HasSubCommands() && c.HasParent() {
		// A group such as `keys`: alone it prints its help; with an
		// unknown word it is a usage error, not a silent help page.
		c.Args = cobra.NoArgs
		c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
	if args := c.Args; args != nil {
		c.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return exitError{code: 2, msg: fmt.Sprintf("%v\nUsage: %s", err, c.UseLine())}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsageErrors(sub)
	}
}

// isUsageError recognises the usage errors cobra raises before any command's
// Args run (an unknown subcommand, a missing required flag).
func isUsageError(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "unknown command") || strings.HasPrefix(m, "required flag") ||
		strings.HasPrefix(m, "unknown flag") || strings.HasPrefix(m, "unknown shorthand flag")
}

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
	root.AddCommand(serveCommand(), migrateCommand(), versionCommand(), auditCommand(), keysCommand(), trustCommand(), importCommand(), verifyCommand(), backupCommand())
	markUsageErrors(root)
	return root
}
