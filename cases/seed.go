package cases

import "github.com/suishen/suishen/issuer"

// The seeded service items.
//
// What is real and what is a stand-in:
//
//   - Real: the item names (政务服务事项 as listed in Shanghai's 一网通办
//     catalogue); the responsible departments (district 市场监督管理局 for
//     食品经营许可, district 民政局 婚姻登记处 for 结婚登记, 公安局 for 出生登记,
//     规划和自然资源局 for 不动产登记, 市场监督管理局 for 企业设立登记, 民政局 for
//     the two disability subsidies); the materials, which follow the
//     published 办事指南 in substance (e.g. 婚姻登记条例 Art. 5: 户口簿,
//     身份证, 无配偶声明); the legal anchor of ex officio pulls, 《上海市优化营商
//     环境条例》第三十一条 (verified: the accepting unit may not ask for a
//     licence that is in the city's e-licence library), and the laws named
//     beside it (《婚姻登记条例》第五条, 《中华人民共和国户口登记条例》第七条).
//   - Plausible stand-ins: the 事项 codes (12-digit national basic codes in
//     the shape of those the seeded catalogue uses as related items, and
//     the same codes where the catalogue names the item; 000105201000 and
//     000114201000 are invented), the departments' unified social credit
//     codes (valid GB 32100 check characters, invented organisation codes
//     0000310xx), the material codes, and which materials are verify-only
//     or grant-mode (a design choice: identity documents of third parties
//     and a spouse's marriage data are the sensitive ones).
//
// Each item mixes certificate materials with at least one material no
// certificate covers, and every prefill rule is fillable when the applicant
// holds all the listed certificates and every pull is allowed.

// Relations the seeded items declare.
const (
	RelationNewborn     = "newborn"     // 新生儿: a minor, linked by the 出生医学证明
	RelationSpouse      = "spouse"      // 配偶: presents their own code
	RelationShareholder = "shareholder" // 股东: a person or an enterprise with its own code
)

// Seeded service item codes.
const (
	ItemFoodBusinessLicence = "000113101000" // 食品经营许可证核发
	ItemMarriage            = "000114001000" // 内地居民结婚登记
	ItemBirthRegistration   = "000105201000" // 新生儿出生登记
	ItemResaleHousing       = "000117002000" // 二手房交易登记 (国有建设用地使用权及房屋所有权转移登记)
	ItemEnterpriseSetup     = "000113001000" // 企业设立登记
	ItemDisabilitySubsidy   = "000114201000" // 困难残疾人生活补贴和重度残疾人护理补贴
)

// Legal bases of the ex officio pulls.
const (
	basisBusinessEnv = "《上海市优化营商环境条例》第三十一条"
	basisMarriage    = "《婚姻登记条例》第五条；《上海市优化营商环境条例》第三十一条"
	basisHukou       = "《中华人民共和国户口登记条例》第七条；《上海市优化营商环境条例》第三十一条"
)

func cert(code, name string, types []string, fields []string, pull, basis string, verifyOnly bool) Material {
	return Material{Code: code, Name: name, CertificateTypes: types, Fields: fields, Pull: pull, LegalBasis: basis, VerifyOnly: verifyOnly}
}

func paper(code, name string) Material {
	return Material{Code: code, Name: name, CertificateTypes: []string{}, Fields: []string{}}
}

func types(t ...string) []string { return t }

// form is an item's application form: the fields its prefill rules fill,
// in their order, then the fields the applicant fills in (typed).
func form(rules []PrefillRule, typed ...FormField) []FormField {
	out := make([]FormField, 0, len(rules)+len(typed))
	for _, r := range rules {
		out = append(out, FormField{Name: r.FormField, Label: r.Label})
	}
	return append(out, typed...)
}

func typed(name, label string) FormField { return FormField{Name: name, Label: label} }

// withForm sets each item's form from its prefill rules and the typed fields.
func withForm(it ServiceItem, typedFields ...FormField) ServiceItem {
	it.FormFields = form(it.Prefill, typedFields...)
	return it
}
func fields(f ...string) []string { return f }

// SeedItems returns the service items seeded on first start. Each call
// returns a fresh copy; every item passes ValidateItem against
// issuer.SeedCatalogue. See the comment above for what is real.
func SeedItems() []ServiceItem {
	const (
		bl  = issuer.TypeBusinessLicence
		id  = issuer.TypeResidentIDCard
		mc  = issuer.TypeMarriageCertificate
		bc  = issuer.TypeBirthCertificate
		re  = issuer.TypeRealEstateCertificate
		dc  = issuer.TypeDisabilityCard
		ssc = issuer.TypeSocialSecurityCard
	)
	return []ServiceItem{
		withForm(ServiceItem{
			Code: ItemFoodBusinessLicence, Name: "食品经营许可证核发",
			Department: "上海市浦东新区市场监督管理局", DepartmentUSCC: "11310115000031001J",
			Materials: []Material{
				cert("M01", "营业执照", types(bl), fields("name", "entity_type", "legal_representative", "domicile"), PullExOfficio, basisBusinessEnv, false),
				cert("M02", "法定代表人（负责人）身份证明", types(id), fields("name"), PullExOfficio, basisBusinessEnv, true),
				paper("M03", "食品经营许可申请书"),
				paper("M04", "经营场所平面图和设备布局、工艺流程图"),
				paper("M05", "食品安全管理制度文本"),
			},
			Prefill: []PrefillRule{
				{FormField: "operator_name", Label: "经营者名称", CertificateType: bl, Source: "name"},
				{FormField: "unified_social_credit_code", Label: "统一社会信用代码", CertificateType: bl, Source: SourceHolderIDNumber},
				{FormField: "legal_representative", Label: "法定代表人（负责人）", CertificateType: bl, Source: "legal_representative"},
				{FormField: "domicile", Label: "住所", CertificateType: bl, Source: "domicile"},
				{FormField: "entity_type", Label: "主体类型", CertificateType: bl, Source: "entity_type"},
				{FormField: "establishment_date", Label: "成立日期", CertificateType: bl, Source: "establishment_date"},
			},
			Prechecks: []Precheck{
				{Code: "P01", Name: "营业执照未被吊销、撤销或暂扣", Kind: KindNotRevoked, CertificateType: bl},
				{Code: "P02", Name: "营业执照营业期限剩余不少于30日", Kind: KindValidForDays, CertificateType: bl, Days: 30},
			},
		}, typed("business_premises", "经营场所"), typed("main_business_format", "主体业态")),
		withForm(ServiceItem{
			Code: ItemMarriage, Name: "内地居民结婚登记",
			Department: "上海市黄浦区民政局", DepartmentUSCC: "11310101000031002C",
			Materials: []Material{
				cert("M01", "本人居民身份证", types(id), fields("name", "sex", "ethnicity", "birth_date", "address"), PullExOfficio, basisMarriage, false),
				paper("M02", "本人常住户口簿"),
				paper("M03", "本人无配偶以及与对方当事人没有直系血亲和三代以内旁系血亲关系的签字声明"),
				paper("M04", "双方近期半身免冠合影照片"),
			},
			Prefill: []PrefillRule{
				{FormField: "applicant_name", Label: "姓名", CertificateType: id, Source: SourceHolderName},
				{FormField: "applicant_id_number", Label: "身份证件号码", CertificateType: id, Source: SourceHolderIDNumber},
				{FormField: "applicant_sex", Label: "性别", CertificateType: id, Source: "sex"},
				{FormField: "applicant_ethnicity", Label: "民族", CertificateType: id, Source: "ethnicity"},
				{FormField: "applicant_birth_date", Label: "出生日期", CertificateType: id, Source: "birth_date"},
				{FormField: "applicant_address", Label: "户籍地址", CertificateType: id, Source: "address"},
			},
			Prechecks: []Precheck{
				{Code: "P01", Name: "居民身份证在有效期内（剩余不少于1日）", Kind: KindValidForDays, CertificateType: id, Days: 1},
				{Code: "P02", Name: "身份证件持有人为申请人本人", Kind: KindHolderIsApplicant},
			},
		}, typed("applicant_occupation", "职业")),
		withForm(ServiceItem{
			Code: ItemBirthRegistration, Name: "新生儿出生登记",
			Department: "上海市公安局", DepartmentUSCC: "11310000000031003U",
			Materials: []Material{
				cert("M01", "出生医学证明", types(bc), fields("newborn_name", "sex", "birth_date", "birth_place", "mother_name", "mother_id_number"), PullExOfficio, basisHukou, false),
				cert("M02", "申报人居民身份证", types(id), fields("name", "address"), PullExOfficio, basisHukou, false),
				cert("M03", "父母结婚证", types(mc), fields("husband_name", "wife_name"), PullExOfficio, basisHukou, true),
				paper("M04", "落户地居民户口簿"),
			},
			Prefill: []PrefillRule{
				{FormField: "newborn_name", Label: "新生儿姓名", CertificateType: bc, Source: "newborn_name"},
				{FormField: "newborn_sex", Label: "性别", CertificateType: bc, Source: "sex"},
				{FormField: "newborn_birth_date", Label: "出生日期", CertificateType: bc, Source: "birth_date"},
				{FormField: "birth_place", Label: "出生地点", CertificateType: bc, Source: "birth_place"},
				{FormField: "birth_institution", Label: "助产机构", CertificateType: bc, Source: "birth_institution"},
				{FormField: "birth_certificate_number", Label: "出生医学证明编号", CertificateType: bc, Source: SourceNumber},
				{FormField: "mother_name", Label: "母亲姓名", CertificateType: bc, Source: "mother_name"},
				{FormField: "mother_id_number", Label: "母亲身份证件号码", CertificateType: bc, Source: "mother_id_number"},
				{FormField: "father_name", Label: "父亲姓名", CertificateType: bc, Source: "father_name"},
				{FormField: "father_id_number", Label: "父亲身份证件号码", CertificateType: bc, Source: "father_id_number"},
				{FormField: "declarant_name", Label: "申报人姓名", CertificateType: id, Source: SourceHolderName},
				{FormField: "declarant_id_number", Label: "申报人身份证件号码", CertificateType: id, Source: SourceHolderIDNumber},
				{FormField: "declarant_address", Label: "申报人住址", CertificateType: id, Source: "address"},
			},
			Prechecks: []Precheck{
				{Code: "P01", Name: "出生医学证明有效", Kind: KindNotRevoked, CertificateType: bc},
				{Code: "P02", Name: "申报人为身份证件持有人", Kind: KindHolderIsApplicant, CertificateType: id},
			},
			Relations: []Relation{{Code: RelationNewborn, Name: "新生儿", CertificateTypes: types(bc),
				LinkType: bc, LinkFields: fields("mother_id_number", "father_id_number")}},
		}, typed("settlement_address", "落户地址")),
		withForm(ServiceItem{
			Code: ItemResaleHousing, Name: "二手房交易登记（国有建设用地使用权及房屋所有权转移登记）",
			Department: "上海市规划和自然资源局", DepartmentUSCC: "11310000000031004Y",
			Materials: []Material{
				cert("M01", "不动产权证书", types(re), fields("right_holder", "co_ownership", "location", "unit_number", "usage", "area"), PullExOfficio, basisBusinessEnv, false),
				cert("M02", "出卖人身份证明", types(id), fields("name", "address"), PullExOfficio, basisBusinessEnv, false),
				cert("M03", "出卖人婚姻状况证明", types(mc), fields("registration_date", "husband_name", "wife_name"), PullGrant, "", false),
				paper("M04", "不动产买卖合同（购房合同）"),
				paper("M05", "完税凭证"),
			},
			Prefill: []PrefillRule{
				{FormField: "property_location", Label: "坐落", CertificateType: re, Source: "location"},
				{FormField: "unit_number", Label: "不动产单元号", CertificateType: re, Source: "unit_number"},
				{FormField: "property_area", Label: "面积", CertificateType: re, Source: "area"},
				{FormField: "property_usage", Label: "用途", CertificateType: re, Source: "usage"},
				{FormField: "right_holder", Label: "权利人", CertificateType: re, Source: "right_holder"},
				{FormField: "co_ownership", Label: "共有情况", CertificateType: re, Source: "co_ownership"},
				{FormField: "real_estate_certificate_number", Label: "不动产权证书号", CertificateType: re, Source: SourceNumber},
				{FormField: "seller_name", Label: "出卖人姓名", CertificateType: id, Source: SourceHolderName},
				{FormField: "seller_id_number", Label: "出卖人身份证件号码", CertificateType: id, Source: SourceHolderIDNumber},
				{FormField: "seller_address", Label: "出卖人住址", CertificateType: id, Source: "address"},
				{FormField: "marriage_registration_date", Label: "结婚登记日期", CertificateType: mc, Source: "registration_date"},
			},
			Prechecks: []Precheck{
				{Code: "P01", Name: "不动产权证书有效", Kind: KindNotRevoked, CertificateType: re},
				{Code: "P02", Name: "出卖人为不动产权利人", Kind: KindHolderIsApplicant, CertificateType: re},
			},
			Relations: []Relation{{Code: RelationSpouse, Name: "配偶", CertificateTypes: types(mc)}},
		}, typed("buyer_name", "买受人"), typed("transaction_price", "成交价格")),
		withForm(ServiceItem{
			Code: ItemEnterpriseSetup, Name: "企业设立登记",
			Department: "上海市市场监督管理局", DepartmentUSCC: "113100000000310052",
			Materials: []Material{
				paper("M01", "公司登记（备案）申请书"),
				paper("M02", "公司章程"),
				cert("M03", "法定代表人身份证明", types(id), fields("name", "sex", "birth_date", "address"), PullExOfficio, basisBusinessEnv, false),
				cert("M04", "住所使用证明", types(re), fields("right_holder", "location", "usage"), PullExOfficio, basisBusinessEnv, false),
				cert("M05", "股东主体资格证明", types(id, bl), fields("name"), PullExOfficio, basisBusinessEnv, true),
			},
			Prefill: []PrefillRule{
				{FormField: "legal_representative_name", Label: "法定代表人姓名", CertificateType: id, Source: SourceHolderName},
				{FormField: "legal_representative_id_number", Label: "法定代表人身份证件号码", CertificateType: id, Source: SourceHolderIDNumber},
				{FormField: "legal_representative_sex", Label: "法定代表人性别", CertificateType: id, Source: "sex"},
				{FormField: "legal_representative_birth_date", Label: "法定代表人出生日期", CertificateType: id, Source: "birth_date"},
				{FormField: "legal_representative_address", Label: "法定代表人住址", CertificateType: id, Source: "address"},
				{FormField: "domicile", Label: "住所", CertificateType: re, Source: "location"},
				{FormField: "domicile_usage", Label: "住所房屋用途", CertificateType: re, Source: "usage"},
				{FormField: "domicile_owner", Label: "住所产权人", CertificateType: re, Source: "right_holder"},
			},
			Prechecks: []Precheck{
				{Code: "P01", Name: "法定代表人身份证有效期剩余不少于30日", Kind: KindValidForDays, CertificateType: id, Days: 30},
				{Code: "P02", Name: "法定代表人身份证持有人为申请人本人", Kind: KindHolderIsApplicant, CertificateType: id},
			},
			Relations: []Relation{{Code: RelationShareholder, Name: "股东", CertificateTypes: types(id, bl)}},
		}, typed("company_name", "企业名称"), typed("registered_capital", "注册资本"), typed("business_scope", "经营范围")),
		withForm(ServiceItem{
			Code: ItemDisabilitySubsidy, Name: "困难残疾人生活补贴和重度残疾人护理补贴申请",
			Department: "上海市民政局", DepartmentUSCC: "113100000000310065",
			Materials: []Material{
				cert("M01", "残疾人证", types(dc), fields("name", "disability_category", "disability_level"), PullExOfficio, basisBusinessEnv, false),
				cert("M02", "申请人居民身份证", types(id), fields("name"), PullExOfficio, basisBusinessEnv, true),
				cert("M03", "社会保障卡（补贴发放账户）", types(ssc), fields("card_number"), PullUseCode, "", false),
				paper("M04", "困难残疾人生活补贴和重度残疾人护理补贴申请审批表"),
			},
			Prefill: []PrefillRule{
				{FormField: "applicant_name", Label: "姓名", CertificateType: dc, Source: "name"},
				{FormField: "applicant_sex", Label: "性别", CertificateType: dc, Source: "sex"},
				{FormField: "applicant_birth_date", Label: "出生日期", CertificateType: dc, Source: "birth_date"},
				{FormField: "applicant_address", Label: "住址", CertificateType: dc, Source: "address"},
				{FormField: "disability_category", Label: "残疾类别", CertificateType: dc, Source: "disability_category"},
				{FormField: "disability_level", Label: "残疾等级", CertificateType: dc, Source: "disability_level"},
				{FormField: "disability_card_number", Label: "残疾人证号", CertificateType: dc, Source: SourceNumber},
				{FormField: "social_security_card_number", Label: "社会保障卡卡号", CertificateType: ssc, Source: "card_number"},
			},
			Prechecks: []Precheck{
				{Code: "P01", Name: "残疾人证有效", Kind: KindNotRevoked, CertificateType: dc},
				{Code: "P02", Name: "残疾人证有效期剩余不少于30日", Kind: KindValidForDays, CertificateType: dc, Days: 30},
				{Code: "P03", Name: "残疾人证持有人为申请人本人", Kind: KindHolderIsApplicant, CertificateType: dc},
			},
		}, typed("contact_phone", "联系电话")),
	}
}
