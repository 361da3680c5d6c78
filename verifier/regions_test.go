package verifier

import (
	"time"

	"testing"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
)

// peerOf endorses region p (its fixture's anchor) in home's bundle.
func peerOf(home, p *fixture, code, name string) {
	jwk := signing.NewJWK(p.anchor.Public())
	jwk.Kid = signing.Thumbprint(p.anchor.Public())
	home.bundle.Peers = append(home.bundle.Peers, trust.Peer{Code: code, Name: name, Anchor: jwk, TrustURL: "https://" + code + ".example.gov.cn/v1/trust"})
}

func TestFederate(t *testing.T) {
	home, suzhou, jiaxing := newFixture(t), newFixture(t), newFixture(t)
	home.bundle.Region = &trust.Region{Code: "310000", Name: "上海市"}
	suzhou.bundle.Region = &trust.Region{Code: "320500", Name: "苏州市"}
	jiaxing.bundle.Region = &trust.Region{Code: "330400", Name: "嘉兴市"}
	peerOf(home, suzhou, "320500", "苏州市")
	peerOf(suzhou, jiaxing, "330400", "嘉兴市") // 苏州 endorses 嘉兴; the home region does not
	inArea := func(r *issuer.IssueRequest) { r.AreaCode = "320506" }
	fed, errs := home.verifier().Federate([]PeerBundle{
		{Code: "320500", JWS: suzhou.jws(), Lists: suzhou.held},
		{Code: "330400", JWS: jiaxing.jws(), Lists: jiaxing.held}, // not endorsed: ignored
	})
	if len(errs) != 0 || len(fed.Peers()) != 1 {
		t.Fatalf("peers %v, errors %v", fed.Peers(), errs)
	}

	// A peer's certificate of its own area, and its code: valid, with region.
	r := fed.VerifyCertificate(suzhou.certificate(idxGood, inArea))
	want(t, r, Valid, "")
	if r.Region == nil || *r.Region != (trust.Region{Code: "320500", Name: "苏州市"}) {
		t.Fatalf("region %+v", r.Region)
	}
	if r := fed.VerifyCode(suzhou.issue(codes.Personal)); r.Result != Valid || r.Region == nil || r.Region.Code != "320500" {
		t.Fatalf("peer code: %+v", r)
	}
	// Its status lists count: revoked is invalid.
	want(t, fed.VerifyCertificate(suzhou.certificate(idxRevoked, inArea)), Invalid, ReasonRevoked)
	// A home certificate names the home region.
	if r := fed.VerifyCertificate(home.certificate(idxGood)); r.Result != Valid || r.Region == nil || r.Region.Code != "310000" {
		t.Fatalf("home certificate: %+v", r)
	}
	// A peer key cannot sign for the home area, nor a third region's.
	want(t, fed.VerifyCertificate(suzhou.certificate(idxGood)), Invalid, ReasonKeyNotTrustedForRegion) // area 310104
	want(t, fed.VerifyCertificate(suzhou.certificate(idxGood, func(r *issuer.IssueRequest) { r.AreaCode = "330402" })), Invalid, ReasonKeyNotTrustedForRegion)
	// No transitive trust: 嘉兴's certificate is unknown here.
	want(t, fed.VerifyCertificate(jiaxing.certificate(idxGood, func(r *issuer.IssueRequest) { r.AreaCode = "330402" })), Unknown, ReasonUnknownKey)

	// A peer bundle signed by another anchor than the endorsed one is left out.
	impostor := newFixture(t)
	impostor.bundle.Keys = suzhou.bundle.Keys[1:] // 苏州's code and department keys, under another anchor
	impostor.bundle.Keys = append([]trust.Key{trustKey(impostor.anchor, trust.RoleAnchor)}, impostor.bundle.Keys...)
	fed, errs = home.verifier().Federate([]PeerBundle{{Code: "320500", JWS: impostor.jws(), Lists: impostor.held}})
	if errs["320500"] == nil || len(fed.Peers()) != 0 {
		t.Fatalf("impostor bundle taken: %v", errs)
	}
	want(t, fed.VerifyCertificate(suzhou.certificate(idxGood, inArea)), Unknown, ReasonUnknownKey)

	// A bundle of another region, endorsed as 苏州's, is left out.
	fed, errs = home.verifier().Federate([]PeerBundle{{Code: "320500", JWS: func() string {
		suzhou.bundle.Region = &trust.Region{Code: "320600", Name: "南通市"}
		defer func() { suzhou.bundle.Region = &trust.Region{Code: "320500", Name: "苏州市"} }()
		return suzhou.jws()
	}()}})
	if errs["320500"] == nil || len(fed.Peers()) != 0 {
		t.Fatalf("a bundle of another region taken: %v", errs)
	}

	// An expired peer bundle: the peer's answers are unknown, never valid.
	suzhou.bundle.ExpiresAt = testNow.Add(-time.Second)
	fed, _ = home.verifier().Federate([]PeerBundle{{Code: "320500", JWS: suzhou.jws(), Lists: suzhou.held}})
	r = fed.VerifyCertificate(suzhou.certificate(idxGood, inArea))
	want(t, r, Unknown, ReasonBundleExpired)
	if r.Region == nil || r.Region.Code != "320500" {
		t.Fatalf("expired peer: region %+v", r.Region)
	}
}
