package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/suishen/suishen/audit"
)

func auditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Work with the tamper-evident audit log",
	}
	var asJSON bool
	var grace time.Duration
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the audit hash chain and check every checkpoint",
		Long: `Recompute the SM3 hash chain over every sealed audit entry, check every checkpoint
against it and its SM2 signature by the trust anchor, and count entries that were
never sealed. Exits 0 when the log is intact, 1 naming the first bad entry otherwise.` + "\n" + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := openExistingStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			verifyKey, err := checkpointVerifier(cmd.Context(), st)
			if err != nil {
				return err
			}
			r, err := audit.Verify(cmd.Context(), st, verifyKey, time.Now(), grace)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				_ = enc.Encode(map[string]any{"ok": r.OK(), "entries": r.Entries, "checkpoints": r.Checkpoints,
					"signed_checkpoints": r.Signed, "unsealed": r.Unsealed, "pending": r.Pending, "head": hex.EncodeToString(r.Head),
					"problem": r.Problem, "bad_entry_id": r.BadEntryID, "bad_seq": r.BadSeq})
			} else if r.OK() {
				fmt.Fprintf(out, "audit log intact: %d entries, %d checkpoints (%d signed), head %x\n", r.Entries, r.Checkpoints, r.Signed, r.Head)
				if r.Pending > 0 {
					fmt.Fprintf(out, "%d newer entries are waiting for the sealer (a running server seals every second)\n", r.Pending)
				}
			} else {
				fmt.Fprintf(out, "AUDIT LOG NOT INTACT after %d good entries: %s\n", r.Entries, r.Problem)
			}
			if !r.OK() {
				return exitError{code: 1}
			}
			return nil
		},
	}
	verify.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	verify.Flags().DurationVar(&grace, "grace", 10*time.Minute, "entries younger than this may still be waiting for their seal")
	addDatabaseFlags(verify)
	cmd.AddCommand(verify)
	return cmd
}
