package benefits

import (
	"encoding/json"
	"strings"
)

// Describe states each criterion in words (Chinese), for the public page of
// a policy: what it reads and what it requires, e.g.
// "居民身份证「出生」：年满80周岁".
func (c *Compiled) Describe(typeOf TypeOf) []string {
	out := make([]string, 0, len(c.Policy.Criteria))
	for _, cr := range c.Policy.Criteria {
		t, _ := typeOf(cr.CertificateType)
		label := cr.Field
		for _, f := range t.Fields {
			if f.Name == cr.Field {
				label = f.Label
			}
		}
		out = append(out, t.Name+"「"+label+"」："+requirement(cr))
	}
	if len(c.Policy.AreaCodes) > 0 {
		out = append(out, "证照颁发地区："+strings.Join(c.Policy.AreaCodes, "、"))
	}
	out = append(out, "证照须在有效期内且状态有效")
	return out
}

func requirement(cr Criterion) string {
	var s string
	var n int
	var list []string
	var pair []any
	switch cr.Op {
	case OpExists:
		return "有记载"
	case OpEq:
		if json.Unmarshal(cr.Value, &s) == nil {
			return "为「" + s + "」"
		}
		return "等于 " + string(cr.Value)
	case OpIn:
		_ = json.Unmarshal(cr.Value, &list)
		return "为「" + strings.Join(list, "」「") + "」之一"
	case OpGte:
		return "不低于 " + unquote(cr.Value)
	case OpLte:
		return "不高于 " + unquote(cr.Value)
	case OpBetween:
		_ = json.Unmarshal(cr.Value, &pair)
		if len(pair) == 2 {
			b0, _ := json.Marshal(pair[0])
			b1, _ := json.Marshal(pair[1])
			return "在 " + unquote(b0) + " 至 " + unquote(b1) + " 之间"
		}
	case OpAgeGte:
		_ = json.Unmarshal(cr.Value, &n)
		return "年满" + itoa(n) + "周岁"
	case OpYearsSinceGte:
		_ = json.Unmarshal(cr.Value, &n)
		return "距今满" + itoa(n) + "年"
	}
	return cr.Op
}

func unquote(raw []byte) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
