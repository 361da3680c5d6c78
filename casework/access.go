package casework

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/verifier"
)

// Refusal reasons: stable machine codes, the `code` of the API's problem and
// the detail of the audit entry and of the holder's usage record.
const (
	// ReasonNotEntitled: the caller may not handle cases of this item (an
	// app without the item in its service_items, a department neither
	// responsible for the item nor listed by it).
	ReasonNotEntitled = "service_item_not_entitled"
	// ReasonNotOpener: a case opened by another principal.
	ReasonNotOpener = "case_not_yours"
	// ReasonApplicantCode: no applicant code, or one that did not verify or
	// is of a kind that does not identify an applicant.
	ReasonApplicantCode = "applicant_code_refused"
	// ReasonApplicantMismatch: the applicant named is not the code's holder.
	ReasonApplicantMismatch = "applicant_mismatch"
	// ReasonRelated: a related party that is not declared by the item, whose
	// code did not verify, or a minor the linking certificate does not tie
	// to the applicant.
	ReasonRelated = "related_party_refused"
	// ReasonUseCode: a use code that is not the applicant's, not for a
	// use-code material of the item, spent or expired.
	ReasonUseCode = "use_code_refused"
)

// MayHandle decides whether p may open, read or decide cases of item it: an
// app with scope cases only for the items in its service_items; a department
// only for items it is responsible for or that list it; the administrator
// reads every case but opens none (the route table keeps it out).
func MayHandle(p principal.Principal, it cases.ServiceItem) bool {
	switch p.Kind {
	case store.KindApp:
		return p.HasScope("cases") && slices.Contains(p.ServiceItems, it.Code)
	case store.KindDepartment:
		return it.AcceptsDepartment(p.USCC)
	case store.KindAdmin:
		return true
	}
	return false
}

// Refusal is one refused attempt to open, read or decide a case.
type Refusal struct {
	Action   string // case.open | case.read | case.decide
	Reason   string // one of the Reason... codes
	Field    string // the request field at fault, if any
	Item     cases.ServiceItem
	CaseID   string
	Holders  []string // subjects of the holders the attempt concerned, where identifiable
	Org      string   // the caller's registered name
	OrgUSCC  string
	OrgUnit  string // the caller's own words for its sub-unit
	Operator string
	Business string
	Purpose  string
	AppID    string
	Actor    audit.Actor
	Request  string
}

// Refuse records a refusal: one audit entry, and one usage record (result
// "refused") for each holder the attempt concerned, so that a holder sees
// who tried to use their data and was turned away. Nothing about the
// holders goes into the audit entry.
func (s *Service) Refuse(ctx context.Context, r Refusal) error {
	at := s.now().UTC().Truncate(time.Microsecond)
	obj, id := "service_item", r.Item.Code
	if r.CaseID != "" {
		obj, id = "case", r.CaseID
	}
	details := map[string]any{"action": r.Action, "reason": r.Reason, "item_code": r.Item.Code}
	if r.Field != "" {
		details["field"] = r.Field
	}
	seen := map[string]bool{}
	return s.Store.InTx(ctx, func(q store.Queries) error {
		for _, h := range r.Holders {
			if h == "" || seen[h] {
				continue
			}
			seen[h] = true
			if err := q.AddUsageRecord(ctx, store.UsageRecord{ID: uuid.Must(uuid.NewV7()).String(), HolderSubject: h, At: at,
				Org: r.Org, OrgUSCC: r.OrgUSCC, OrgUnit: r.OrgUnit, Operator: r.Operator, ItemCode: r.Item.Code, ItemName: r.Item.Name,
				BusinessCode: r.Business, Purpose: r.Purpose, Channel: "case", Result: "refused", AppID: r.AppID, Detail: r.Reason}); err != nil {
				return err
			}
		}
		_, err := q.AppendAudit(ctx, audit.New(at, r.Actor, "case.refused", obj, id, r.Request, details))
		return err
	})
}

// LinkMinor reports whether the minor (by subject) is tied to the applicant
// as relation rel requires: the minor holds a certificate of rel.LinkType
// that verifies (signature, key, status) and names, in one of rel.LinkFields,
// an identity number whose subject is the applicant's.
func (s *Service) LinkMinor(ctx context.Context, rel cases.Relation, applicantSubject, minorSubject string) (bool, error) {
	if !rel.Minor() || minorSubject == "" || minorSubject == applicantSubject {
		return false, nil
	}
	v, err := s.Verifier(ctx)
	if err != nil {
		return false, err
	}
	after := ""
	for {
		page, err := s.Store.ListCertificates(ctx, store.CertificateFilter{HolderSubject: minorSubject}, after, 200)
		if err != nil {
			return false, err
		}
		for _, c := range page {
			if c.TypeCode != rel.LinkType {
				continue
			}
			if v.VerifyCertificate(c.JWS).Result != verifier.Valid {
				continue
			}
			var doc struct {
				Fields map[string]any `json:"fields"`
			}
			if json.Unmarshal(issuance.DocumentOf(c), &doc) != nil {
				continue
			}
			for _, f := range rel.LinkFields {
				if id, ok := doc.Fields[f].(string); ok && id != "" && s.Issuance.Subjects.Of("person", id) == applicantSubject {
					return true, nil
				}
			}
		}
		if len(page) < 200 {
			return false, nil
		}
		after = page[len(page)-1].ID
	}
}

// ErrDecided: the case has its decision already.
var ErrDecided = errors.New("casework: the case is decided already")

// Decide records the opener's decision on a case and whether the pre-check
// verdict agreed with it (for precheck_accuracy), with its audit entry.
func (s *Service) Decide(ctx context.Context, c store.Case, approved bool, notes, by string, actor audit.Actor, requestID string) (store.Case, error) {
	var res cases.Result
	if err := json.Unmarshal(c.Result, &res); err != nil {
		return store.Case{}, err
	}
	d := store.CaseDecision{Decision: "rejected", Notes: notes, DecidedBy: by, DecidedAt: s.now().UTC().Truncate(time.Microsecond),
		PrecheckMatched: res.PrecheckMatches(approved)}
	if approved {
		d.Decision = "approved"
	}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.DecideCase(ctx, c.ID, d); err != nil {
			return err
		}
		_, err := q.AppendAudit(ctx, audit.New(d.DecidedAt, actor, "case.decide", "case", c.ID, requestID,
			map[string]any{"item_code": c.ItemCode, "decision": d.Decision, "precheck_matched": d.PrecheckMatched}))
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return store.Case{}, ErrDecided
	}
	if err != nil {
		return store.Case{}, err
	}
	c.Decision, c.DecisionNotes, c.DecidedBy, c.DecidedAt, c.PrecheckMatched = d.Decision, d.Notes, d.DecidedBy, &d.DecidedAt, d.PrecheckMatched
	return c, nil
}
