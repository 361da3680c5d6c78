package api

import (
	"context"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/verifier"
)

// codeCheck is one online verification of a 随申码 code: the verifier's
// result on this node's current bundle, and the holder the code names.
type codeCheck struct {
	Result verifier.Result
	// Holder is the code's holder, known whenever the signature verified
	// under a key of the bundle — also for a code that is expired, revoked
	// or signed by a key since reported compromised, so that such uses can
	// be recorded for the holder. A forged or foreign code names nobody.
	Holder     store.Holder
	Identified bool
}

// codeVerifier is what verifies online: a verifier.Federation (this
// node's bundle and its peer regions') or a bare verifier.Verifier.
type codeVerifier interface {
	VerifyCode(text string) verifier.Result
	VerifyCodeOf(text string, kinds ...codes.Kind) verifier.Result
	VerifyCertificate(jws string) verifier.Result
}

// homeResult reports whether r was verified under this region's own keys
// (not a peer region's).
func (s *Server) homeResult(r verifier.Result) bool {
	return r.Region == nil || r.Region.Code == s.cfg.RegionCode
}

// checkCode is the one online verification path for a holder's code: POST
// /v1/verify and POST /v1/cases (the applicant's and related parties'
// codes) both use it, so a code refused by one is refused by the other for
// the same reasons.
func (s *Server) checkCode(ctx context.Context, v codeVerifier, text string) codeCheck {
	out := codeCheck{Result: v.VerifyCode(text)}
	if out.Result.KeyID == "" || !authentic(out.Result) || out.Result.Kind == "venue" {
		return out // the signature did not verify under a trusted key, or a venue's code
	}
	if !s.homeResult(out.Result) {
		return out // a peer region's code: its holder is not known here
	}
	p, err := codes.Parse(text)
	if err == nil && p.Kind == codes.Copy {
		s.copyWithdrawn(ctx, &out.Result, p)
	}
	if err != nil || len(p.Subject) == 0 {
		return out
	}
	if h, err := s.deps.Codes.HolderOf(ctx, p.Subject); err == nil {
		out.Holder, out.Identified = h, true
	}
	return out
}

// copyWithdrawn makes a copy code its holder withdrew invalid, saying so
// (verifier.ReasonWithdrawn): the status list says only revoked, and this
// node may not have published the change yet. A copy without its own
// status entry is never withdrawn.
func (s *Server) copyWithdrawn(ctx context.Context, r *verifier.Result, p *codes.Code) {
	cp, err := s.store.GetCopyByStatus(ctx, p.StatusList, int64(p.StatusIndex))
	if err != nil || cp.WithdrawnAt == nil || cp.CertificateID != p.CertificateID || r.HasReason(verifier.ReasonWithdrawn) {
		return
	}
	r.Result = verifier.Invalid
	r.Reasons = append(r.Reasons, verifier.Reason{Code: verifier.ReasonWithdrawn,
		Detail: "the holder withdrew this copy at " + cp.WithdrawnAt.UTC().Format(time.RFC3339)})
}
