package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

// Exit statuses of `suishen audit verify`.
const (
	auditIntact    = 0
	auditNotIntact = 1
	auditUsage     = 2
	auditCannot    = 3
)

func auditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Work with the tamper-evident audit log",
	}
	var (
		asJSON     bool
		grace      time.Duration
		anchorFile string
		bundles    []string
	)
	verify := &cobra.Command{
		Use:   "verify --anchor ANCHOR.pem [--trust TRUST.jws ...]",
		Short: "Prove the audit log complete and unaltered against the pinned trust anchor",
		Long: `Recompute the SM3 hash chain over every sealed audit entry and check it against
evidence the database cannot forge:

  * checkpoints: every sealed entry must be covered by a checkpoint whose SM2
    signature verifies under the pinned anchor (--anchor) or an anchor it vouches
    for through a recorded rotation (the old anchor endorses the new one, the new
    one acknowledges the old). Anchor keys stored in the database are never
    trusted; checkpoints by an anchor marked compromised (in the database or in
    a --trust bundle) prove nothing. Only entries dated within --grace after the
    last checkpoint may be uncovered (a running server checkpoints every minute).
  * audit heads: each --trust bundle (a trust bundle saved earlier, e.g. with
    'suishen trust fetch', verified against the pinned anchor; expired bundles
    are fine) carries audit_head {seq, sm3, at}; the log must still reach seal
    seq with the same chain hash. This is what catches entries cut from the end:
    keep bundles outside the database and pass them here.

It reports the first bad entry, or the missing or uncovered range of seals. It
only reads: it never creates a data directory or a database.

Exit status:
  0  the log is intact (and reaches every --trust audit head)
  1  the log is NOT intact: entries altered, removed or cut, a checkpoint missing
     or signed by a key the pinned anchor does not vouch for, entries never sealed
  2  usage error: --anchor missing or unreadable, a --trust bundle unreadable or not
     signed by the pinned anchor (or one it vouches for), no database, a database
     without the Suishen schema
  3  the check could not run (the database is unreachable or failed)` + "\n" + envHelp(),
		Example: `  # once, when the service is set up: pin the anchor, kept apart from the database
  suishen keys export > anchor.pem
  # regularly, from outside: keep a bundle (each carries the audit head)
  suishen trust fetch --server https://suishen.example.gov.cn --anchor anchor.pem --lists none --out trust-$(date +%F).jws
  # audit: the log must be intact and still reach every kept head
  suishen audit verify --anchor anchor.pem --trust trust-2026-11-30.jws --trust trust-2026-12-01.jws`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if anchorFile == "" {
				return exitError{code: auditUsage, msg: "--anchor is required: the PEM public key of the trust anchor you pinned ('suishen keys export', kept apart from the database); anchor keys in the database are not trusted"}
			}
			pemBytes, err := readLimited(anchorFile, 1<<16)
			if err != nil {
				return exitError{code: auditUsage, msg: "--anchor: " + err.Error()}
			}
			pinned, err := signing.ParsePublicKeyPEM(pemBytes)
			if err != nil {
				return exitError{code: auditUsage, msg: fmt.Sprintf("--anchor %s: %v", anchorFile, err)}
			}
			jwss := make([]string, len(bundles))
			var endorsements []string
			for i, f := range bundles {
				b, err := readLimited(f, signing.MaxJWSSize)
				if err != nil {
					return exitError{code: auditUsage, msg: "--trust: " + err.Error()}
				}
				jwss[i] = strings.TrimSpace(string(b))
				// Endorsements prove nothing by being here: trust.Anchors
				// follows only those signed by an anchor it already trusts.
				_, payload, err := signing.ParseJWS(jwss[i])
				if err != nil {
					return exitError{code: auditUsage, msg: fmt.Sprintf("--trust %s: not a trust bundle: %v", f, err)}
				}
				var unverified trust.Bundle
				if json.Unmarshal(payload, &unverified) == nil {
					endorsements = append(endorsements, unverified.Endorsements...)
				}
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := openExistingStore(cmd.Context(), cfg)
			var ee exitError
			if errors.As(err, &ee) {
				return err
			}
			if err != nil {
				return exitError{code: auditCannot, msg: err.Error()}
			}
			defer st.Close()
			ctx := cmd.Context()
			succ, err := st.ListAnchorSuccessions(ctx)
			if err != nil {
				return exitError{code: auditCannot, msg: "read anchor successions: " + err.Error()}
			}
			links := make([]trust.Succession, len(succ))
			for i, s := range succ {
				links[i] = trust.Succession{Endorsement: s.Endorsement, Acknowledgement: s.Acknowledgement}
			}
			anchors := trust.Anchors(pinned, links, endorsements)
			// A compromise mark only makes the check stricter, so one read
			// from the database is as good as one from a verified bundle.
			compromised := map[string]bool{}
			keys, err := st.ListKeys(ctx)
			if err != nil {
				return exitError{code: auditCannot, msg: "read keys: " + err.Error()}
			}
			for _, k := range keys {
				if k.Role == store.RoleAnchor && k.Status == store.KeyCompromised {
					compromised[k.KID] = true
				}
			}
			now := time.Now()
			var claims []audit.Claim
			var headless []string
			for i, jws := range jwss {
				b, err := trust.VerifyWithAnchors(jws, anchors, now)
				if err != nil && !errors.Is(err, trust.ErrExpired) {
					return exitError{code: auditUsage, msg: fmt.Sprintf("--trust %s: %v", bundles[i], err)}
				}
				for _, k := range b.Keys {
					if k.Role == trust.RoleAnchor && k.Status == trust.StatusCompromised {
						compromised[k.Kid] = true
					}
				}
				if b.AuditHead == nil {
					// Signed before anything was sealed (or by a server that
					// predates audit heads): it claims nothing.
					headless = append(headless, bundles[i])
					continue
				}
				h, err := b.AuditHead.Hash()
				if err != nil {
					return exitError{code: auditUsage, msg: fmt.Sprintf("--trust %s: %v", bundles[i], err)}
				}
				claims = append(claims, audit.Claim{Head: audit.Head{Seq: b.AuditHead.Seq, Hash: h, At: b.AuditHead.At},
					From: fmt.Sprintf("%s (bundle issued %s)", bundles[i], b.IssuedAt.UTC().Format(time.RFC3339))})
			}
			r, err := audit.Verify(ctx, st, audit.Options{Anchors: anchors, Compromised: compromised, Claims: claims, Now: now, Grace: grace})
			if err != nil {
				return exitError{code: auditCannot, msg: "audit verify: " + err.Error()}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				kids := make([]string, 0, len(anchors))
				for k := range anchors {
					kids = append(kids, k)
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				_ = enc.Encode(map[string]any{"ok": r.OK(), "entries": r.Entries, "checkpoints": r.Checkpoints,
					"signed_checkpoints": r.Signed, "unvouched_checkpoints": r.Unvouched, "covered_seq": r.Covered,
					"audit_heads_reached": r.Claims, "anchors": kids,
					"unsealed": r.Unsealed, "pending": r.Pending, "head_seq": r.HeadSeq, "head": hex.EncodeToString(r.Head),
					"problem": r.Problem, "bad_entry_id": r.BadEntryID, "bad_seq": r.BadSeq})
			} else if r.OK() {
				fmt.Fprintf(out, "audit log intact: %d entries, head seal %d %x\n", r.Entries, r.HeadSeq, r.Head)
				fmt.Fprintf(out, "%d checkpoints verified against the pinned anchor (%d anchors through rotations), covering seals 1–%d\n",
					r.Signed, len(anchors), r.Covered)
				if r.Unvouched > 0 {
					fmt.Fprintf(out, "%d checkpoints signed by keys the pinned anchor does not vouch for were not counted\n", r.Unvouched)
				}
				if r.HeadSeq > r.Covered {
					fmt.Fprintf(out, "seals %d–%d are recent and not yet checkpointed\n", r.Covered+1, r.HeadSeq)
				}
				for _, c := range claims {
					fmt.Fprintf(out, "reaches the audit head of %s: seal %d\n", c.From, c.Seq)
				}
				for _, f := range headless {
					fmt.Fprintf(out, "%s carries no audit_head (signed before anything was sealed, or by an older server): nothing to check against it\n", f)
				}
				if len(claims) == 0 {
					fmt.Fprintln(out, "no --trust bundle with an audit head given: entries cut from the end together with their checkpoints cannot be detected without a saved audit head")
				}
				if r.Pending > 0 {
					fmt.Fprintf(out, "%d newer entries are waiting for the sealer (a running server seals every second)\n", r.Pending)
				}
			} else {
				fmt.Fprintf(out, "AUDIT LOG NOT INTACT after %d good entries: %s\n", r.Entries, r.Problem)
			}
			if !r.OK() {
				return exitError{code: auditNotIntact}
			}
			return nil
		},
	}
	verify.Flags().StringVar(&anchorFile, "anchor", "", "PEM file with the trust anchor's public key to pin (required)")
	verify.Flags().StringArrayVar(&bundles, "trust", nil, "a trust bundle saved earlier; the log must still reach its audit_head (repeatable)")
	verify.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	verify.Flags().DurationVar(&grace, "grace", 10*time.Minute, "entries younger than this may still be waiting for their seal or checkpoint")
	addDatabaseFlags(verify)
	cmd.AddCommand(verify)
	return cmd
}
