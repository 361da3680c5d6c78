// Command gencerts writes a synthetic bulk-import file of 营业执照 (business
// licences) for load tests and the import benchmark: every row valid, every
// holder a distinct enterprise with a correct USCC check character.
//
//	go run ./tools/gencerts -n 1000000 -format csv > licences.csv
package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/suishen/suishen/ident"
)

const typeLicence = "11100000000021001C001" // 营业执照 in the seed catalogue

func main() {
	n := flag.Int("n", 1000, "rows")
	format := flag.String("format", "csv", "csv or jsonl")
	prefix := flag.String("prefix", "G", "certificate number prefix (vary it to import a second, distinct file)")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	cw := csv.NewWriter(w)
	if *format == "csv" {
		_ = cw.Write([]string{"type_code", "number", "holder_kind", "holder_name", "holder_id_type", "holder_id_number",
			"valid_from", "valid_until", "long_term", "area_code", "fields"})
	}
	for i := 0; i < *n; i++ {
		first17 := fmt.Sprintf("91310104MA%07d", i%10000000)
		check, err := ident.USCCCheckChar(first17)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		uscc := first17 + string(check)
		name := fmt.Sprintf("上海样例%07d科技有限公司", i)
		// Establishment dates spread over 1996-01-01 … 2021-06-18, so that a
		// policy on an enterprise's age selects a share of the rows (every
		// one is at least five years old in December 2026).
		established := time.Date(1996, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i*7919)%9300).Format(time.DateOnly)
		fields := map[string]any{"name": name, "entity_type": "有限责任公司（自然人投资或控股）", "legal_representative": "王五",
			"registered_capital": "100万元人民币", "establishment_date": established, "domicile": "上海市徐汇区虹桥路1号",
			"business_scope": "技术开发、技术咨询、技术服务", "registration_authority": "上海市徐汇区市场监督管理局"}
		number := fmt.Sprintf("%s%08d", *prefix, i)
		if *format == "csv" {
			fj, _ := json.Marshal(fields)
			_ = cw.Write([]string{typeLicence, number, "enterprise", name, "001", uscc, "2020-05-01", "", "true", "310104", string(fj)})
			continue
		}
		b, _ := json.Marshal(map[string]any{"type_code": typeLicence, "number": number,
			"holder":     map[string]any{"kind": "enterprise", "name": name, "id_type": "001", "id_number": uscc},
			"valid_from": "2020-05-01", "long_term": true, "area_code": "310104", "fields": fields})
		w.Write(append(b, '\n'))
	}
	cw.Flush()
}
