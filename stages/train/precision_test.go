package train

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
)

func TestDecodePrecision(t *testing.T) {
	base := "input = \"c\"\noutput = \"m\"\n"
	decltest.CheckDiagnostics(t, Decode, "train", []decltest.Case{
		{Src: base + `precision = "fp16"`, Summary: "Invalid precision", Line: 3},
	})
	for src, want := range map[string]string{`precision = "fp32"`: "", `precision = "bf16"`: "bf16", ``: ""} {
		s, diags := decode(t, base+src)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if got := s.(*stage).p.Precision; got != want {
			t.Errorf("%s: params precision %q, want %q (fp32, the default, stays out of the fingerprint)", src, got, want)
		}
	}
}

// TestRunBF16 trains in bfloat16 where the CPU has it, recording so in the
// checkpoint, and elsewhere in fp32 with a warning.
func TestRunBF16(t *testing.T) {
	dir := workdir(t)
	s, env := newRun(t, dir, `precision = "bf16"`)
	var logs bytes.Buffer
	env.Log = hclog.New(&hclog.LoggerOptions{Output: &logs})
	run(t, s, env)
	_, meta := tensors(t, filepath.Join(dir, "model", ModelFile))
	switch got := meta.Provenance["train_precision"]; {
	case model.BF16Supported() && got != "bf16":
		t.Errorf("checkpoint provenance train_precision %q, want bf16", got)
	case !model.BF16Supported() && (got != "" || !strings.Contains(logs.String(), "training in fp32")):
		t.Errorf("without AVX512_BF16: provenance %q, log:\n%s", got, logs.String())
	}
	if m := metrics(t, filepath.Join(dir, "model_metrics")); len(m) == 0 {
		t.Error("no metrics")
	}
}
