package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
)

func trustCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "trust", Short: "Fetch and check the trust bundle for offline verification"}
	var server, out, anchor string
	fetch := &cobra.Command{
		Use:   "fetch",
		Short: "Download the trust bundle, verify it against the pinned anchor and save it",
		Long: `Download GET /v1/trust from a Suishen server, verify its SM2 signature against the
trust anchor's public key (--anchor, a PEM file from 'suishen keys export') and save
the compact JWS to --out for offline verifiers ('suishen verify --trust FILE').`,
		Example: `  suishen keys export > anchor.pem
  suishen trust fetch --server http://127.0.0.1:8080 --anchor anchor.pem --out trust.jws`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" || anchor == "" {
				return exitError{code: 2, msg: "--server and --anchor are required"}
			}
			pemBytes, err := os.ReadFile(anchor)
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			pinned, err := signing.ParsePublicKeyPEM(pemBytes)
			if err != nil {
				return exitError{code: 2, msg: "--anchor: " + err.Error()}
			}
			jws, err := fetchTrust(cmd.Context(), server)
			if err != nil {
				return err
			}
			b, err := trust.Verify(jws, pinned, time.Now())
			if err != nil {
				return exitError{code: 1, msg: "the bundle does not verify against the pinned anchor: " + err.Error()}
			}
			if err := writeFileAtomic(out, []byte(jws+"\n")); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved trust bundle to %s: %d keys, %d status lists, issued %s, expires %s\n",
				out, len(b.Keys), len(b.StatusLists), b.IssuedAt.Format(time.RFC3339), b.ExpiresAt.Format(time.RFC3339))
			return nil
		},
	}
	fetch.Flags().StringVar(&server, "server", "", "base URL of a Suishen server")
	fetch.Flags().StringVar(&anchor, "anchor", "", "PEM file with the pinned trust anchor public key")
	fetch.Flags().StringVarP(&out, "out", "o", "trust.jws", "where to save the bundle")
	cmd.AddCommand(fetch)
	return cmd
}

func fetchTrust(ctx context.Context, server string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/v1/trust", nil)
	if err != nil {
		return "", exitError{code: 2, msg: "--server: " + err.Error()}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetch trust bundle: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, signing.MaxJWSSize+1))
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetch trust bundle: HTTP %d", res.StatusCode)
	}
	if len(body) > signing.MaxJWSSize {
		return "", errors.New("fetch trust bundle: response too large")
	}
	return strings.TrimSpace(string(body)), nil
}

// writeFileAtomic writes via a temporary file and a rename, so a reader
// never sees half a bundle.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
