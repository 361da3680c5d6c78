package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/trustsync"
)

var listKinds = []string{trust.ListCertificates, trust.ListOfflineCodes, trust.ListEnterpriseCodes, trust.ListVenueCodes, trust.ListCopies}

func trustCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "trust", Short: "Fetch and check the trust bundle for offline verification"}
	var server, out, anchor, lists string
	fetch := &cobra.Command{
		Use:   "fetch",
		Short: "Download the trust bundle and its status lists, verify the bundle against the pinned anchor and save them",
		Long: `Download GET /v1/trust from a Suishen server, verify its SM2 signature against the
trust anchor's public key (--anchor, a PEM file from 'suishen keys export') and save
the compact JWS to --out for offline verifiers ('suishen verify --trust FILE').

The bundle references the status lists (revoked / suspended / superseded entries) by
their SM3 digest; they are saved beside it, in the directory named like --out without
".jws" plus ".lists" (trust.jws → trust.lists/), one file ID.SM3.jws per list. --lists
chooses which: "all" (default), "none" (a verifier of personal codes needs none), or a
comma-separated list of kinds: certificates, offline-codes, enterprise-codes,
venue-codes, copies.

Run it again to refresh: an unchanged bundle costs one 304, and only lists whose
digest changed are downloaded.

Peer regions (区域互认) that the bundle endorses are fetched too: each peer's bundle
(from this server's relay, GET /v1/regions/{code}/trust, else from the peer's own
trust_url) is verified against the anchor the home bundle names for it — never
against anything the peer says about a third region — and saved with its lists in the
directory named like --out without ".jws" plus ".peers" (trust.peers/320500.jws,
trust.peers/320500.lists/). A peer that cannot be fetched is reported on standard
error and does not change the exit status; what it issued verifies as unknown. A peer
no longer endorsed is removed.`,
		Example: `  suishen keys export > anchor.pem
  suishen trust fetch --server http://127.0.0.1:8080 --anchor anchor.pem --out trust.jws
  suishen trust fetch --server http://127.0.0.1:8080 --anchor anchor.pem --lists certificates`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" || anchor == "" {
				return exitError{code: 2, msg: "--server and --anchor are required"}
			}
			want, err := parseKinds(lists)
			if err != nil {
				return exitError{code: 2, msg: "--lists: " + err.Error()}
			}
			pemBytes, err := os.ReadFile(anchor)
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			pinned, err := signing.ParsePublicKeyPEM(pemBytes)
			if err != nil {
				return exitError{code: 2, msg: "--anchor: " + err.Error()}
			}
			d := trustsync.DirFor(out)
			start := time.Now()
			rep, err := trustsync.Sync(cmd.Context(), trustsync.Client{Server: server}, d, pinned, want)
			if err != nil {
				if errors.Is(err, trustsync.ErrBundleRejected) {
					return exitError{code: 1, msg: err.Error()}
				}
				return err
			}
			b := rep.Bundle
			state := "saved trust bundle to"
			if !rep.BundleChanged {
				state = "trust bundle unchanged at"
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s %s: %d keys, %d status lists referenced, issued %s, expires %s\n",
				state, out, len(b.Keys), len(b.StatusLists), b.IssuedAt.Format(time.RFC3339), b.ExpiresAt.Format(time.RFC3339))
			if h := b.AuditHead; h != nil {
				fmt.Fprintf(w, "audit head: seal %d, sm3 %s ('suishen audit verify --trust %s' proves the log still reaches it)\n", h.Seq, h.SM3, out)
			}
			fmt.Fprintf(w, "status lists in %s: %d kept, %d fetched (%d bytes), %d removed, in %s\n",
				d.Lists, rep.Kept, rep.Fetched, rep.FetchedBytes, rep.Removed, time.Since(start).Round(time.Millisecond))
			// Peer regions (区域互认) the bundle endorses: their bundles and
			// lists go to the .peers directory, each verified against the
			// anchor this bundle names for it.
			for _, pr := range trustsync.SyncPeers(cmd.Context(), trustsync.Client{Server: server}, d, b, want) {
				pd := d.Peer(pr.Code)
				if pr.Err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: peer region %s: %v: what it issued verifies as unknown until a fetch succeeds\n", pr.Code, pr.Err)
					continue
				}
				fmt.Fprintf(w, "peer region %s: bundle %s (expires %s), %d status lists (%d fetched)\n",
					pr.Code, pd.Bundle, pr.Report.Bundle.ExpiresAt.Format(time.RFC3339), pr.Report.Lists, pr.Report.Fetched)
			}
			if len(rep.Failed) > 0 {
				return exitError{code: 1, msg: fmt.Sprintf("%d status lists could not be fetched (%s): what they cover verifies as unknown; run again",
					len(rep.Failed), strings.Join(rep.Failed[:min(len(rep.Failed), 5)], ", "))}
			}
			return nil
		},
	}
	fetch.Flags().StringVar(&server, "server", "", "base URL of a Suishen server")
	fetch.Flags().StringVar(&anchor, "anchor", "", "PEM file with the pinned trust anchor public key")
	fetch.Flags().StringVarP(&out, "out", "o", "trust.jws", "where to save the bundle (its lists go beside it)")
	fetch.Flags().StringVar(&lists, "lists", "all", `status lists to keep: "all", "none" or kinds (certificates,offline-codes,enterprise-codes,venue-codes,copies)`)
	cmd.AddCommand(fetch)
	return cmd
}

// parseKinds parses --lists.
func parseKinds(s string) (trustsync.Want, error) {
	switch s {
	case "all", "":
		return nil, nil
	case "none":
		return func(trust.StatusListRef) bool { return false }, nil
	}
	kinds := map[string]bool{}
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(listKinds, k) {
			return nil, fmt.Errorf("unknown kind %q (want all, none or some of %s)", k, strings.Join(listKinds, ", "))
		}
		kinds[k] = true
	}
	return func(ref trust.StatusListRef) bool { return kinds[ref.Kind] }, nil
}

func fetchTrust(ctx context.Context, server string) (string, error) {
	jws, _, err := trustsync.Client{Server: server}.Bundle(ctx, "")
	return jws, err
}
