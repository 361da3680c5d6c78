package issuer

// The seeded catalogue.
//
// What is real and what is a stand-in:
//
//   - Real: the certificate type names; the defining authorities (the
//     ministries and bodies that define each document: 国家市场监督管理总局,
//     公安部, 民政部, 国家卫生健康委员会, 中国残疾人联合会, 自然资源部,
//     人力资源和社会保障部, 住房和城乡建设部); the face-field labels, which are
//     the labels printed on the documents; the enumerations (准驾车型 per
//     公安部令第162号 as amended, the 56 民族, 残疾类别 and 残疾等级 per
//     GB/T 26341, 主体业态 per 食品经营许可和备案管理办法 (2023), 共有情况 of the
//     不动产登记暂行条例实施细则); the formats of 食品经营许可证编号 (JY + 14
//     digits), 不动产单元号 (28 characters: 12 digits, 2 letters, 5 digits,
//     1 letter, 8 digits) and 驾驶证档案编号 (12 digits); the validity rules
//     (居民身份证 5/10/20 years or 长期, 驾驶证 6/10 years or 长期, 食品经营许可证
//     5 years, 安全生产许可证 3 years, 结婚证 and 出生医学证明 without expiry).
//   - Plausible stand-ins: every unified social credit code below. They are
//     shaped like a central agency's code (registration authority 1, category 1
//     = 机关, area 100000, a 9-character organisation code) and carry a correct
//     GB 32100 check character, but the organisation codes 000021001… are
//     invented. Published identifiers show national types coded under
//     11100000000013338W (types 011 and 032); which serial denotes which type
//     could not be confirmed, so the types below are coded under per-agency
//     stand-ins. Also stand-ins: the 3-digit type serials, the related
//     政务服务事项 codes (names are real items), the 营业执照 maximum term
//     (营业期限 is set by the articles of association; 100 years is our cap),
//     the 出生医学证明编号 pattern and the 安全生产许可证编号 pattern (modelled on
//     "(沪)JZ安许证字〔2021〕010101").
//
// Sensitive fields (FieldSpec.Sensitive; an app receives them only when its
// field-level 用证清单 names them): identity numbers and their equivalents
// (社会保障号码), a spouse's and a parent's identity numbers (结婚证,
// 出生医学证明), a person's phone number (the 残疾人证 guardian's), health
// data (出生孕周, 出生体重, 出生身长) and disability data (残疾类别, 残疾等级).
// Not sensitive: a 食品经营许可证's 投诉举报电话, which is the regulator's public
// hotline, not a person's number; enterprises' codes and names, which are
// public registration data. Names of persons are not marked: they are masked
// wherever an app sees them, by the one rule (ident.MaskName).
//
// Validity and 证照编号 are metadata, not face fields: 有效期限 / 营业期限
// printed on a document is valid_from..valid_until (or long_term), and the
// holder's ID number (公民身份号码 / 统一社会信用代码) is holder.id_number. A
// face field duplicates the 证照编号 only where the document prints it under
// its own label (许可证编号, 社会保障卡卡号, 编号).

// Stand-in unified social credit codes of the defining authorities (see above).
const (
	usccSAMR   = "11100000000021001C" // 国家市场监督管理总局
	usccMPS    = "11100000000021002F" // 公安部
	usccMCA    = "11100000000021003J" // 民政部
	usccNHC    = "11100000000021004M" // 国家卫生健康委员会
	usccCDPF   = "11100000000021005Q" // 中国残疾人联合会
	usccMNR    = "11100000000021006U" // 自然资源部
	usccMOHRSS = "11100000000021007Y" // 人力资源和社会保障部
	usccMOHURD = "111000000000210082" // 住房和城乡建设部
)

// Type codes of the seeded catalogue, for callers and tests that need one.
const (
	TypeBusinessLicence       = usccSAMR + "001"   // 营业执照
	TypeFoodBusinessLicence   = usccSAMR + "002"   // 食品经营许可证
	TypeResidentIDCard        = usccMPS + "001"    // 居民身份证
	TypeDrivingLicence        = usccMPS + "002"    // 机动车驾驶证
	TypeMarriageCertificate   = usccMCA + "001"    // 结婚证
	TypeBirthCertificate      = usccNHC + "001"    // 出生医学证明
	TypeDisabilityCard        = usccCDPF + "001"   // 残疾人证
	TypeRealEstateCertificate = usccMNR + "001"    // 不动产权证书
	TypeSocialSecurityCard    = usccMOHRSS + "001" // 社会保障卡
	TypeConstructionSafety    = usccMOHURD + "001" // 建筑施工企业安全生产许可证
)

// ethnicGroups are the 56 民族 as printed on a 居民身份证 (GB/T 3304 names
// without the trailing 族).
var ethnicGroups = []string{
	"汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜",
	"满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
	"佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
	"达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
	"塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
	"独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
}

var sexes = []string{"男", "女"}

// vehicleClasses are the 准驾车型 codes of 机动车驾驶证申领和使用规定
// (公安部令第162号, C6 added 2022). A licence entitling several classes
// prints them joined (e.g. "C1E"); the contract's enum is single-valued, so
// such a licence carries its principal class here.
var vehicleClasses = []string{
	"A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "C5", "C6", "D", "E", "F", "M", "N", "P",
}

const (
	usccPattern      = `[0-9A-HJ-NPQRTUWXY]{18}`
	citizenIDPattern = `[0-9]{17}[0-9X]`
	phonePattern     = `[0-9][0-9-]{2,19}`
)

// sensitive marks a field sensitive (FieldSpec.Sensitive).
func sensitive(f FieldSpec) FieldSpec {
	f.Sensitive = true
	return f
}

func specStr(name, label string, required bool, maxLen int) FieldSpec {
	return FieldSpec{Name: name, Label: label, Type: FieldString, Required: required, MaxLength: maxLen}
}

func specPat(name, label string, required bool, maxLen int, pattern string) FieldSpec {
	return FieldSpec{Name: name, Label: label, Type: FieldString, Required: required, MaxLength: maxLen, Pattern: pattern}
}

func specDate(name, label string, required bool) FieldSpec {
	return FieldSpec{Name: name, Label: label, Type: FieldDate, Required: required}
}

func specInteger(name, label string, required bool) FieldSpec {
	return FieldSpec{Name: name, Label: label, Type: FieldInteger, Required: required}
}

func specNumber(name, label string, required bool) FieldSpec {
	return FieldSpec{Name: name, Label: label, Type: FieldNumber, Required: required}
}

func specEnum(name, label string, required bool, values []string) FieldSpec {
	return FieldSpec{Name: name, Label: label, Type: FieldEnum, Required: required, Values: append([]string(nil), values...)}
}

// SeedCatalogue returns the catalogue seeded on first start: ten common
// certificate types with the face fields their documents carry. Each call
// returns a fresh copy the caller may modify. Every entry passes
// ValidateType. See the comment at the top of seed.go for which values are
// real and which are stand-ins.
func SeedCatalogue() []CertificateType {
	return []CertificateType{
		{
			Code: TypeBusinessLicence, Name: "营业执照",
			DefiningAuthority: "国家市场监督管理总局", DefiningAuthorityUSCC: usccSAMR, DefiningAuthorityLevel: "国家级",
			HolderKind: HolderEnterprise, ValidityYears: 100, LongTerm: true, IssuingLevel: "区县级",
			RelatedItems: []RelatedItem{
				{Code: "000113001000", Name: "企业设立登记"},
				{Code: "000113002000", Name: "企业变更登记"},
				{Code: "000113003000", Name: "企业注销登记"},
			},
			Fields: []FieldSpec{
				specStr("name", "名称", true, 100),
				specStr("entity_type", "类型", true, 64),
				specStr("legal_representative", "法定代表人", true, 64),
				specStr("registered_capital", "注册资本", false, 64),
				specDate("establishment_date", "成立日期", true),
				specStr("domicile", "住所", true, 200),
				specStr("business_scope", "经营范围", true, 4000),
				specStr("registration_authority", "登记机关", true, 100),
			},
		},
		{
			Code: TypeFoodBusinessLicence, Name: "食品经营许可证",
			DefiningAuthority: "国家市场监督管理总局", DefiningAuthorityUSCC: usccSAMR, DefiningAuthorityLevel: "国家级",
			HolderKind: HolderEnterprise, ValidityYears: 5, IssuingLevel: "区县级",
			RelatedItems: []RelatedItem{
				{Code: "000113101000", Name: "食品经营许可"},
				{Code: "000113102000", Name: "食品经营许可变更"},
				{Code: "000113103000", Name: "食品经营许可延续"},
			},
			Fields: []FieldSpec{
				specStr("operator_name", "经营者名称", true, 100),
				specPat("unified_social_credit_code", "社会信用代码", true, 18, usccPattern),
				specStr("legal_representative", "法定代表人（负责人）", true, 64),
				specStr("domicile", "住所", true, 200),
				specStr("business_premises", "经营场所", true, 200),
				specEnum("main_business_format", "主体业态", true, []string{"食品销售经营者", "餐饮服务经营者", "集中用餐单位食堂"}),
				specStr("business_items", "经营项目", true, 2000),
				specPat("licence_number", "许可证编号", true, 16, `JY[0-9]{14}`),
				specStr("daily_supervision_authority", "日常监督管理机构", false, 100),
				specStr("daily_supervisor", "日常监督管理人员", false, 64),
				specPat("complaint_hotline", "投诉举报电话", false, 20, phonePattern),
				specStr("issuing_authority", "发证机关", true, 100),
				specStr("signer", "签发人", false, 32),
			},
		},
		{
			Code: TypeResidentIDCard, Name: "居民身份证",
			DefiningAuthority: "公安部", DefiningAuthorityUSCC: usccMPS, DefiningAuthorityLevel: "国家级",
			HolderKind: HolderPerson, ValidityYears: 20, LongTerm: true, IssuingLevel: "区县级",
			RelatedItems: []RelatedItem{
				{Code: "000105001000", Name: "居民身份证申领"},
				{Code: "000105002000", Name: "居民身份证换领"},
				{Code: "000105003000", Name: "居民身份证补领"},
			},
			Fields: []FieldSpec{
				specStr("name", "姓名", true, 64),
				specEnum("sex", "性别", true, sexes),
				specEnum("ethnicity", "民族", true, ethnicGroups),
				specDate("birth_date", "出生", true),
				specStr("address", "住址", true, 100),
				specStr("issuing_authority", "签发机关", true, 64),
			},
		},
		{
			Code: TypeDrivingLicence, Name: "机动车驾驶证",
			DefiningAuthority: "公安部", DefiningAuthorityUSCC: usccMPS, DefiningAuthorityLevel: "国家级",
			HolderKind: HolderPerson, ValidityYears: 10, LongTerm: true, IssuingLevel: "地市级",
			RelatedItems: []RelatedItem{
				{Code: "000105101000", Name: "机动车驾驶证核发"},
				{Code: "000105102000", Name: "机动车驾驶证有效期满换证"},
				{Code: "000105103000", Name: "机动车驾驶证补证"},
			},
			Fields: []FieldSpec{
				specStr("name", "姓名", true, 64),
				specEnum("sex", "性别", true, sexes),
				specStr("nationality", "国籍", true, 32),
				specStr("address", "住址", true, 100),
				specDate("birth_date", "出生日期", true),
				specDate("first_issue_date", "初次领证日期", true),
				specEnum("vehicle_class", "准驾车型", true, vehicleClasses),
				specPat("file_number", "档案编号", false, 12, `[0-9]{12}`),
				specStr("issuing_authority", "发证机关", true, 64),
			},
		},
		{
			Code: TypeMarriageCertificate, Name: "结婚证",
			DefiningAuthority: "民政部", DefiningAuthorityUSCC: usccMCA, DefiningAuthorityLevel: "国家级",
			HolderKind: HolderPerson, ValidityYears: 0, LongTerm: true, IssuingLevel: "区县级",
			RelatedItems: []RelatedItem{
				{Code: "000114001000", Name: "内地居民婚姻登记"},
				{Code: "000114003000", Name: "补领婚姻登记证"},
			},
			Fields: []FieldSpec{
				specStr("holder_name", "持证人", true, 64),
				specDate("registration_date", "登记日期", true),
				specStr("husband_name", "男方姓名", true, 64),
				specStr("husband_nationality", "男方国籍", true, 32),
				specDate("husband_birth_date", "男方出生日期", true),
				sensitive(specStr("husband_id_number", "男方身份证件号", true, 32)),
				specStr("wife_name", "女方姓名", true, 64),
				specStr("wife_nationality", "女方国籍", true, 32),
				specDate("wife_birth_date", "女方出生日期", true),
				sensitive(specStr("wife_id_number", "女方身份证件号", true, 32)),
				specStr("remarks", "备注", false, 200),
				specStr("registration_authority", "登记机关", true, 100),
			},
		},
		{
			Code: TypeBirthCertificate, Name: "出生医学证明",
			DefiningAuthority: "国家卫生健康委员会", DefiningAuthorityUSCC: usccNHC, DefiningAuthorityLevel: "国家级",
			HolderKind: HolderPerson, ValidityYears: 0, LongTerm: true, IssuingLevel: "其他",
			RelatedItems: []RelatedItem{
				{Code: "000112001000", Name: "出生医学证明首次签发"},
				{Code: "000112002000", Name: "出生医学证明补发"},
			},
			Fields: []FieldSpec{
				specStr("newborn_name", "新生儿姓名", true, 64),
				specEnum("sex", "性别", true, sexes),
				specDate("birth_date", "出生日期", true),
				specPat("birth_time", "出生时间", false, 5, `([01][0-9]|2[0-3]):[0-5][0-9]`),
				sensitive(specInteger("gestational_weeks", "出生孕周", true)),
				sensitive(specInteger("birth_weight", "出生体重（克）", true)),
				sensitive(specNumber("birth_length", "出生身长（厘米）", true)),
				specStr("birth_place", "出生地点", true, 100),
				specStr("birth_institution", "助产机构名称", true, 100),
				specStr("mother_name", "母亲姓名", true, 64),
				specInteger("mother_age", "母亲年龄", false),
				specStr("mother_nationality", "母亲国籍", true, 32),
				specStr("mother_ethnicity", "母亲民族", false, 16),
				sensitive(specStr("mother_id_number", "母亲有效身份证件号码", true, 32)),
				specStr("father_name", "父亲姓名", false, 64),
				specInteger("father_age", "父亲年龄", false),
				specStr("father_nationality", "父亲国籍", false, 32),
				specStr("father_ethnicity", "父亲民族", false, 16),
				sensitive(specStr("father_id_number", "父亲有效身份证件号码", false, 32)),
				specStr("issuing_institution", "签证机构", true, 100),
			},
		},
		{
			Code: TypeDisabilityCard, Name: "残疾人证",
			DefiningAuthority: "中国残疾人联合会", DefiningAuthorityUSCC: usccCDPF, DefiningAuthorityLevel: "国家级",
			HolderKind: HolderPerson, ValidityYears: 10, IssuingLevel: "区县级",
			RelatedItems: []RelatedItem{
				{Code: "000128001000", Name: "残疾人证新办"},
				{Code: "000128002000", Name: "残疾人证换领"},
				{Code: "000128003000", Name: "残疾人证迁移"},
			},
			Fields: []FieldSpec{
				specStr("name", "姓名", true, 64),
				specEnum("sex", "性别", true, sexes),
				specEnum("ethnicity", "民族", true, ethnicGroups),
				specDate("birth_date", "出生日期", true),
				specStr("address", "住址", true, 100),
				sensitive(specEnum("disability_category", "残疾类别", true, []string{"视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾", "精神残疾", "多重残疾"})),
				sensitive(specEnum("disability_level", "残疾等级", true, []string{"一级", "二级", "三级", "四级"})),
				specStr("guardian_name", "监护人", false, 64),
				sensitive(specPat("guardian_phone", "监护人联系电话", false, 20, phonePattern)),
				specStr("issuing_authority", "发证机关", true, 100),
			},
		},
		{
			Code: TypeRealEstateCertificate, Name: "不动产权证书",
			DefiningAuthority: "自然资源部", DefiningAuthorityUSCC: usccMNR, DefiningAuthorityLevel: "国家级",
			HolderKind: HolderPerson, ValidityYears: 0, LongTerm: true, IssuingLevel: "地市级",
			RelatedItems: []RelatedItem{
				{Code: "000117001000", Name: "国有建设用地使用权及房屋所有权首次登记"},
				{Code: "000117002000", Name: "国有建设用地使用权及房屋所有权转移登记"},
				{Code: "000117003000", Name: "不动产变更登记"},
			},
			Fields: []FieldSpec{
				specStr("right_holder", "权利人", true, 200),
				specEnum("co_ownership", "共有情况", true, []string{"单独所有", "共同共有", "按份共有"}),
				specStr("location", "坐落", true, 200),
				specPat("unit_number", "不动产单元号", true, 28, `[0-9]{12}[A-Z]{2}[0-9]{5}[A-Z][0-9]{8}`),
				specStr("right_type", "权利类型", true, 64),
				specStr("right_nature", "权利性质", true, 64),
				specStr("usage", "用途", true, 64),
				specStr("area", "面积", true, 128),
				specStr("land_use_term", "使用期限", false, 128),
				specStr("other_rights", "权利其他状况", false, 2000),
				specStr("registration_authority", "登记机构", true, 100),
			},
		},
		{
			Code: TypeSocialSecurityCard, Name: "社会保障卡",
			DefiningAuthority: "人力资源和社会保障部", DefiningAuthorityUSCC: usccMOHRSS, DefiningAuthorityLevel: "国家级",
			HolderKind: HolderPerson, ValidityYears: 10, IssuingLevel: "地市级",
			RelatedItems: []RelatedItem{
				{Code: "000111001000", Name: "社会保障卡申领"},
				{Code: "000111002000", Name: "社会保障卡补领、换领、换发"},
			},
			Fields: []FieldSpec{
				specStr("name", "姓名", true, 64),
				sensitive(specPat("social_security_number", "社会保障号码", true, 18, citizenIDPattern)),
				specPat("card_number", "社会保障卡卡号", true, 9, `[0-9A-Z]{9}`),
				specDate("card_issue_date", "发卡日期", true),
				specStr("issuing_region", "发卡地", true, 64),
			},
		},
		{
			Code: TypeConstructionSafety, Name: "建筑施工企业安全生产许可证",
			DefiningAuthority: "住房和城乡建设部", DefiningAuthorityUSCC: usccMOHURD, DefiningAuthorityLevel: "国家级",
			HolderKind: HolderEnterprise, ValidityYears: 3, IssuingLevel: "省级",
			RelatedItems: []RelatedItem{
				{Code: "000120001000", Name: "建筑施工企业安全生产许可证核发"},
				{Code: "000120002000", Name: "建筑施工企业安全生产许可证延续"},
				{Code: "000120003000", Name: "建筑施工企业安全生产许可证变更"},
			},
			Fields: []FieldSpec{
				specStr("company_name", "企业名称", true, 100),
				specStr("principal", "主要负责人", true, 64),
				specStr("address", "单位地址", true, 200),
				specStr("economic_type", "经济类型", true, 64),
				specStr("licence_scope", "许可范围", true, 200),
				specPat("licence_number", "编号", true, 32, `[（(]\p{Han}{1,2}[）)]JZ安许证字[〔\[][0-9]{4}[〕\]][0-9]{6}`),
				specStr("issuing_authority", "发证机关", true, 100),
			},
		},
	}
}
