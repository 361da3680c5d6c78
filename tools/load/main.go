// Command load is Suishen's HTTP load generator for docs/performance.md: it
// sends one request shape at a fixed concurrency for a fixed time (or count)
// and reports throughput and latency percentiles. It only ever targets the
// address it is given; use loopback.
//
//	go run ./tools/load -c 64 -d 10s -H "Authorization: Bearer $TOKEN" -m POST \
//	    -body '{}' http://127.0.0.1:8080/v1/me/codes/personal
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	var (
		conc     = flag.Int("c", 32, "concurrent workers")
		dur      = flag.Duration("d", 10*time.Second, "how long to send requests")
		n        = flag.Int("n", 0, "stop after this many requests (0: use -d)")
		method   = flag.String("m", "GET", "HTTP method")
		body     = flag.String("body", "", "request body (JSON); a {{n}} in it is replaced by the request number")
		bodyFile = flag.String("body-file", "", "read the request body from this file")
		bodies   = flag.String("bodies", "", "JSON Lines file of request bodies, sent in turn (e.g. gencerts -format jsonl)")
		expect   = flag.Int("expect", 0, "status every response must have (0: any 2xx)")
		hdrs     headers
	)
	flag.Var(&hdrs, "H", "request header \"Name: value\" (repeatable)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: load [flags] URL\n\nSends requests at a fixed concurrency and reports req/s and latency percentiles.")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	url := flag.Arg(0)
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		*body = string(b)
	}
	var lines []string
	if *bodies != "" {
		b, err := os.ReadFile(*bodies)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			fmt.Fprintln(os.Stderr, "no bodies in", *bodies)
			os.Exit(2)
		}
		*body = lines[0]
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	if *n > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
	}
	defer cancel()

	var seq, bad atomic.Int64
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for ctx.Err() == nil {
				i := seq.Add(1)
				if *n > 0 && i > int64(*n) {
					return
				}
				var rd io.Reader
				if len(lines) > 0 {
					rd = strings.NewReader(lines[(i-1)%int64(len(lines))])
				} else if *body != "" {
					rd = bytes.NewReader([]byte(strings.ReplaceAll(*body, "{{n}}", fmt.Sprint(i))))
				}
				req, _ := http.NewRequestWithContext(ctx, *method, url, rd)
				if *body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				for _, h := range hdrs {
					k, v, _ := strings.Cut(h, ":")
					req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						bad.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				d := time.Since(t0)
				if (*expect != 0 && res.StatusCode != *expect) || (*expect == 0 && res.StatusCode/100 != 2) {
					if bad.Add(1) <= 3 {
						fmt.Fprintf(os.Stderr, "unexpected status %d\n", res.StatusCode)
					}
					continue
				}
				lat[w] = append(lat[w], d)
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[int(float64(len(all)-1)*p)]
	}
	fmt.Printf("requests %d ok, %d failed in %.2fs at concurrency %d\n", len(all), bad.Load(), elapsed.Seconds(), *conc)
	fmt.Printf("throughput %.0f req/s\n", float64(len(all))/elapsed.Seconds())
	fmt.Printf("latency p50 %v  p90 %v  p99 %v  max %v\n", pct(.50).Round(time.Microsecond), pct(.90).Round(time.Microsecond),
		pct(.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	if bad.Load() > 0 {
		os.Exit(1)
	}
}
