package api

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/verifier"
)

// domainMetrics say what the service did, not only which URLs it served:
// certificates issued and changed, codes issued, verifications by result and
// reason, usage records written, cases opened; plus gauges read at scrape
// time (audit entries awaiting their seal, the trust bundle's age, signing
// keys by role and status). Every label has a small, closed set of values:
// type codes come from the catalogue, reasons from the verifier's codes;
// nothing personal and nothing unbounded (no IDs) is ever a label.
type domainMetrics struct {
	certificates  *prometheus.CounterVec
	codes         *prometheus.CounterVec
	verifications *prometheus.CounterVec
	usage         *prometheus.CounterVec
	cases         *prometheus.CounterVec
}

func (s *Server) registerDomainMetrics(reg *prometheus.Registry) *domainMetrics {
	m := &domainMetrics{
		certificates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "suishen_certificates_total",
			Help: "Certificates issued (action=issue, renewals included) and lifecycle actions (suspend, resume, revoke, cancel) by certificate type.",
		}, []string{"action", "type_code"}),
		codes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "suishen_codes_issued_total", Help: "随申码 codes handed out, by kind (personal, offline, enterprise, venue, presentation).",
		}, []string{"kind"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "suishen_verifications_total",
			Help: "Online verifications (POST /v1/verify, venue scans, check-ins) by channel, result and first reason (none when valid).",
		}, []string{"channel", "result", "reason"}),
		usage: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "suishen_usage_records_total", Help: "Usage records (用证记录) committed, by channel and result.",
		}, []string{"channel", "result"}),
		cases: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "suishen_cases_opened_total", Help: "Cases opened (两个免于提交), by service item and whether every material was exempted.",
		}, []string{"service_item", "outcome"}),
	}
	scrape := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 2*time.Second)
	}
	reg.MustRegister(m.certificates, m.codes, m.verifications, m.usage, m.cases,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "suishen_audit_unsealed_entries", Help: "Audit entries not yet sealed into the hash chain (the sealer runs every second; a growing value means it is stuck).",
		}, func() float64 {
			ctx, cancel := scrape()
			defer cancel()
			n, err := s.store.CountUnsealedAuditBefore(ctx, s.now().Add(time.Hour))
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "suishen_trust_bundle_age_seconds", Help: "Age of the trust bundle this node serves now.",
		}, func() float64 {
			ctx, cancel := scrape()
			defer cancel()
			p, err := s.pub.Current(ctx)
			if err != nil {
				return math.NaN()
			}
			return s.now().Sub(p.Bundle.IssuedAt).Seconds()
		}),
		keyCollector{s: s},
	)
	if s.deps.Issuance != nil && s.deps.Issuance.Observe == nil {
		s.deps.Issuance.Observe = func(action, typeCode string) { m.certificates.WithLabelValues(action, typeCode).Inc() }
	}
	return m
}

func (m *domainMetrics) codeIssued(kind string) { m.codes.WithLabelValues(kind).Inc() }

func (m *domainMetrics) verified(channel string, r verifier.Result) {
	reason := "none"
	if len(r.Reasons) > 0 {
		reason = r.Reasons[0].Code
	}
	m.verifications.WithLabelValues(channel, string(r.Result), reason).Inc()
}

func (m *domainMetrics) usageWritten(r store.UsageRecord) {
	m.usage.WithLabelValues(r.Channel, r.Result).Inc()
}

func (m *domainMetrics) caseOpened(item string, allExempted bool) {
	outcome := "partly_exempted"
	if allExempted {
		outcome = "all_exempted"
	}
	m.cases.WithLabelValues(item, outcome).Inc()
}

// keyCollector reports the signing keys at scrape time: how many of each
// role are in each status, and the age of the oldest active key of a role
// (rotation overdue shows as a growing age).
type keyCollector struct{ s *Server }

var (
	keysDesc = prometheus.NewDesc("suishen_signing_keys", "Signing keys by role (anchor, code, department) and status (active, retired, compromised).",
		[]string{"role", "status"}, nil)
	keyAgeDesc = prometheus.NewDesc("suishen_signing_key_active_age_seconds", "Age of the oldest active signing key of each role.",
		[]string{"role"}, nil)
)

func (k keyCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- keysDesc
	ch <- keyAgeDesc
}

func (k keyCollector) Collect(ch chan<- prometheus.Metric) {
	if k.s.deps.Keys == nil {
		return
	}
	now := k.s.now()
	counts := map[[2]string]int{}
	oldest := map[string]time.Time{}
	for _, key := range k.s.deps.Keys.Keys() {
		role, status := string(key.Role), string(key.Status)
		counts[[2]string{role, status}]++
		if key.Status == store.KeyActive {
			if t, ok := oldest[role]; !ok || key.CreatedAt.Before(t) {
				oldest[role] = key.CreatedAt
			}
		}
	}
	for rs, n := range counts {
		ch <- prometheus.MustNewConstMetric(keysDesc, prometheus.GaugeValue, float64(n), rs[0], rs[1])
	}
	for role, t := range oldest {
		ch <- prometheus.MustNewConstMetric(keyAgeDesc, prometheus.GaugeValue, now.Sub(t).Seconds(), role)
	}
}
