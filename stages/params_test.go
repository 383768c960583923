package stages

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/astroformer/astroformer/pipeline"
)

var update = flag.Bool("update", false, "rewrite testdata/params.golden")

// TestParamsStable decodes the stage blocks of testdata/params.hcl and
// compares their canonical params JSON, without the digest of the source
// files, with testdata/params.golden: the params are part of every
// fingerprint, so a change there reruns the stages of existing jobs.
func TestParamsStable(t *testing.T) {
	src, err := os.ReadFile("testdata/params.hcl")
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, "params.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	reg := Registry()
	var got strings.Builder
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		s, diags := reg[b.Labels[0]](b.Labels[1], b.Body, &hcl.EvalContext{})
		if diags.HasErrors() {
			t.Fatalf("%s: %s", b.Labels[1], diags)
		}
		fmt.Fprintf(&got, "%s %s\n", b.Labels[1], params(t, s))
	}
	if *update {
		if err := os.WriteFile("testdata/params.golden", []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/params.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("params changed (go test -update rewrites the golden file):\ngot\n%s\nwant\n%s", got.String(), want)
	}
}

// params returns the canonical JSON of s's params without "inputs".
func params(t *testing.T, s pipeline.Stage) string {
	raw, err := pipeline.CanonicalJSON(s.Params())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "inputs")
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
