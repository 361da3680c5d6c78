package benefits

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// Certificate is what a matcher hands in for one of a holder's certificates:
// only the types the policy reads, only the fields it reads, and only
// certificates whose status is valid (Valid also checks the validity period).
type Certificate struct {
	ID         string
	TypeCode   string
	AreaCode   string
	ValidFrom  time.Time
	ValidUntil *time.Time // nil: long-term
	Fields     map[string]any
}

// Valid reports whether the certificate is within its validity period at now.
func (c Certificate) Valid(now time.Time) bool {
	return !now.Before(c.ValidFrom) && (c.ValidUntil == nil || now.Before(*c.ValidUntil))
}

// Decision is a policy's verdict on one holder.
type Decision struct {
	Eligible bool
	// Evidence lists the certificates that satisfied the criteria, one per
	// type, in criteria order (empty when not eligible).
	Evidence []Evidence
}

// Evidence names a certificate that made a holder eligible.
type Evidence struct {
	CertificateID string `json:"certificate_id" doc:"The certificate read." example:"11100000000021002F0011210000000000001X"`
	TypeCode      string `json:"type_code" doc:"Its type code." example:"11100000000021002F001"`
}

// Evaluate decides whether a holder with these certificates qualifies at
// now. Certificates of other types, outside the policy's areas or outside
// their validity period never count.
func (c *Compiled) Evaluate(certs []Certificate, now time.Time) Decision {
	if !c.Active(now) {
		return Decision{}
	}
	today := dateIn(now)
	var ev []Evidence
	for _, code := range c.types {
		var found *Certificate
		for i := range certs {
			ct := &certs[i]
			if ct.TypeCode != code || !ct.Valid(now) || !c.inArea(ct.AreaCode) {
				continue
			}
			if c.satisfies(code, ct.Fields, today) {
				found = ct
				break
			}
		}
		if found == nil {
			return Decision{}
		}
		ev = append(ev, Evidence{CertificateID: found.ID, TypeCode: code})
	}
	return Decision{Eligible: true, Evidence: ev}
}

func (c *Compiled) inArea(area string) bool {
	if len(c.Policy.AreaCodes) == 0 {
		return true
	}
	for _, a := range c.Policy.AreaCodes {
		if strings.HasPrefix(area, a) {
			return true
		}
	}
	return false
}

func (c *Compiled) satisfies(code string, fields map[string]any, today time.Time) bool {
	for _, r := range c.byType[code] {
		if !r.holds(fields[r.field], today) {
			return false
		}
	}
	return true
}

// dateIn is the calendar date of t in China Standard Time, at midnight UTC
// (so that dates compare and add as calendar dates).
func dateIn(t time.Time) time.Time {
	y, m, d := t.In(CST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (r rule) holds(v any, today time.Time) bool {
	if v == nil {
		return false
	}
	if s, ok := v.(string); ok && s == "" {
		return false
	}
	switch r.op {
	case OpExists:
		return true
	case OpEq:
		switch r.kind {
		case "boolean":
			b, ok := v.(bool)
			return ok && b == r.boolean
		case "integer", "number":
			n, ok := number(v)
			return ok && n == r.num
		default:
			s, ok := v.(string)
			return ok && s == r.str
		}
	case OpIn:
		s, ok := v.(string)
		return ok && r.strs[s]
	case OpGte, OpLte, OpBetween:
		if r.kind == "date" {
			d, ok := date(v)
			if !ok {
				return false
			}
			switch r.op {
			case OpGte:
				return !d.Before(r.date)
			case OpLte:
				return !d.After(r.date)
			}
			return !d.Before(r.dlo) && !d.After(r.dhi)
		}
		n, ok := number(v)
		if !ok {
			return false
		}
		switch r.op {
		case OpGte:
			return n >= r.num
		case OpLte:
			return n <= r.num
		}
		return n >= r.lo && n <= r.hi
	case OpAgeGte, OpYearsSinceGte:
		d, ok := date(v)
		if !ok || d.After(today) {
			return false
		}
		// The anniversary: AddDate normalises 29 February to 1 March in
		// common years.
		return !d.AddDate(r.years, 0, 0).After(today)
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func date(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	return d, err == nil
}

// NextChange is the earliest instant after now, and before until, at which
// Evaluate on the same certificates decides otherwise by the passing of time
// alone: a certificate of the policy's types (in its areas) coming into or
// going out of its validity period, or a holder or an enterprise reaching
// the age an age_gte or years_since_gte rule asks for — at midnight China
// Standard Time of the anniversary, when Evaluate's calendar date turns.
// Such instants that do not change the decision (the expiry of a card that
// qualifies nobody, a birthday short of the age) are passed over. ok is
// false when nothing changes in (now, until). Matching schedules the
// holder's re-evaluation for then, so that a holder who turns 80 is offered
// on the day and one whose card expires is withdrawn on the day, with no
// full rescan and no evaluation that could not change anything.
func (c *Compiled) NextChange(certs []Certificate, now, until time.Time) (next time.Time, ok bool) {
	var cand []time.Time
	consider := func(t time.Time) {
		if t.After(now) && t.Before(until) {
			cand = append(cand, t)
		}
	}
	today := dateIn(now)
	for i := range certs {
		ct := &certs[i]
		rules, reads := c.byType[ct.TypeCode]
		if !reads || !c.inArea(ct.AreaCode) {
			continue
		}
		consider(ct.ValidFrom)
		if ct.ValidUntil != nil {
			consider(*ct.ValidUntil)
		}
		for _, r := range rules {
			if r.op != OpAgeGte && r.op != OpYearsSinceGte {
				continue
			}
			d, isDate := date(ct.Fields[r.field])
			if !isDate {
				continue
			}
			if a := d.AddDate(r.years, 0, 0); a.After(today) {
				consider(time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, CST))
			}
		}
	}
	if len(cand) == 0 {
		return time.Time{}, false
	}
	sort.Slice(cand, func(i, j int) bool { return cand[i].Before(cand[j]) })
	eligible := c.Evaluate(certs, now).Eligible
	for _, t := range cand {
		if c.Evaluate(certs, t).Eligible != eligible {
			return t, true
		}
	}
	return time.Time{}, false
}
