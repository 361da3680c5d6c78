package benefits

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/issuer"
)

func catalogue() TypeOf {
	types := map[string]issuer.CertificateType{}
	for _, t := range issuer.SeedCatalogue() {
		types[t.Code] = t
	}
	return func(code string) (issuer.CertificateType, bool) { t, ok := types[code]; return t, ok }
}

func raw(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

func compile(t *testing.T, p Policy) *Compiled {
	t.Helper()
	c, errs := Compile(p, catalogue())
	if errs != nil {
		t.Fatalf("compile: %+v", errs)
	}
	return c
}

// at is a moment on a calendar day in China Standard Time.
func at(day string, hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hhmm, CST)
	if err != nil {
		panic(err)
	}
	return t
}

func idCard(id, birth, area string) Certificate {
	return Certificate{ID: id, TypeCode: issuer.TypeResidentIDCard, AreaCode: area, ValidFrom: at("2010-01-01", "00:00"),
		Fields: map[string]any{"birth_date": birth, "name": "张三"}}
}

func TestSeededPoliciesCompile(t *testing.T) {
	for _, sp := range Seed() {
		c := compile(t, sp.Policy)
		if !sp.Policy.Example || len(c.Types()) != 1 || len(c.Describe(catalogue())) < 2 {
			t.Fatalf("%s: %+v", sp.Policy.Code, c.Types())
		}
	}
}

// TestAgeOnTheDay: 80 on the birthday itself (China Standard Time), 79 the
// day before; 29 February birthdays turn on 1 March in common years; a
// birth date in the future never counts.
func TestAgeOnTheDay(t *testing.T) {
	c := compile(t, Seed()[0].Policy) // age_gte 80 in 310117
	cases := []struct {
		birth string
		now   time.Time
		want  bool
	}{
		{"1946-12-01", at("2026-12-01", "00:00"), true},
		{"1946-12-01", at("2026-11-30", "23:59"), false},
		{"1946-12-02", at("2026-12-01", "12:00"), false},
		{"1930-05-05", at("2026-12-01", "12:00"), true},
		// 2026-11-30 16:30 UTC is already 2026-12-01 00:30 in Shanghai.
		{"1946-12-01", time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC), true},
		{"1946-12-01", time.Date(2026, 11, 30, 15, 59, 0, 0, time.UTC), false},
		{"1948-02-29", at("2028-02-29", "08:00"), true},
		{"1948-02-29", at("2028-02-28", "08:00"), false},
		{"1946-02-28", at("2026-02-28", "08:00"), true},
		{"2046-01-01", at("2026-12-01", "08:00"), false}, // a future birth date
		{"not-a-date", at("2026-12-01", "08:00"), false},
	}
	for _, cs := range cases {
		d := c.Evaluate([]Certificate{idCard("c1", cs.birth, "310117")}, cs.now)
		if d.Eligible != cs.want {
			t.Errorf("born %s at %s: eligible %v, want %v", cs.birth, cs.now.In(CST).Format(time.DateTime), d.Eligible, cs.want)
		}
		if d.Eligible && (len(d.Evidence) != 1 || d.Evidence[0].CertificateID != "c1") {
			t.Errorf("evidence %+v", d.Evidence)
		}
	}
	// 29 February in a common year: the 80th birthday is 1 March.
	c2 := compile(t, Policy{Code: "p2", Name: "n", LegalBasis: "b", HolderKind: "person", ValidFrom: "2020-01-01",
		Benefit:  Benefit{Description: "d"},
		Criteria: []Criterion{{CertificateType: issuer.TypeResidentIDCard, Field: "birth_date", Op: OpAgeGte, Value: raw(81)}}})
	if c2.Evaluate([]Certificate{idCard("c", "1944-02-29", "310117")}, at("2025-02-28", "12:00")).Eligible {
		t.Error("81 on 28 February 2025")
	}
	if !c2.Evaluate([]Certificate{idCard("c", "1944-02-29", "310117")}, at("2025-03-01", "00:00")).Eligible {
		t.Error("not 81 on 1 March 2025")
	}
}

func TestAreaValidityAndStatus(t *testing.T) {
	c := compile(t, Seed()[0].Policy)
	now := at("2026-12-01", "10:00")
	if c.Evaluate([]Certificate{idCard("c", "1930-01-01", "310104")}, now).Eligible {
		t.Error("another district qualified")
	}
	expired := idCard("c", "1930-01-01", "310117")
	until := at("2026-11-30", "00:00")
	expired.ValidUntil = &until
	if c.Evaluate([]Certificate{expired}, now).Eligible {
		t.Error("an expired certificate qualified")
	}
	future := idCard("c", "1930-01-01", "310117")
	future.ValidFrom = at("2027-01-01", "00:00")
	if c.Evaluate([]Certificate{future}, now).Eligible {
		t.Error("a not-yet-valid certificate qualified")
	}
	other := idCard("c", "1930-01-01", "310117")
	other.TypeCode = issuer.TypeDrivingLicence
	if c.Evaluate([]Certificate{other}, now).Eligible {
		t.Error("another type qualified")
	}
	// A second, qualifying certificate among others is found.
	if d := c.Evaluate([]Certificate{idCard("a", "1990-01-01", "310117"), idCard("b", "1930-01-01", "310117")}, now); !d.Eligible || d.Evidence[0].CertificateID != "b" {
		t.Errorf("%+v", d)
	}
	// Before the policy starts, or after it ends, nobody qualifies.
	p := Seed()[0].Policy
	end := "2026-06-30"
	p.ValidUntil = &end
	c3 := compile(t, p)
	if c3.Evaluate([]Certificate{idCard("c", "1930-01-01", "310117")}, now).Eligible ||
		!c3.Evaluate([]Certificate{idCard("c", "1930-01-01", "310117")}, at("2026-06-30", "23:59")).Eligible ||
		c3.Evaluate([]Certificate{idCard("c", "1930-01-01", "310117")}, at("2025-12-31", "23:59")).Eligible {
		t.Error("policy period")
	}
	// Area prefixes: "31" is all of Shanghai.
	c4 := compile(t, Seed()[1].Policy)
	dis := Certificate{ID: "d", TypeCode: issuer.TypeDisabilityCard, AreaCode: "310115", ValidFrom: at("2020-01-01", "00:00"),
		Fields: map[string]any{"disability_level": "二级"}}
	if !c4.Evaluate([]Certificate{dis}, now).Eligible {
		t.Error("二级 in 310115 did not qualify for a Shanghai-wide policy")
	}
	dis.Fields["disability_level"] = "三级"
	if c4.Evaluate([]Certificate{dis}, now).Eligible {
		t.Error("三级 qualified")
	}
	dis.Fields["disability_level"] = "一级"
	dis.AreaCode = "320506"
	if c4.Evaluate([]Certificate{dis}, now).Eligible {
		t.Error("a 苏州 card qualified")
	}
}

// TestCriteriaOnOneCertificate: criteria on the same type hold on one
// certificate, and every type named must be covered.
func TestCriteriaOnOneCertificate(t *testing.T) {
	c := compile(t, Policy{Code: "multi", Name: "n", LegalBasis: "b", HolderKind: "person", ValidFrom: "2020-01-01", Benefit: Benefit{Description: "d"},
		Criteria: []Criterion{
			{CertificateType: issuer.TypeDisabilityCard, Field: "disability_category", Op: OpEq, Value: raw("视力残疾")},
			{CertificateType: issuer.TypeDisabilityCard, Field: "disability_level", Op: OpIn, Value: raw([]string{"一级"})},
			{CertificateType: issuer.TypeResidentIDCard, Field: "birth_date", Op: OpBetween, Value: raw([]string{"1950-01-01", "1960-12-31"})},
		}})
	now := at("2026-12-01", "10:00")
	card := func(id, cat, lvl string) Certificate {
		return Certificate{ID: id, TypeCode: issuer.TypeDisabilityCard, AreaCode: "310104", ValidFrom: at("2020-01-01", "00:00"),
			Fields: map[string]any{"disability_category": cat, "disability_level": lvl}}
	}
	id := idCard("i", "1955-06-01", "310104")
	if c.Evaluate([]Certificate{card("a", "视力残疾", "二级"), card("b", "听力残疾", "一级"), id}, now).Eligible {
		t.Error("criteria satisfied by two different cards qualified")
	}
	d := c.Evaluate([]Certificate{card("a", "视力残疾", "二级"), card("b", "视力残疾", "一级"), id}, now)
	if !d.Eligible || len(d.Evidence) != 2 || d.Evidence[0].CertificateID != "b" || d.Evidence[1].CertificateID != "i" {
		t.Errorf("%+v", d)
	}
	if c.Evaluate([]Certificate{card("b", "视力残疾", "一级")}, now).Eligible {
		t.Error("a missing type qualified")
	}
	if c.Evaluate([]Certificate{card("b", "视力残疾", "一级"), idCard("i", "1949-12-31", "310104")}, now).Eligible {
		t.Error("between is inclusive of its bounds only")
	}
	if got := c.Fields(issuer.TypeDisabilityCard); len(got) != 2 {
		t.Errorf("fields read: %v", got)
	}
}

func TestCompileRefuses(t *testing.T) {
	base := func() Policy {
		return Policy{Code: "ok", Name: "n", LegalBasis: "b", HolderKind: "person", ValidFrom: "2026-01-01", Benefit: Benefit{Description: "d"},
			Criteria: []Criterion{{CertificateType: issuer.TypeResidentIDCard, Field: "birth_date", Op: OpAgeGte, Value: raw(80)}}}
	}
	cases := []struct {
		name  string
		edit  func(p *Policy)
		field string
		code  string
	}{
		{"unknown type", func(p *Policy) { p.Criteria[0].CertificateType = "11100000000013338W999" }, "criteria[0].certificate_type", "unknown"},
		{"unknown field", func(p *Policy) { p.Criteria[0].Field = "salary" }, "criteria[0].field", issuer.CodeUnknownField},
		{"age on a string", func(p *Policy) { p.Criteria[0].Field = "address" }, "criteria[0].op", "op_not_for_type"},
		{"gte on an enum", func(p *Policy) { p.Criteria[0].Field, p.Criteria[0].Op = "sex", OpGte }, "criteria[0].op", "op_not_for_type"},
		{"in on a date", func(p *Policy) { p.Criteria[0].Op, p.Criteria[0].Value = OpIn, raw([]string{"x"}) }, "criteria[0].op", "op_not_for_type"},
		{"enum value", func(p *Policy) {
			p.Criteria[0].Field, p.Criteria[0].Op, p.Criteria[0].Value = "sex", OpEq, raw("其他")
		}, "criteria[0].value", issuer.CodeEnum},
		{"years out of range", func(p *Policy) { p.Criteria[0].Value = raw(200) }, "criteria[0].value", issuer.CodeRange},
		{"years not a number", func(p *Policy) { p.Criteria[0].Value = raw("eighty") }, "criteria[0].value", issuer.CodeRange},
		{"bad date", func(p *Policy) { p.Criteria[0].Op, p.Criteria[0].Value = OpGte, raw("2026-13-01") }, "criteria[0].value", issuer.CodeFormat},
		{"between reversed", func(p *Policy) {
			p.Criteria[0].Op, p.Criteria[0].Value = OpBetween, raw([]string{"2000-01-01", "1999-01-01"})
		}, "criteria[0].value", issuer.CodeRange},
		{"exists with a value", func(p *Policy) { p.Criteria[0].Op = OpExists }, "criteria[0].value", issuer.CodeNotAllowed},
		{"unknown op", func(p *Policy) { p.Criteria[0].Op = "like" }, "criteria[0].op", issuer.CodeEnum},
		{"holder kind", func(p *Policy) { p.HolderKind = "enterprise" }, "criteria[0].certificate_type", issuer.CodeKindMismatch},
		{"no criteria", func(p *Policy) { p.Criteria = nil }, "criteria", issuer.CodeRequired},
		{"area code", func(p *Policy) { p.AreaCodes = []string{"3101170"} }, "area_codes[0]", issuer.CodeAreaCode},
		{"period", func(p *Policy) { u := "2025-01-01"; p.ValidUntil = &u }, "valid_until", issuer.CodeRange},
		{"bidi in name", func(p *Policy) { p.Name = "补贴\u202e" }, "name", issuer.CodeCharset},
		{"code", func(p *Policy) { p.Code = "x y" }, "code", issuer.CodeFormat},
		{"legal basis", func(p *Policy) { p.LegalBasis = "" }, "legal_basis", issuer.CodeRequired},
	}
	for _, cs := range cases {
		p := base()
		cs.edit(&p)
		_, errs := Compile(p, catalogue())
		found := false
		for _, e := range errs {
			if e.Field == cs.field && e.Code == cs.code {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want %s %s, got %+v", cs.name, cs.field, cs.code, errs)
		}
	}
	if _, errs := Compile(base(), catalogue()); errs != nil {
		t.Fatalf("the base policy: %+v", errs)
	}
}

func TestDescribe(t *testing.T) {
	words := strings.Join(compile(t, Seed()[0].Policy).Describe(catalogue()), "\n")
	for _, want := range []string{"居民身份证「出生」：年满80周岁", "310117", "有效"} {
		if !strings.Contains(words, want) {
			t.Errorf("description lacks %q:\n%s", want, words)
		}
	}
	words = strings.Join(compile(t, Seed()[1].Policy).Describe(catalogue()), "\n")
	if !strings.Contains(words, "残疾人证「残疾等级」：为「一级」「二级」之一") {
		t.Errorf("%s", words)
	}
}

// FuzzCompile: any policy JSON a department sends compiles or is refused
// with field errors, never panics; a compiled policy evaluates any fields.
func FuzzCompile(f *testing.F) {
	for _, sp := range Seed() {
		b, _ := json.Marshal(sp.Policy)
		f.Add(b, `{"birth_date":"1940-01-01","disability_level":"一级"}`)
	}
	f.Add([]byte(`{"code":"x1","criteria":[{"certificate_type":"`+issuer.TypeResidentIDCard+`","field":"birth_date","op":"between","value":[1,"a"]}]}`), `{"birth_date":5}`)
	typeOf := catalogue()
	f.Fuzz(func(t *testing.T, policy []byte, fields string) {
		var p Policy
		if json.Unmarshal(policy, &p) != nil {
			return
		}
		c, errs := Compile(p, typeOf)
		if c == nil {
			if len(errs) == 0 {
				t.Fatal("refused without a reason")
			}
			return
		}
		var fv map[string]any
		_ = json.Unmarshal([]byte(fields), &fv)
		var certs []Certificate
		for _, code := range c.Types() {
			certs = append(certs, Certificate{ID: "x", TypeCode: code, AreaCode: "310117", ValidFrom: time.Unix(0, 0), Fields: fv})
		}
		_ = c.Evaluate(certs, time.Now())
		_ = c.Describe(typeOf)
	})
}

// TestNextChange: the instant a decision may flip by time alone — the 80th
// birthday at midnight CST (29 February → 1 March in a common year), a
// certificate's expiry or start — and that Evaluate does flip there and
// not a moment before.
func TestNextChange(t *testing.T) {
	c := compile(t, Seed()[0].Policy) // age_gte 80 in 310117
	now := at("2026-12-01", "12:00")
	until := at("2027-03-01", "00:00")
	later := idCard("c", "1940-01-01", "310117")
	later.ValidFrom = at("2026-12-20", "09:30")
	cases := []struct {
		name  string
		certs []Certificate
		want  time.Time // zero: nothing changes
	}{
		{"turns 80 next week", []Certificate{idCard("a", "1946-12-08", "310117")}, at("2026-12-08", "00:00")},
		{"already 80, long-term card", []Certificate{idCard("a", "1940-01-01", "310117")}, time.Time{}},
		{"already 80, card expires", []Certificate{func() Certificate { x := idCard("a", "1940-01-01", "310117"); x.ValidUntil = &until; return x }()}, until},
		{"card not yet valid", []Certificate{later}, at("2026-12-20", "09:30")},
		{"other district", []Certificate{idCard("a", "1946-12-08", "310104")}, time.Time{}},
		{"not a date", []Certificate{idCard("a", "unknown", "310117")}, time.Time{}},
		// Instants that change nothing are passed over: a 60-year-old's
		// card expiring, a 79th birthday.
		{"not eligible, card expires", []Certificate{func() Certificate { x := idCard("a", "1966-01-01", "310117"); x.ValidUntil = &until; return x }()}, time.Time{}},
		{"turns 79 next week", []Certificate{idCard("a", "1947-12-08", "310117")}, time.Time{}},
		// Eligible by two cards: the first one's expiry changes nothing.
		{"two cards", []Certificate{func() Certificate { x := idCard("a", "1940-01-01", "310117"); x.ValidUntil = &until; return x }(), idCard("b", "1940-01-01", "310117")}, time.Time{}},
		// Beyond the window: nothing now (the next full match schedules it).
		{"turns 80 in two years", []Certificate{idCard("a", "1948-12-08", "310117")}, time.Time{}},
	}
	window := now.AddDate(1, 0, 0)
	for _, cs := range cases {
		got, ok := c.NextChange(cs.certs, now, window)
		if ok != !cs.want.IsZero() || (ok && !got.Equal(cs.want)) {
			t.Errorf("%s: next %v %v, want %v", cs.name, got, ok, cs.want)
			continue
		}
		if ok {
			before, after := c.Evaluate(cs.certs, got.Add(-time.Second)), c.Evaluate(cs.certs, got)
			if before.Eligible == after.Eligible {
				t.Errorf("%s: the decision does not change at %v (eligible %v)", cs.name, got, after.Eligible)
			}
		}
	}
	// 80 is a multiple of four: a 29 February birthday turns 80 on 29
	// February (the common-year case, 1 March, is TestAgeOnTheDay's).
	got, _ := c.NextChange([]Certificate{idCard("a", "1948-02-29", "310117")}, at("2027-06-01", "00:00"), at("2029-01-01", "00:00"))
	if !got.Equal(at("2028-02-29", "00:00")) {
		t.Errorf("1948-02-29 from 2027: %v", got)
	}
}
