package benefits

import (
	"encoding/json"

	"github.com/suishen/suishen/issuer"
)

// Seed returns the example policies seeded on first start, one per kind of
// evidence: an age from a 居民身份证, a disability level from a 残疾人证, a
// birth from a 出生医学证明. They are marked Example: their amounts and legal
// wording are illustrations, not the city's actual rules, and an operator
// replaces them with real policies.
func Seed() []SeededPolicy {
	s := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	return []SeededPolicy{
		{DepartmentUSCC: SeedDepartmentCivilAffairs, Policy: Policy{
			Code: "EX-GAOLING-310117", Name: "高龄老人营养补贴（示例）",
			LegalBasis: "《上海市老年人权益保障条例》；本市高龄老人营养补贴政策（示例，金额与口径以正式文件为准）",
			HolderKind: issuer.HolderPerson, AreaCodes: []string{"310117"},
			Criteria:  []Criterion{{CertificateType: issuer.TypeResidentIDCard, Field: "birth_date", Op: OpAgeGte, Value: s(80)}},
			Benefit:   Benefit{Description: "年满80周岁的户籍老人按月发放营养补贴，无需申请", Amount: "每月75元起"},
			ValidFrom: "2026-01-01", Example: true,
		}},
		{DepartmentUSCC: SeedDepartmentCivilAffairs, Policy: Policy{
			Code: "EX-ZHONGCAN-31", Name: "重度残疾人护理补贴（示例）",
			LegalBasis: "《残疾人保障法》第四十八条；困难残疾人生活补贴和重度残疾人护理补贴制度（示例）",
			HolderKind: issuer.HolderPerson, AreaCodes: []string{"31"},
			Criteria:  []Criterion{{CertificateType: issuer.TypeDisabilityCard, Field: "disability_level", Op: OpIn, Value: s([]string{"一级", "二级"})}},
			Benefit:   Benefit{Description: "残疾等级为一级、二级的重度残疾人按月发放护理补贴，无需申请", Amount: "每月按标准发放"},
			ValidFrom: "2026-01-01", Example: true,
		}},
		{DepartmentUSCC: SeedDepartmentHealth, Policy: Policy{
			Code: "EX-XINSHENGER-310104", Name: "新生儿健康礼包（示例）",
			LegalBasis: "本区新生儿健康服务项目（示例）",
			HolderKind: issuer.HolderPerson, AreaCodes: []string{"310104"},
			Criteria:  []Criterion{{CertificateType: issuer.TypeBirthCertificate, Field: "birth_date", Op: OpGte, Value: s("2026-01-01")}},
			Benefit:   Benefit{Description: "2026年1月1日以后在本区出生的新生儿，出生医学证明签发后自动获得健康礼包", Amount: "礼包一份"},
			ValidFrom: "2026-01-01", Example: true,
		}},
	}
}

// SeededPolicy is a seeded policy with the department that owns it.
type SeededPolicy struct {
	DepartmentUSCC string
	Policy         Policy
}

// Stand-in owners of the seeded examples (valid USCCs; a department
// registered with one of them manages those examples).
const (
	SeedDepartmentCivilAffairs = "11100000000013338W" // stand-in: 民政部门
	SeedDepartmentHealth       = "11430000006122244L" // stand-in: 卫生健康部门
)
