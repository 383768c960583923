package stages

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestRegistry(t *testing.T) {
	reg := Registry()
	if len(reg) == 0 {
		t.Fatal("no stage kinds registered")
	}
	for kind, decode := range reg {
		// An empty body lacks at least the output; a kind that accepts it
		// must still build a stage of its own kind.
		s, diags := decode("x", hcl.EmptyBody(), &hcl.EvalContext{})
		switch {
		case diags.HasErrors() && s != nil:
			t.Errorf("kind %q: a stage came back with errors", kind)
		case !diags.HasErrors() && (s == nil || s.Kind() != kind || s.Name() != "x"):
			t.Errorf("kind %q: decoded %v", kind, s)
		}
	}
}
