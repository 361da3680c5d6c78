package codes

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestGolden checks the fixed codes in testdata/golden.txt: each parses to
// exactly the sample claims, verifies under the golden key and re-encodes to
// the same text. With -update it first rewrites the file.
func TestGolden(t *testing.T) {
	if *update {
		var b strings.Builder
		b.WriteString("# Codes signed by the golden test key (SM3(\"" + goldenSeed + "\")); regenerate with go test ./codes -run TestGolden -update\n")
		s := testSigner(t, goldenSeed)
		for _, k := range Kinds() {
			fmt.Fprintf(&b, "%s\t%s\n", k, mustIssue(t, s, sampleClaims(t, k)))
		}
		if err := os.WriteFile("testdata/golden.txt", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lookup := goldenLookup(t)
	for _, g := range goldens(t) {
		c := mustParse(t, g.text)
		if c.Kind != g.kind {
			t.Fatalf("%s: kind %s", g.kind, c.Kind)
		}
		assertClaims(t, c.Claims, sampleClaims(t, g.kind))
		if _, err := c.Verify(lookup); err != nil {
			t.Fatalf("%s: %v", g.kind, err)
		}
	}
}
