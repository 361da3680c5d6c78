package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// withRing opens the store (migrated) and the key ring for a CLI command.
func withRing(cmd *cobra.Command, fn func(ctx context.Context, cfg config.Config, st backend, ring *keyring.Ring) error) error {
	return withRingMode(cmd, false, fn)
}

// withReadOnlyRing is withRing for commands that only read: no database, no
// secrets and no data directory are created when there is none (exit 2).
func withReadOnlyRing(cmd *cobra.Command, fn func(ctx context.Context, cfg config.Config, st backend, ring *keyring.Ring) error) error {
	return withRingMode(cmd, true, fn)
}

func withRingMode(cmd *cobra.Command, readOnly bool, fn func(ctx context.Context, cfg config.Config, st backend, ring *keyring.Ring) error) error {
	ctx := cmd.Context()
	var (
		cfg config.Config
		log *slog.Logger
		st  backend
		err error
	)
	if readOnly {
		cfg, log, st, err = setupReadOnly(cmd, os.Stderr)
	} else {
		cfg, log, st, err = setup(cmd, os.Stderr)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	ring, err := keyring.Open(ctx, st, cfg.MasterKey, nil, log)
	if err != nil {
		return err
	}
	if err := fn(ctx, cfg, st, ring); err != nil || readOnly {
		return err
	}
	// Seal and checkpoint what the command wrote (key changes are audited),
	// so the log it leaves behind is covered even if no server runs.
	sealer := &audit.Sealer{Store: st, Log: log, Anchor: ring.CheckpointSigner}
	if _, err := sealer.SealAndCheckpoint(ctx); err != nil {
		return err
	}
	return nil
}

var cliActor = audit.Actor{Kind: store.KindAdmin, ID: "cli"}

func keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List, rotate, revoke and export signing keys",
		Long: `Manage the signing keys in the configured database: the trust anchor (signs the trust
bundle), the code-signing key (随申码) and one key per department (电子证照).
Private keys never leave the database unsealed; only public keys are printed.` + "\n" + envHelp(),
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List every key with its role, status and validity",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withReadOnlyRing(cmd, func(ctx context.Context, _ config.Config, _ backend, ring *keyring.Ring) error {
				keys := ring.Keys()
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(keys)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "KID\tROLE\tDEPARTMENT\tSTATUS\tNOT BEFORE\tNOT AFTER")
				for _, k := range keys {
					na := "-"
					if k.NotAfter != nil {
						na = k.NotAfter.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Role, dash(k.DepartmentUSCC), k.Status, k.NotBefore.Format(time.RFC3339), na)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var dept string
	rotate := &cobra.Command{
		Use:   "rotate anchor|code|department",
		Short: "Make a new active key; the old one is retired and keeps verifying for its overlap",
		Example: `  suishen keys rotate code
  suishen keys rotate department --department 11100000000013338W`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"anchor", "code", "department"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRing(cmd, func(ctx context.Context, _ config.Config, st backend, ring *keyring.Ring) error {
				role := store.KeyRole(args[0])
				if role == store.RoleDepartment {
					if _, err := st.GetDepartmentByUSCC(ctx, dept); err != nil {
						return exitError{code: 2, msg: fmt.Sprintf("no department with USCC %q", dept)}
					}
				}
				created, retired, err := ring.Rotate(ctx, role, dept, cliActor, "")
				if errors.Is(err, keyring.ErrBadRole) {
					return exitError{code: 2, msg: err.Error()}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "new %s key %s is active\n", created.Role, created.KID)
				if retired.KID != "" {
					until := "indefinitely"
					if retired.NotAfter != nil {
						until = "until " + retired.NotAfter.Format(time.RFC3339)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "retired %s; it keeps verifying %s\n", retired.KID, until)
				}
				return nil
			})
		},
	}
	rotate.Flags().StringVar(&dept, "department", "", "the department's USCC (for department keys)")
	compromised := &cobra.Command{
		Use:   "compromised KID",
		Short: "Mark a key compromised: nothing it signed verifies any more (an active key is replaced)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRing(cmd, func(ctx context.Context, _ config.Config, _ backend, ring *keyring.Ring) error {
				marked, repl, err := ring.Compromise(ctx, args[0], cliActor, "")
				if errors.Is(err, keyring.ErrUnknownKey) || errors.Is(err, keyring.ErrCompromised) {
					return exitError{code: 2, msg: err.Error()}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "key %s is marked compromised\n", marked.KID)
				if repl != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "replacement %s key %s is active\n", repl.Role, repl.KID)
				}
				return nil
			})
		},
	}
	var kid string
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the trust anchor's public key (PEM, SPKI) for pinning in offline verifiers",
		Long: `Print a public key as PEM (SubjectPublicKeyInfo, id-ecPublicKey on the SM2 curve).
Without --kid it prints the active trust anchor: pin it in verifiers (suishen verify
--anchor, trust.Verify) and in openssl pkeyutl -verify -pubin.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withReadOnlyRing(cmd, func(ctx context.Context, _ config.Config, _ backend, ring *keyring.Ring) error {
				var pub *signing.PublicKey
				if kid == "" {
					s, err := ring.Signer(ctx, store.RoleAnchor, "")
					if err != nil {
						return err
					}
					pub = s.Public()
				} else {
					p, _, ok := ring.Public(kid)
					if !ok {
						return exitError{code: 2, msg: fmt.Sprintf("no key %q", kid)}
					}
					pub = p
				}
				pem, err := signing.MarshalPublicKeyPEM(pub)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(pem)
				return err
			})
		},
	}
	export.Flags().StringVar(&kid, "kid", "", "export this key instead of the active anchor")
	for _, c := range []*cobra.Command{list, rotate, compromised, export} {
		addDatabaseFlags(c)
		cmd.AddCommand(c)
	}
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
