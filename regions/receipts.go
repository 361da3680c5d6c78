package regions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

// Usage receipts (区域互认, use across regions). When this region uses a
// peer's certificate or code (POST /v1/verify, a venue scan, a case), it
// keeps a receipt for the peer. The peer fetches its receipts from
// GET /v1/regions/usage-receipts?since=ID, asking with a short request
// token its anchor signed (header Suishen-Region-Request); the answer is a
// JWS this region's anchor signed. The peer turns each receipt into a usage
// record of the holder (用证记录) with the region it happened in. Receipts
// name the holder only as the peer knows them: a certificate identifier or
// a code's pseudonymous subject.

// JWS types of the exchange.
const (
	RequestTyp  = "suishen-region-request+jwt"
	ReceiptsTyp = "suishen-usage-receipts+json"
	// RequestHeader carries the request token.
	RequestHeader = "Suishen-Region-Request"
	// MaxRequestLifetime bounds a request token's exp − iat.
	MaxRequestLifetime = 10 * time.Minute
	// MaxReceiptsSize bounds a receipts response.
	MaxReceiptsSize = 4 << 20
	// ReceiptsPage is how many receipts one response carries at most.
	ReceiptsPage = 500
)

// RequestClaims is the payload of a request token: region Iss asks region
// Aud, between IssuedAt and ExpiresAt.
type RequestClaims struct {
	Iss       string    `json:"iss"`
	Aud       string    `json:"aud"`
	IssuedAt  time.Time `json:"iat"`
	ExpiresAt time.Time `json:"exp"`
}

// Receipt is one usage receipt as exchanged.
type Receipt struct {
	ID            string    `json:"id"`
	At            time.Time `json:"at"`
	Org           string    `json:"org"`
	OrgUSCC       string    `json:"org_uscc,omitempty"`
	OrgUnit       string    `json:"org_unit,omitempty"`
	Operator      string    `json:"operator,omitempty"`
	ItemCode      string    `json:"item_code,omitempty"`
	ItemName      string    `json:"item_name,omitempty"`
	BusinessCode  string    `json:"business_code,omitempty"`
	Purpose       string    `json:"purpose,omitempty"`
	CertificateID string    `json:"certificate_id,omitempty"`
	CodeKind      string    `json:"code_kind,omitempty"`
	CodeSubject   string    `json:"code_subject,omitempty"`
	Channel       string    `json:"channel"`
	Result        string    `json:"result"`
}

// Receipts is the payload of a receipts response: region Iss's receipts
// for region Aud after the asked id; Next is the id to ask after for more
// ("" when there are no more).
type Receipts struct {
	Iss      string    `json:"iss"`
	Aud      string    `json:"aud"`
	IssuedAt time.Time `json:"issued_at"`
	Receipts []Receipt `json:"receipts"`
	Next     string    `json:"next,omitempty"`
}

// ReceiptOf is the exchanged form of a stored receipt.
func ReceiptOf(r store.UsageReceipt) Receipt {
	return Receipt{ID: r.ID, At: r.At.UTC(), Org: r.Org, OrgUSCC: r.OrgUSCC, OrgUnit: r.OrgUnit, Operator: r.Operator,
		ItemCode: r.ItemCode, ItemName: r.ItemName, BusinessCode: r.BusinessCode, Purpose: r.Purpose,
		CertificateID: r.CertificateID, CodeKind: r.CodeKind, CodeSubject: r.CodeSubject, Channel: r.Channel, Result: r.Result}
}

// Anchors are the keys a peer's signatures may be made with: its pinned
// anchor and the anchors that its held bundle endorses (an anchor rotation
// of the peer).
func Anchors(r store.Region, now time.Time) (map[string]*signing.PublicKey, error) {
	pinned, err := signing.ParsePublicKeyPEM([]byte(r.AnchorPEM))
	if err != nil {
		return nil, err
	}
	var ends []string
	if r.BundleJWS != "" {
		if b, err := trust.Verify(r.BundleJWS, pinned, now); err == nil || errors.Is(err, trust.ErrExpired) {
			ends = b.Endorsements
		}
	}
	return trust.Anchors(pinned, nil, ends), nil
}

// ErrRequest is a request token that does not authenticate a registered
// peer region.
var ErrRequest = errors.New("regions: the request is not signed by a registered peer region")

// CheckRequest authenticates a request token for region home at now: it
// must be signed by the anchor of the registered region it names as iss,
// be addressed to home and be current. It returns the asking region.
func CheckRequest(ctx context.Context, st store.Store, home, token string, now time.Time) (store.Region, error) {
	cl, err := ParseRequest(token)
	if err != nil {
		return store.Region{}, err
	}
	r, err := st.GetRegion(ctx, cl.Iss)
	if errors.Is(err, store.ErrNotFound) {
		return store.Region{}, ErrRequest
	}
	if err != nil {
		return store.Region{}, err
	}
	keys, err := Anchors(r, now)
	if err != nil {
		return store.Region{}, ErrRequest
	}
	if _, _, err := signing.VerifyJWS(token, func(kid string) (*signing.PublicKey, error) {
		if k := keys[kid]; k != nil {
			return k, nil
		}
		return nil, signing.ErrUnknownKey
	}); err != nil {
		return store.Region{}, ErrRequest
	}
	switch {
	case cl.Aud != home:
		return store.Region{}, fmt.Errorf("%w: addressed to region %q", ErrRequest, cl.Aud)
	case cl.ExpiresAt.Sub(cl.IssuedAt) > MaxRequestLifetime || !cl.ExpiresAt.After(cl.IssuedAt):
		return store.Region{}, fmt.Errorf("%w: lifetime", ErrRequest)
	case now.Before(cl.IssuedAt.Add(-FutureSkew)) || now.After(cl.ExpiresAt):
		return store.Region{}, fmt.Errorf("%w: not current", ErrRequest)
	}
	return r, nil
}

// ParseRequest reads a request token's claims without verifying it (the
// signature is checked against the anchor of the region it names).
func ParseRequest(token string) (RequestClaims, error) {
	var cl RequestClaims
	if len(token) > 4096 {
		return cl, ErrRequest
	}
	hdr, payload, err := signing.ParseJWS(token)
	if err != nil || hdr.Typ != RequestTyp {
		return cl, ErrRequest
	}
	if json.Unmarshal(payload, &cl) != nil || !trust.ValidRegionCode(cl.Iss) {
		return RequestClaims{}, ErrRequest
	}
	return cl, nil
}

// VerifyReceipts checks a receipts response against the peer's anchors
// and reads it.
func VerifyReceipts(jws string, keys map[string]*signing.PublicKey) (Receipts, error) {
	var out Receipts
	hdr, _, err := signing.ParseJWS(jws)
	if err != nil || hdr.Typ != ReceiptsTyp {
		return out, errors.New("not a receipts JWS")
	}
	payload, _, err := signing.VerifyJWS(jws, func(kid string) (*signing.PublicKey, error) {
		if k := keys[kid]; k != nil {
			return k, nil
		}
		return nil, signing.ErrUnknownKey
	})
	if err != nil {
		return out, fmt.Errorf("not signed by the peer's anchor: %w", err)
	}
	if err := json.Unmarshal(payload, &out); err != nil {
		return Receipts{}, err
	}
	if len(out.Receipts) > ReceiptsPage {
		return Receipts{}, errors.New("too many receipts in one response")
	}
	return out, nil
}

// SignReceipts signs a receipts response with this region's anchor.
func SignReceipts(anchor signing.Signer, rs Receipts) (string, error) {
	raw, err := json.Marshal(rs)
	if err != nil {
		return "", err
	}
	return signing.SignJWS(anchor, raw, map[string]any{"typ": ReceiptsTyp})
}

// PullReceipts fetches the receipts peer code keeps for this region since
// the last one taken, verifies them against the peer's anchor and stores
// each as a usage record of its holder (Service.Holder), with the region.
// Receipts whose holder is not known here are skipped. It returns how many
// records it added.
func (s *Service) PullReceipts(ctx context.Context, code string) (int, error) {
	if s.Region == "" || s.Anchor == nil || s.Holder == nil {
		return 0, errors.New("regions: receipts are not configured (Region, Anchor, Holder)")
	}
	r, err := s.Store.GetRegion(ctx, code)
	if err != nil {
		return 0, err
	}
	added := 0
	since := r.ReceiptsSince
	for page := 0; page < 10; page++ {
		rs, err := s.fetchReceipts(ctx, r, since)
		if err != nil {
			return added, err
		}
		for _, rc := range rs.Receipts {
			subject, ok, err := s.Holder(ctx, rc)
			if err != nil {
				return added, err
			}
			if !ok {
				continue
			}
			err = s.Store.AddUsageRecord(ctx, store.UsageRecord{ID: "rr-" + code + "-" + rc.ID, HolderSubject: subject, At: rc.At,
				Org: rc.Org, OrgUSCC: rc.OrgUSCC, OrgUnit: rc.OrgUnit, Operator: rc.Operator, ItemCode: rc.ItemCode, ItemName: rc.ItemName,
				BusinessCode: rc.BusinessCode, Purpose: rc.Purpose, CertificateID: rc.CertificateID, CodeKind: rc.CodeKind,
				Channel: rc.Channel, Result: rc.Result, RegionCode: code})
			if errors.Is(err, store.ErrAlreadyExists) {
				continue // taken before (the cursor was not saved)
			}
			if err != nil {
				return added, err
			}
			added++
		}
		if n := len(rs.Receipts); n > 0 {
			since = rs.Receipts[n-1].ID
			if err := s.Store.SetReceiptsSince(ctx, code, since); err != nil {
				return added, err
			}
		}
		if rs.Next == "" {
			break
		}
	}
	return added, nil
}

func (s *Service) fetchReceipts(ctx context.Context, r store.Region, since string) (Receipts, error) {
	var out Receipts
	now := s.now().UTC().Truncate(time.Second)
	anchor, err := s.Anchor(ctx)
	if err != nil {
		return out, err
	}
	claims, _ := json.Marshal(RequestClaims{Iss: s.Region, Aud: r.Code, IssuedAt: now, ExpiresAt: now.Add(2 * time.Minute)})
	token, err := signing.SignJWS(anchor, claims, map[string]any{"typ": RequestTyp})
	if err != nil {
		return out, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, Base(r.TrustURL)+"/v1/regions/usage-receipts?since="+url.QueryEscape(since), nil)
	if err != nil {
		return out, err
	}
	req.Header.Set(RequestHeader, token)
	res, err := s.client().Do(req)
	if err != nil {
		return out, fmt.Errorf("fetch usage receipts: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxReceiptsSize+1))
	switch {
	case err != nil:
		return out, fmt.Errorf("fetch usage receipts: %w", err)
	case len(body) > MaxReceiptsSize:
		return out, errors.New("fetch usage receipts: response too large")
	case res.StatusCode != http.StatusOK:
		return out, fmt.Errorf("fetch usage receipts: HTTP %d", res.StatusCode)
	}
	keys, err := Anchors(r, s.now())
	if err != nil {
		return out, err
	}
	out, err = VerifyReceipts(strings.TrimSpace(string(body)), keys)
	if err != nil {
		return out, fmt.Errorf("fetch usage receipts: %w", err)
	}
	if out.Iss != r.Code || out.Aud != s.Region {
		return Receipts{}, errors.New("fetch usage receipts: the receipts are of another region or for another region")
	}
	return out, nil
}
