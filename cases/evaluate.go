package cases

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/suishen/suishen/issuer"
)

// Material statuses (MaterialResult.Status).
const (
	StatusExempted = "exempted"  // 免于提交: the certificate is attached, its data used
	StatusVerified = "verified"  // 免于提交 by a yes/no match: the certificate is attached, no data moved
	StatusToSubmit = "to_submit" // the applicant must submit it
)

// Candidate is one of the applicant's certificates the caller found for the
// item, with what the caller checked. Only candidates of types the item's
// materials list are ever used; the rest are ignored.
type Candidate struct {
	ID       string        `json:"id"`        // 证照标识
	TypeCode string        `json:"type_code"` // "" means Document.TypeCode
	Status   issuer.Status `json:"status"`    // effective status (issuer.EffectiveStatus) at evaluation time
	// Verified: the caller checked the signature and the status; Reason
	// says why not when false.
	Verified          bool            `json:"verified"`
	Reason            string          `json:"reason,omitempty"`
	Document          issuer.Document `json:"document"`
	HolderIsApplicant bool            `json:"holder_is_applicant"`
	// PullAllowed is the caller's decision: true for an ex officio
	// material, for a grant-mode one only with the holder's grant, for a
	// use-code one only with a redeemed 用证码.
	PullAllowed bool `json:"pull_allowed"`
	// Region is the peer region (区域互认) of a certificate the applicant
	// handed over; "" for this region's.
	Region string `json:"region,omitempty"`
}

// MaterialResult is the outcome for one material.
type MaterialResult struct {
	Code          string `json:"code"`
	Name          string `json:"name"`
	Status        string `json:"status"` // exempted | verified | to_submit
	CertificateID string `json:"certificate_id,omitempty"`
	Reason        string `json:"reason"`
	// Region is the peer region of the attached certificate (区域互认).
	Region string `json:"region,omitempty"`
}

// PrecheckResult is the outcome of one pre-check.
type PrecheckResult struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Reason string `json:"reason"`
}

// Result is Evaluate's outcome for one application. Exempted counts the
// exempted and the verified materials; Total is the number of materials.
// Pulled lists, once each and in order of first use, the certificates the
// case used: attached to a material (data moved or matched) or read for
// the pre-fill — one usage record each.
type Result struct {
	Materials      []MaterialResult `json:"materials"`
	Prefill        map[string]any   `json:"prefill"`
	Prechecks      []PrecheckResult `json:"precheck"`
	Exempted       int              `json:"exempted"`
	Total          int              `json:"total"`
	PrefillFilled  int              `json:"prefill_filled"`
	PrefillTotal   int              `json:"prefill_total"`
	PrecheckPassed int              `json:"precheck_passed"`
	PrecheckTotal  int              `json:"precheck_total"`
	Pulled         []string         `json:"pulled"`
}

var cst = time.FixedZone("CST", 8*60*60)

// typeNames names the seeded types for reasons; other types are named by a
// candidate's document, or by their code.
var typeNames = func() map[string]string {
	m := map[string]string{}
	for _, t := range issuer.SeedCatalogue() {
		m[t.Code] = t.Name
	}
	return m
}()

func (c *Candidate) typeCode() string {
	if c.TypeCode != "" {
		return c.TypeCode
	}
	return c.Document.TypeCode
}

// usable: verified, in force, and not past its validity at now.
func (c *Candidate) usable(now time.Time) bool {
	if !c.Verified || c.Status != issuer.StatusValid {
		return false
	}
	if c.Document.LongTerm {
		return true
	}
	if c.Document.ValidUntil == nil {
		return false
	}
	vu, err := issuer.ParseDate(*c.Document.ValidUntil)
	return err == nil && !issuer.Expired(&vu, now)
}

// better orders candidates: usable first, then (when pull matters) pull
// allowed, then the applicant's own, then the latest issued, highest
// version, and by identifier for a stable choice.
func better(a, b *Candidate, now time.Time, pullMatters bool) bool {
	if ua, ub := a.usable(now), b.usable(now); ua != ub {
		return ua
	}
	if a.Verified != b.Verified {
		return a.Verified
	}
	if pullMatters && a.PullAllowed != b.PullAllowed {
		return a.PullAllowed
	}
	if a.HolderIsApplicant != b.HolderIsApplicant {
		return a.HolderIsApplicant
	}
	if !a.Document.IssuedAt.Equal(b.Document.IssuedAt) {
		return a.Document.IssuedAt.After(b.Document.IssuedAt)
	}
	if a.Document.Version != b.Document.Version {
		return a.Document.Version > b.Document.Version
	}
	return a.ID < b.ID
}

// ofTypes returns the candidates whose type is in types, best first.
func ofTypes(cands []Candidate, types []string, now time.Time, pullMatters bool) []*Candidate {
	var out []*Candidate
	for i := range cands {
		tc := cands[i].typeCode()
		for _, t := range types {
			if t == tc {
				out = append(out, &cands[i])
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return better(out[i], out[j], now, pullMatters) })
	return out
}

func typesName(types []string, cands []*Candidate) string {
	names := make([]string, 0, len(types))
	for _, t := range types {
		n := typeNames[t]
		if n == "" {
			for _, c := range cands {
				if c.typeCode() == t && c.Document.TypeName != "" {
					n = c.Document.TypeName
					break
				}
			}
		}
		if n == "" {
			n = t
		}
		names = append(names, n)
	}
	return strings.Join(names, " / ")
}

// unusableReason says why the best candidate cannot be used.
func unusableReason(c *Candidate, now time.Time) string {
	name := c.Document.TypeName
	if name == "" {
		name = typeNames[c.typeCode()]
	}
	if !c.Verified {
		r := c.Reason
		if r == "" {
			r = "signature or status not checked"
		}
		return fmt.Sprintf("the %s could not be verified (%s) — submit it", name, r)
	}
	switch c.Status {
	case issuer.StatusRevoked:
		return fmt.Sprintf("certificate revoked (%s 已吊销/撤销) — submit a valid one", name)
	case issuer.StatusSuspended:
		return fmt.Sprintf("certificate suspended (%s 已暂扣)", name)
	case issuer.StatusCancelled:
		return fmt.Sprintf("certificate cancelled (%s 已注销)", name)
	case issuer.StatusSuperseded:
		return fmt.Sprintf("certificate superseded by a newer version (%s 已换发), which was not found", name)
	case issuer.StatusExpired:
		return fmt.Sprintf("certificate expired (%s 已过有效期)", name)
	case issuer.StatusValid:
		if c.usable(now) {
			return ""
		}
		return fmt.Sprintf("certificate expired or its validity unreadable (%s)", name)
	}
	return fmt.Sprintf("certificate status %q is not in force (%s)", string(c.Status), name)
}

// Evaluate decides, for one application of item it, what each material
// needs, pre-fills the form and runs the pre-checks, from the applicant's
// candidates at now. It never uses a candidate of a type the item does not
// list, never moves data of a verify-only material into the pre-fill, and
// never exempts with an unverified or not-in-force certificate.
//
// For each material the best candidate of its types is picked (usable, pull
// allowed, held by the applicant, latest). The material is
//   - exempted if that candidate is usable, its pull allowed and the
//     material not verify-only;
//   - verified if the material is verify-only and the candidate is usable
//     with its pull allowed (a grant-mode match needs the grant too);
//   - to_submit otherwise, with the reason.
//
// Pre-fill: each rule takes the certificate attached to a material that is
// not verify-only and lists the rule's type; failing that, the best usable,
// pull-allowed candidate of that type (which then counts as pulled). A rule
// whose type only verify-only materials list is never filled.
func Evaluate(it ServiceItem, candidates []Candidate, now time.Time) Result {
	r := Result{
		Materials:     make([]MaterialResult, 0, len(it.Materials)),
		Prefill:       map[string]any{},
		Prechecks:     make([]PrecheckResult, 0, len(it.Prechecks)),
		Total:         len(it.Materials),
		PrefillTotal:  len(it.Form()),
		PrecheckTotal: len(it.Prechecks),
		Pulled:        []string{},
	}
	pulled := map[string]bool{}
	pull := func(c *Candidate) {
		if !pulled[c.ID] {
			pulled[c.ID] = true
			r.Pulled = append(r.Pulled, c.ID)
		}
	}
	// attached[type] = the candidate attached to a material that is not
	// verify-only; attachedAll lists every attached candidate.
	attached := map[string]*Candidate{}
	var attachedAll []*Candidate
	movable := map[string]bool{}

	for _, m := range it.Materials {
		mr := MaterialResult{Code: m.Code, Name: m.Name, Status: StatusToSubmit}
		if !m.VerifyOnly {
			for _, t := range m.CertificateTypes {
				movable[t] = true
			}
		}
		if len(m.CertificateTypes) == 0 {
			mr.Reason = "no certificate covers this material — submit it (无对应电子证照，需提交)"
			r.Materials = append(r.Materials, mr)
			continue
		}
		cands := ofTypes(candidates, m.CertificateTypes, now, true)
		switch {
		case len(cands) == 0:
			mr.Reason = fmt.Sprintf("no valid %s found for the applicant — submit it", typesName(m.CertificateTypes, cands))
		case !cands[0].usable(now):
			mr.Reason = unusableReason(cands[0], now)
		case !cands[0].PullAllowed:
			switch m.Pull {
			case PullUseCode:
				mr.Reason = "needs the holder's 用证码 (use code) — present it, or submit the material"
			case PullGrant:
				mr.Reason = "needs the holder's grant (授权) — grant it, or submit the material"
			default:
				mr.Reason = "the pull was not allowed for this case — submit the material"
			}
		default:
			c := cands[0]
			mr.CertificateID, mr.Region = c.ID, c.Region
			if m.VerifyOnly {
				mr.Status = StatusVerified
				mr.Reason = fmt.Sprintf("verified by a match against %s (核验通过，免于提交; no data moved)", c.Document.TypeName)
			} else {
				mr.Status = StatusExempted
				mr.Reason = fmt.Sprintf("%s attached (免于提交)", c.Document.TypeName)
				if _, ok := attached[c.typeCode()]; !ok {
					attached[c.typeCode()] = c
				}
			}
			attachedAll = append(attachedAll, c)
			pull(c)
			r.Exempted++
		}
		r.Materials = append(r.Materials, mr)
	}

	for _, rule := range it.Prefill {
		if !movable[rule.CertificateType] {
			continue // not listed, or listed by verify-only materials only
		}
		if !it.hasFormField(rule.FormField) {
			continue // the pre-fill holds nothing but the item's form
		}
		c := attached[rule.CertificateType]
		if c == nil {
			// Ranked usable first, then pull allowed: the first decides.
			l := ofTypes(candidates, []string{rule.CertificateType}, now, true)
			if len(l) > 0 && l[0].usable(now) && l[0].PullAllowed {
				c = l[0]
			}
		}
		if c == nil {
			continue
		}
		v, ok := source(c, rule.Source)
		if !ok {
			continue
		}
		r.Prefill[rule.FormField] = v
		r.PrefillFilled++
		pull(c)
	}

	for _, pc := range it.Prechecks {
		res := precheck(it, pc, candidates, attachedAll, now)
		if res.Passed {
			r.PrecheckPassed++
		}
		r.Prechecks = append(r.Prechecks, res)
	}
	return r
}

// source reads a prefill source from a candidate's document; false when the
// document does not carry it.
func source(c *Candidate, src string) (any, bool) {
	d := &c.Document
	var v any
	switch src {
	case SourceHolderName:
		if len(d.Holders) > 0 {
			v = d.Holders[0].Name
		}
	case SourceHolderIDNumber:
		if len(d.Holders) > 0 {
			v = d.Holders[0].IDNumber
		}
	case SourceNumber:
		v = d.Number
	case SourceIdentifier:
		v = d.Identifier
	case SourceValidFrom:
		v = d.ValidFrom
	case SourceValidUntil:
		switch {
		case d.LongTerm:
			v = "长期"
		case d.ValidUntil != nil:
			v = *d.ValidUntil
		}
	default:
		v = d.Fields[src]
	}
	if v == nil {
		return nil, false
	}
	if s, ok := v.(string); ok && s == "" {
		return nil, false
	}
	return v, true
}

func precheck(it ServiceItem, pc Precheck, cands []Candidate, attached []*Candidate, now time.Time) PrecheckResult {
	res := PrecheckResult{Code: pc.Code, Name: pc.Name}
	if pc.Kind != KindHolderIsApplicant && !it.ListsType(pc.CertificateType) {
		res.Reason = "the certificate type is not listed by the item"
		return res
	}
	switch pc.Kind {
	case KindValidForDays:
		name := typesName([]string{pc.CertificateType}, nil)
		list := ofTypes(cands, []string{pc.CertificateType}, now, false)
		if len(list) == 0 || !list[0].usable(now) {
			if len(list) == 0 {
				res.Reason = fmt.Sprintf("no valid %s found", name)
			} else {
				res.Reason = unusableReason(list[0], now)
			}
			return res
		}
		// The calendar day (CST) that must still be covered.
		y, m, d := now.In(cst).Date()
		need := time.Date(y, m, d, 0, 0, 0, 0, cst).AddDate(0, 0, pc.Days)
		var latest string
		for _, c := range list {
			if !c.usable(now) {
				continue
			}
			if c.Document.LongTerm {
				res.Passed, res.Reason = true, fmt.Sprintf("%s is long-term (长期有效)", name)
				return res
			}
			vu, _ := issuer.ParseDate(*c.Document.ValidUntil) // usable: parses
			if !vu.Before(need) {
				res.Passed = true
				res.Reason = fmt.Sprintf("%s valid until %s, at least %d more days", name, *c.Document.ValidUntil, pc.Days)
				return res
			}
			if *c.Document.ValidUntil > latest {
				latest = *c.Document.ValidUntil
			}
		}
		res.Reason = fmt.Sprintf("%s valid only until %s: fewer than %d more days — renew it first", name, latest, pc.Days)
	case KindNotRevoked:
		name := typesName([]string{pc.CertificateType}, nil)
		list := ofTypes(cands, []string{pc.CertificateType}, now, false)
		switch {
		case len(list) == 0:
			res.Reason = fmt.Sprintf("no %s found", name)
		case list[0].usable(now):
			res.Passed, res.Reason = true, fmt.Sprintf("%s in force (有效)", name)
		default:
			res.Reason = unusableReason(list[0], now)
		}
	case KindHolderIsApplicant:
		n := 0
		for _, c := range attached {
			if pc.CertificateType != "" && c.typeCode() != pc.CertificateType {
				continue
			}
			n++
			if !c.HolderIsApplicant {
				res.Reason = fmt.Sprintf("the holder of the attached %s is not the applicant", c.Document.TypeName)
				return res
			}
		}
		if n == 0 {
			res.Reason = "no certificate attached to check"
			return res
		}
		res.Passed, res.Reason = true, "every attached certificate is held by the applicant"
	default:
		res.Reason = fmt.Sprintf("unknown precheck kind %q", pc.Kind)
	}
	return res
}
