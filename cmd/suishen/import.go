package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

func importCommand() *cobra.Command {
	var dept, format, report string
	var batch int
	var quiet bool
	var cpuprofile string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Issue certificates in bulk from a CSV or JSONL file (millions of rows)",
		Long: `Issue certificates for one department from a CSV or JSON Lines file, streaming it in
batches: each batch is validated row by row, numbered, signed on every core with the
department's SM2 key, and stored in one transaction (COPY on PostgreSQL). A bad row does
not stop the import: it is written to the error report with its line number and the
field at fault. Re-running the same file is safe: rows whose certificate number the
department already issued are reported as duplicates, never issued twice.

The file formats (columns, the fields object) are described in docs/certificates.md.
Use - as FILE to read standard input.` + "\n" + envHelp(),
		Example: `  suishen import --department 11100000000013338W licences.csv
  suishen import --department 11100000000013338W --format jsonl --report errors.csv ids.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dept == "" {
				return exitError{code: 2, msg: "--department (the issuing department's USCC) is required"}
			}
			if batch < 1 || batch > 10000 {
				return exitError{code: 2, msg: "--batch must be between 1 and 10000"}
			}
			path := args[0]
			if format == "" {
				switch {
				case strings.HasSuffix(path, ".csv"):
					format = "csv"
				case strings.HasSuffix(path, ".jsonl"), strings.HasSuffix(path, ".ndjson"):
					format = "jsonl"
				default:
					return exitError{code: 2, msg: "cannot tell the format from the file name: use --format csv or --format jsonl"}
				}
			}
			if format != "csv" && format != "jsonl" {
				return exitError{code: 2, msg: "--format must be csv or jsonl"}
			}
			var in io.Reader = os.Stdin
			var size int64 = -1
			if path != "-" {
				f, err := os.Open(path)
				if err != nil {
					return exitError{code: 2, msg: err.Error()}
				}
				defer f.Close()
				if st, err := f.Stat(); err == nil {
					size = st.Size()
				}
				in = f
			}
			if cpuprofile != "" {
				f, err := os.Create(cpuprofile)
				if err != nil {
					return exitError{code: 2, msg: err.Error()}
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			return withRing(cmd, func(ctx context.Context, cfg config.Config, st backend, ring *keyring.Ring) error {
				d, err := st.GetDepartmentByUSCC(ctx, dept)
				if errors.Is(err, store.ErrNotFound) {
					return exitError{code: 2, msg: fmt.Sprintf("no department with USCC %q", dept)}
				}
				if err != nil {
					return err
				}
				svc := &issuance.Service{Store: st, Keys: ring, Subjects: principal.NewSubjects(cfg.MasterKey),
					ShuffleKey: signing.DeriveKey(cfg.MasterKey, "suishen/status-shuffle/v1")}
				if err := svc.Seed(ctx); err != nil {
					return err
				}
				var rep *csv.Writer
				if report != "" {
					f, err := os.Create(report)
					if err != nil {
						return exitError{code: 2, msg: err.Error()}
					}
					defer f.Close()
					rep = csv.NewWriter(f)
					defer rep.Flush()
					_ = rep.Write([]string{"line", "field", "code", "detail", "id"})
				}
				var bar *progressbar.ProgressBar
				if !quiet {
					bar = progressbar.NewOptions64(size, progressbar.OptionSetDescription("importing"),
						progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionShowBytes(true),
						progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond),
						progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }))
					in = io.TeeReader(in, bar)
				}
				// Fresh planner statistics after a bulk load (autovacuum may be
				// off, or slower than the load).
				analyzer, _ := st.(interface{ Analyze(context.Context) error })
				sum, err := runImport(ctx, svc, d, format, in, batch, func(line int, field, code, detail, id string) {
					if rep != nil {
						_ = rep.Write([]string{strconv.Itoa(line), field, code, detail, id})
					}
				})
				if bar != nil {
					_ = bar.Finish()
				}
				if analyzer != nil && err == nil {
					err = analyzer.Analyze(ctx)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "imported %d certificates in %s (%.0f/s); %d duplicates skipped; %d rows rejected\n",
					sum.created, sum.elapsed.Round(time.Millisecond), float64(sum.created)/sum.elapsed.Seconds(), sum.duplicates, sum.rejected)
				if err != nil {
					return err
				}
				if sum.rejected > 0 {
					if report == "" {
						fmt.Fprintln(cmd.ErrOrStderr(), "some rows were rejected: run again with --report FILE to see which and why")
					}
					return exitError{code: 1}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&dept, "department", "", "USCC of the issuing department (required)")
	cmd.Flags().StringVar(&format, "format", "", "csv or jsonl (default: from the file name)")
	cmd.Flags().StringVar(&report, "report", "", "write rejected and duplicate rows to this CSV file")
	cmd.Flags().IntVar(&batch, "batch", 2000, "rows per transaction")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress bar")
	cmd.Flags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the import to this file")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	addDatabaseFlags(cmd)
	return cmd
}

type importSummary struct {
	created, duplicates, rejected int
	elapsed                       time.Duration
}

type chunk struct {
	lines []int
	pb    *issuance.PreparedBatch
}

// runImport streams rows into batches: one goroutine parses, validates and
// signs the next batch while the previous one is being stored.
func runImport(ctx context.Context, svc *issuance.Service, d store.Department, format string, in io.Reader, size int,
	reject func(line int, field, code, detail, id string)) (importSummary, error) {
	start := time.Now()
	var sum importSummary
	// The parser (rejected rows) and the saver (results) both report.
	var mu sync.Mutex
	report := reject
	reject = func(line int, field, code, detail, id string) {
		mu.Lock()
		defer mu.Unlock()
		report(line, field, code, detail, id)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prepared := make(chan chunk, 1)
	parseErr := make(chan error, 1)
	actor := issuance.Actor{Actor: cliActor}

	go func() {
		defer close(prepared)
		var reqs []issuer.IssueRequest
		var lines []int
		flush := func() error {
			if len(reqs) == 0 {
				return nil
			}
			pb, err := svc.PrepareBatch(ctx, d, reqs)
			if err != nil {
				return err
			}
			select {
			case prepared <- chunk{lines: lines, pb: pb}:
			case <-ctx.Done():
				return ctx.Err()
			}
			reqs, lines = nil, nil
			return nil
		}
		row := func(line int, req issuer.IssueRequest, err error) error {
			if err != nil {
				var re *issuer.RowError
				if errors.As(err, &re) && len(re.Errors) > 0 {
					for _, fe := range re.Errors {
						reject(line, fe.Field, fe.Code, fe.Detail, "")
					}
				} else {
					reject(line, "", "syntax", err.Error(), "")
				}
				mu.Lock()
				sum.rejected++
				mu.Unlock()
				return nil
			}
			reqs, lines = append(reqs, req), append(lines, line)
			if len(reqs) >= size {
				return flush()
			}
			return nil
		}
		var err error
		if format == "csv" {
			err = issuer.ParseCSV(in, row)
		} else {
			err = issuer.ParseJSONL(in, row)
		}
		if err == nil {
			err = flush()
		}
		parseErr <- err
	}()

	for ch := range prepared {
		if err := svc.SaveBatch(ctx, ch.pb, actor); err != nil {
			cancel()
			for range prepared {
			}
			<-parseErr
			mu.Lock()
			defer mu.Unlock()
			sum.elapsed = time.Since(start)
			return sum, err
		}
		mu.Lock()
		results := ch.pb.Results
		mu.Unlock()
		for i, res := range results {
			line := ch.lines[i]
			var inv *issuance.InvalidError
			switch {
			case res.Err == nil:
				mu.Lock()
				sum.created++
				mu.Unlock()
			case errors.Is(res.Err, issuance.ErrDuplicate):
				mu.Lock()
				sum.duplicates++
				mu.Unlock()
				reject(line, "number", "duplicate", "already issued; skipped", res.ID)
			case errors.As(res.Err, &inv):
				mu.Lock()
				sum.rejected++
				mu.Unlock()
				for _, fe := range inv.Fields {
					reject(line, fe.Field, fe.Code, fe.Detail, "")
				}
			default:
				mu.Lock()
				sum.rejected++
				mu.Unlock()
				reject(line, "type_code", "rejected", res.Err.Error(), "")
			}
		}
	}
	err := <-parseErr
	mu.Lock()
	defer mu.Unlock()
	sum.elapsed = time.Since(start)
	return sum, err
}
