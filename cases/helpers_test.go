package cases

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/suishen/suishen/issuer"
)

var cstTest = time.FixedZone("CST", 8*60*60)

// now is a fixed evaluation time: 2025-06-01 10:00 CST.
var now = time.Date(2025, 6, 1, 10, 0, 0, 0, cstTest)

func catalogue() map[string]issuer.CertificateType {
	m := map[string]issuer.CertificateType{}
	for _, t := range issuer.SeedCatalogue() {
		m[t.Code] = t
	}
	return m
}

func typeOf(code string) (issuer.CertificateType, bool) {
	t, ok := catalogue()[code]
	return t, ok
}

func seedItem(code string) ServiceItem {
	for _, it := range SeedItems() {
		if it.Code == code {
			return it
		}
	}
	panic("no seeded item " + code)
}

// faceValue is a distinct value for each face field, so prefill values can
// be traced to their source.
func faceValue(t issuer.CertificateType, f issuer.FieldSpec) any {
	switch f.Type {
	case issuer.FieldDate:
		h := fnv.New32a()
		h.Write([]byte(t.Code + f.Name))
		return time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(h.Sum32()%15000)).Format("2006-01-02")
	case issuer.FieldEnum:
		return f.Values[len(f.Values)-1]
	case issuer.FieldInteger:
		return int64(len(f.Name))
	case issuer.FieldNumber:
		return 1.5
	case issuer.FieldBoolean:
		return true
	}
	return t.Name + "·" + f.Name
}

var serial int

// cand returns a verified, valid, pull-allowed candidate of type code held
// by the applicant, with every face field set; long-term when the type
// allows it, else valid for a year.
func cand(code string) Candidate {
	t, ok := typeOf(code)
	if !ok {
		panic("unknown type " + code)
	}
	serial++
	d := issuer.Document{
		Name: t.Name, Identifier: fmt.Sprintf("ID-%s-%d", t.Name, serial), TypeCode: t.Code, TypeName: t.Name,
		Number: fmt.Sprintf("NO-%d", serial), Version: 1, IssueDate: "2020-01-01", ValidFrom: "2020-01-01",
		Holders:  []issuer.DocumentHolder{{Name: "张三", IDType: issuer.IDTypeCitizenID, IDNumber: "11010519491231002X"}},
		Fields:   map[string]any{},
		IssuedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if t.HolderKind == issuer.HolderEnterprise {
		d.Holders[0] = issuer.DocumentHolder{Name: "上海某某餐饮有限公司", IDType: issuer.IDTypeUSCC, IDNumber: "91350100M000100Y43"}
	}
	if t.LongTerm {
		d.LongTerm = true
	} else {
		setUntil(&d, "2026-06-01")
	}
	for _, f := range t.Fields {
		d.Fields[f.Name] = faceValue(t, f)
	}
	return Candidate{ID: d.Identifier, TypeCode: code, Status: issuer.StatusValid, Verified: true, Document: d,
		HolderIsApplicant: true, PullAllowed: true}
}

func setUntil(d *issuer.Document, s string) {
	d.LongTerm = false
	d.ValidUntil = &s
}

// full returns one good candidate of every type the item lists.
func full(it ServiceItem) []Candidate {
	var out []Candidate
	for _, t := range it.CertificateTypes() {
		out = append(out, cand(t))
	}
	return out
}

func without(cs []Candidate, typeCode string) []Candidate {
	var out []Candidate
	for _, c := range cs {
		if c.TypeCode != typeCode {
			out = append(out, c)
		}
	}
	return out
}

func modify(cs []Candidate, typeCode string, f func(*Candidate)) []Candidate {
	out := append([]Candidate(nil), cs...)
	for i := range out {
		if out[i].TypeCode == typeCode {
			f(&out[i])
		}
	}
	return out
}

func find(c []Candidate, typeCode string) Candidate {
	for _, x := range c {
		if x.TypeCode == typeCode {
			return x
		}
	}
	panic("no candidate " + typeCode)
}

func material(r Result, code string) MaterialResult {
	for _, m := range r.Materials {
		if m.Code == code {
			return m
		}
	}
	panic("no material " + code)
}

func precheckResult(r Result, code string) PrecheckResult {
	for _, p := range r.Prechecks {
		if p.Code == code {
			return p
		}
	}
	panic("no precheck " + code)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
