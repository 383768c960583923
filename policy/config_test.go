package policy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestPresetsAreValid(t *testing.T) {
	for _, name := range PresetNames() {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	if _, err := Preset("imagenet"); err == nil {
		t.Error("unknown preset: no error")
	}
	g, d := Galaxy10Preset(), CPUDemoPreset()
	if g.Height != 256 || g.MixupAlpha != 0.8 || g.LabelSmoothing != 0.1 || g.CutMixAlpha != 0 || g.EraseProb != 0 || g.Brightness != 0.4 || !g.Rot90 {
		t.Errorf("Galaxy10Preset differs from the published recipe: %+v", g)
	}
	if d.Height != 64 || d.CropScale[0] != 0.6 || d.LabelSmoothing != 0.1 {
		t.Errorf("CPUDemoPreset: %+v", d)
	}
}

func TestPresetsDoNotShareSlices(t *testing.T) {
	a := Defaults()
	a.Mean[0], a.CropScale[0] = 9, 0.9
	if b := Defaults(); b.Mean[0] == 9 || b.CropScale[0] == 0.9 {
		t.Error("Defaults shares slices between calls")
	}
}

func TestValidateNamesEveryBadKnob(t *testing.T) {
	c := Defaults()
	c.Width = 200 // with Rot90 on
	c.CropScale = []float64{0.5, 0.2}
	c.HFlip = 1.5
	c.Fill = "wrap"
	c.EraseArea = []float64{0.1}
	c.LabelSmoothing = 1
	c.Std = []float64{0.2, 0, 0.2}
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"rot90", "crop_scale", "hflip", "fill", "erase_area", "label_smoothing", "std[1]"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not mention %s:\n%v", name, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 7 {
		t.Errorf("%d errors, want 7:\n%v", n, err)
	}
	if _, err := New(c); err == nil {
		t.Error("New accepted an invalid configuration")
	}
}

func TestDecodeHCLOverPreset(t *testing.T) {
	src := `
crop_scale   = [0.5, 1]
vflip        = 0
cutmix_alpha = 1.0
fill         = "zero"
mean         = [0.1]
std          = [0.2]
`
	f, diags := hclsyntax.ParseConfig([]byte(src), "policy.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cfg := Galaxy10Preset()
	if diags := gohcl.DecodeBody(f.Body, nil, &cfg); diags.HasErrors() {
		t.Fatal(diags)
	}
	want := Galaxy10Preset()
	want.CropScale = []float64{0.5, 1}
	want.VFlip = 0
	want.CutMixAlpha = 1
	want.Fill = "zero"
	want.Mean, want.Std = []float64{0.1}, []float64{0.2}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}

	bad, _ := hclsyntax.ParseConfig([]byte(`mixup = 0.8`), "bad.hcl", hcl.InitialPos)
	if diags := gohcl.DecodeBody(bad.Body, nil, &cfg); !diags.HasErrors() {
		t.Error("unknown attribute mixup: no diagnostics")
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	c := CPUDemoPreset()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"crop_scale":[0.6,1]`) {
		t.Errorf("JSON uses unexpected names: %s", b)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip changed the configuration:\n%+v\n%+v", back, c)
	}
}
