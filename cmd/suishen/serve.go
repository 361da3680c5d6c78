package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/suishen/suishen/api"
	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/casework"
	"github.com/suishen/suishen/codeservice"
	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/matching"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/signing"
)

func serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Migrate the database, then serve the API",
		Long: `Run the Suishen API server.

It checks its SM2/SM3/SM4 implementation against known answers, opens the database
(embedded SQLite in SUISHEN_DATA_DIR unless SUISHEN_DATABASE_URL is set), applies
pending migrations, loads the signing keys and serves HTTP on SUISHEN_ADDR until
SIGTERM or Ctrl-C, when in-flight requests get SUISHEN_SHUTDOWN_GRACE to finish.

On the first embedded start it generates an admin token and a master key into the
data directory and prints the admin token once.` + "\n" + envHelp(),
		Args: cobra.NoArgs,
		RunE: runServe,
	}
	addConfigFlags(cmd)
	return cmd
}

func runServe(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	if err := signing.SelfTest(); err != nil {
		return fmt.Errorf("cryptographic self-test failed, refusing to serve: %w", err)
	}
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	// Listen first: a start that cannot serve (a busy port, no permission)
	// fails before it generates or prints any secret.
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return exitError{code: 1, msg: fmt.Sprintf("listen on %s: %v", cfg.Addr, err)}
	}
	defer l.Close()
	var ml net.Listener
	if cfg.MetricsAddr != "" {
		if ml, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return exitError{code: 1, msg: fmt.Sprintf("listen on %s (SUISHEN_METRICS_ADDR): %v", cfg.MetricsAddr, err)}
		}
		defer ml.Close()
	}
	cfg, log, st, err := setupWith(cmd, cfg, os.Stdout, false)
	if err != nil {
		return err
	}
	defer st.Close()

	tp, stopTracing, err := setupTracing(ctx, log, versionString())
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = stopTracing(sctx)
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	ring, err := keyring.Open(ctx, st, cfg.MasterKey, nil, log)
	if err != nil {
		return err
	}
	sealer := &audit.Sealer{Store: st, Log: log, Anchor: ring.CheckpointSigner}
	subjects := principal.NewSubjects(cfg.MasterKey)
	iss := &issuance.Service{Store: st, Keys: ring, Subjects: subjects,
		ShuffleKey: signing.DeriveKey(cfg.MasterKey, "suishen/status-shuffle/v1")}
	if err := iss.Seed(ctx); err != nil {
		return err
	}
	codeSvc := &codeservice.Service{Store: st, Keys: ring, CodeTTL: cfg.CodeTTL,
		SubjectKey: signing.DeriveKey(cfg.MasterKey, "suishen/code-subject/v1"),
		ShuffleKey: signing.DeriveKey(cfg.MasterKey, "suishen/status-shuffle/v1")}
	bm := &matching.Service{Store: st, Type: iss.Type, Log: log, Rematch: cfg.BenefitRematch}
	if err := bm.Seed(ctx); err != nil {
		return err
	}
	cw := &casework.Service{Store: st, Issuance: iss}
	if err := cw.Seed(ctx); err != nil {
		return err
	}
	srv := api.New(api.Deps{
		Cases:    cw,
		Benefits: bm,
		Issuance: iss,
		Codes:    codeSvc,
		Keys:     ring,
		Store:    st,
		Config:   cfg,
		Log:      log,
		Subjects: subjects,
		Admin:    principal.NewAdminMatcher(cfg.AdminToken),
		Registry: reg,
		Version:  versionString(),
		Tracer:   tp,
	})

	log.Info("suishen serving", "addr", l.Addr().String(), "backend", st.Backend(), "version", versionString(), "public_url", cfg.PublicURL)

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); sealer.Run(bg, time.Second) }()
	// 免申即享: the outbox of certificate changes and the full matches run
	// in the background; on start they resume what a restart left.
	bmDone := make(chan struct{})
	go func() { defer close(bmDone); bm.Run(bg) }()
	go ring.Run(bg, 5*time.Second)
	go sweepExpired(bg, st, log, 10*time.Minute)
	// Peer regions' trust data (区域互认): fetched in the background only,
	// never inside a request.
	go srv.Regions().Run(bg, 10*time.Second)
	if ml != nil {
		h := srv.MetricsHandler()
		if cfg.Pprof {
			mux := http.NewServeMux()
			mux.Handle("/", h)
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			h = mux
		}
		// WriteTimeout bounds a metrics scrape; a CPU profile asks for its
		// own duration (?seconds=N, up to 60 here).
		wt := 30 * time.Second
		if cfg.Pprof {
			wt = 70 * time.Second
		}
		ms := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: wt}
		go func() { _ = ms.Serve(ml) }()
		defer ms.Close()
		log.Info("metrics serving", "addr", ml.Addr().String())
	}
	err = srv.Serve(ctx, l)
	stopBG()
	<-done
	<-bmDone
	log.Info("suishen stopped")
	return err
}

// sweeper is what sweepExpired deletes from.
type sweeper interface {
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	DeleteExpiredLoginTickets(ctx context.Context, now time.Time) (int64, error)
}

// sweepExpired deletes expired holder sessions and sign-in tickets every
// interval until ctx ends (every node does it; the deletes are idempotent).
// Expired rows are refused anyway; this only keeps the tables small.
func sweepExpired(ctx context.Context, st sweeper, log interface {
	Warn(msg string, args ...any)
}, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		if _, err := st.DeleteExpiredSessions(ctx, now); err != nil && ctx.Err() == nil {
			log.Warn("sweeping expired sessions failed", "err", err)
		}
		if _, err := st.DeleteExpiredLoginTickets(ctx, now); err != nil && ctx.Err() == nil {
			log.Warn("sweeping expired login tickets failed", "err", err)
		}
	}
}
