package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

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
	var quiet, reportDuplicates bool
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

Rejected rows are always summarised on standard error (the first 20, in line order);
--report FILE writes every rejected row (line, field, code, detail) in line order, and
with --report-duplicates the rows skipped as already issued too. The progress bar is
shown only when standard error is a terminal.

The file formats (columns, the fields object) are described in docs/certificates.md.
Use - as FILE to read standard input.

Exit status:
  0  every row was imported, or had been already (duplicates are skipped, not errors)
  1  some rows were rejected, or the file as a whole was (a wrong header, an empty file,
     a row too large); rows before a file-level problem may have been imported
  2  usage error: flags, an unknown department, a file that cannot be opened` + "\n" + envHelp(),
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
				var repFile *os.File
				if report != "" {
					if repFile, err = os.Create(report); err != nil {
						return exitError{code: 2, msg: err.Error()}
					}
					defer repFile.Close()
				}
				var bar *progressbar.ProgressBar
				if !quiet && stderrIsTerminal(cmd) {
					bar = progressbar.NewOptions64(size, progressbar.OptionSetDescription("importing"),
						progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionShowBytes(true),
						progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond),
						progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }))
					in = io.TeeReader(in, bar)
				}
				// Fresh planner statistics after a bulk load (autovacuum may be
				// off, or slower than the load).
				analyzer, _ := st.(interface{ Analyze(context.Context) error })
				var rows reportRows
				sum, err := runImport(ctx, svc, d, format, in, batch, func(line int, field, code, detail, id string) {
					if code == "duplicate" && !reportDuplicates {
						return
					}
					rows = append(rows, reportRow{line: line, field: field, code: code, detail: detail, id: id})
				})
				if bar != nil {
					_ = bar.Finish()
				}
				fileErr := fileProblem(err)
				if fileErr != "" {
					err = nil
				}
				if analyzer != nil && err == nil {
					err = analyzer.Analyze(ctx)
				}
				sort.SliceStable(rows, func(i, j int) bool { return rows[i].line < rows[j].line })
				if repFile != nil {
					if werr := rows.writeCSV(repFile); werr != nil && err == nil {
						err = fmt.Errorf("write the report: %w", werr)
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "imported %d certificates in %s (%.0f/s); %d duplicates skipped; %d rows rejected\n",
					sum.created, sum.elapsed.Round(time.Millisecond), float64(sum.created)/max(sum.elapsed.Seconds(), 1e-9), sum.duplicates, sum.rejected)
				rows.summarise(cmd.ErrOrStderr(), 20, report)
				if fileErr != "" {
					fmt.Fprintln(cmd.ErrOrStderr(), "the file was rejected: "+fileErr)
				}
				if err != nil {
					return err
				}
				if sum.rejected > 0 || fileErr != "" {
					return exitError{code: 1}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&dept, "department", "", "USCC of the issuing department (required)")
	cmd.Flags().StringVar(&format, "format", "", "csv or jsonl (default: from the file name)")
	cmd.Flags().StringVar(&report, "report", "", "write the rejected rows, in line order, to this CSV file")
	cmd.Flags().BoolVar(&reportDuplicates, "report-duplicates", false, "list the rows skipped as already issued in the report too")
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
					reject(line, "", "syntax", plainMessage(err), "")
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
				field, code, detail := issueRefusal(res.Err)
				reject(line, field, code, detail, "")
			}
		}
	}
	err := <-parseErr
	mu.Lock()
	defer mu.Unlock()
	sum.elapsed = time.Since(start)
	return sum, err
}

// reportRow is one line of the import report.
type reportRow struct {
	line                    int
	field, code, detail, id string
}

type reportRows []reportRow

func (rs reportRows) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"line", "field", "code", "detail", "id"})
	for _, r := range rs {
		_ = cw.Write([]string{strconv.Itoa(r.line), r.field, r.code, r.detail, r.id})
	}
	cw.Flush()
	return cw.Error()
}

// summarise prints the rejected rows (duplicates are not rejections) of
// the first n rejected lines to w, and says where to find the rest.
func (rs reportRows) summarise(w io.Writer, n int, report string) {
	lines, last := 0, -1
	for _, r := range rs {
		if r.code == "duplicate" {
			continue
		}
		if r.line != last {
			lines++
			last = r.line
		}
		if lines > n {
			continue
		}
		if r.field != "" {
			fmt.Fprintf(w, "line %d: %s: %s\n", r.line, r.field, r.detail)
		} else {
			fmt.Fprintf(w, "line %d: %s\n", r.line, r.detail)
		}
	}
	switch {
	case lines > n && report != "":
		fmt.Fprintf(w, "… and %d more rejected rows; all of them are in %s\n", lines-n, report)
	case lines > n:
		fmt.Fprintf(w, "… and %d more rejected rows; run again with --report FILE to list them all\n", lines-n)
	}
}

// fileProblem describes, in the user's terms, an error that rejected the
// file as a whole (a wrong header, an empty file, a row too large); "" for
// any other error.
func fileProblem(err error) string {
	if err == nil {
		return ""
	}
	var re *issuer.RowError
	if errors.As(err, &re) {
		parts := make([]string, 0, len(re.Errors))
		for _, fe := range re.Errors {
			if fe.Field != "" {
				parts = append(parts, fe.Field+": "+fe.Detail)
			} else {
				parts = append(parts, fe.Detail)
			}
		}
		return fmt.Sprintf("line %d: %s (expected columns: %s)", re.Line, strings.Join(parts, "; "), strings.Join(issuer.CSVHeader, ","))
	}
	if errors.Is(err, issuer.ErrRowTooLarge) {
		return plainMessage(err)
	}
	return ""
}

// issueRefusal says why a row that parsed could not be issued.
func issueRefusal(err error) (field, code, detail string) {
	switch {
	case errors.Is(err, issuance.ErrUnknownType):
		return "type_code", "unknown", "is not a certificate type in the catalogue"
	case errors.Is(err, issuance.ErrNotAuthorsed):
		return "type_code", "not_authorised", "this department may not issue this certificate type"
	}
	return "", "rejected", "the certificate could not be issued"
}

// plainMessage drops the package prefixes ("issuer: ") from an error for a
// person reading the report.
func plainMessage(err error) string {
	m := err.Error()
	for _, p := range []string{"issuer: ", "issuance: ", "csv: "} {
		m = strings.ReplaceAll(m, p, "")
	}
	return m
}

func stderrIsTerminal(cmd *cobra.Command) bool {
	f, ok := cmd.ErrOrStderr().(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
