package casework

import (
	"context"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/disclosure"
	"github.com/suishen/suishen/issuer"
)

// disclose passes a case's pre-fill through package disclosure's filter
// before it is stored or answered: a value whose source the caller may not
// receive (a type or a face field outside an app's use list) is dropped,
// and every value leaves masked by the one rule (identity numbers, persons'
// names). The pre-fill count follows what is actually handed over.
func (s *Service) disclose(ctx context.Context, it cases.ServiceItem, res *cases.Result, aud disclosure.Audience) {
	sources := make([]disclosure.PrefillSource, 0, len(it.Prefill))
	for _, p := range it.Prefill {
		sources = append(sources, disclosure.PrefillSource{FormField: p.FormField, TypeCode: p.CertificateType, Source: p.Source})
	}
	typeOf := func(code string) (issuer.CertificateType, bool) {
		t, err := s.Issuance.Type(ctx, code)
		return t, err == nil
	}
	res.Prefill = disclosure.Prefill(res.Prefill, sources, typeOf, aud)
	res.PrefillFilled = len(res.Prefill)
}
