package codes

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestGolden checks the fixed codes in testdata/golden.txt: each parses to
// exactly the sample claims, verifies under the golden key and re-encodes to
// the same text. With -update it first adds a code for every kind the file
// lacks, keeping the others (SM2 signatures are randomised, and the worked
// example in docs/code-format.md is the golden personal code); delete a
// line to have it re-signed.
func TestGolden(t *testing.T) {
	if *update {
		kept := map[Kind]string{}
		if old, err := os.ReadFile("testdata/golden.txt"); err == nil {
			for _, line := range strings.Split(string(old), "\n") {
				name, text, ok := strings.Cut(line, "\t")
				if k, err := ParseKind(name); ok && err == nil {
					kept[k] = text
				}
			}
		}
		var b strings.Builder
		b.WriteString("# Codes signed by the golden test key (SM3(\"" + goldenSeed + "\")); add missing kinds with go test ./codes -run TestGolden -update\n")
		s := testSigner(t, goldenSeed)
		for _, k := range Kinds() {
			text, ok := kept[k]
			if !ok {
				text = mustIssue(t, s, sampleClaims(t, k))
			}
			fmt.Fprintf(&b, "%s\t%s\n", k, text)
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
