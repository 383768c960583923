package modeltest

import (
	"testing"

	"github.com/astroformer/astroformer/model"
)

// TestGoldenTinyIsTheReferenceConfig infers the spec of the reference's
// weights and checks that GoldenTiny is its configuration.
func TestGoldenTinyIsTheReferenceConfig(t *testing.T) {
	sd, meta, err := model.ReadCheckpoint(ReferenceWeights(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	s, err := model.InferSpec(sd, meta)
	if err != nil {
		t.Fatal(err)
	}
	if s.Config != GoldenTiny() || s.Variant != "golden_tiny" {
		t.Errorf("reference weights are %q %+v, GoldenTiny is %+v", s.Variant, s.Config, GoldenTiny())
	}
	if _, err := model.Lookup("golden_tiny"); err == nil {
		t.Error("golden_tiny is a public variant")
	}
	if n := model.Count(model.Spec{Config: GoldenTiny(), ImageH: 64, ImageW: 64, InChans: 3, Classes: 10}); n != 158350 {
		t.Errorf("GoldenTiny has %d parameters at 64x64, want 158,350", n)
	}
}
