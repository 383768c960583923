package decltest

import (
	"testing"

	"github.com/astroformer/astroformer/pipeline"
)

// MustDecode is Decode that fails the test on error diagnostics.
func MustDecode(t testing.TB, factory pipeline.Factory, name, src string) pipeline.Stage {
	t.Helper()
	s, diags := Decode(t, factory, name, src)
	if diags.HasErrors() {
		t.Fatalf("decode %q: %s", src, diags)
	}
	return s
}
