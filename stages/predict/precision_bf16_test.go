package predict

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// predictAt predicts the cutouts in dir/cutouts with a fresh load of the
// checkpoint ckpt at precision p and returns the predictor and the
// catalog's class and probability columns, row by row.
func predictAt(t *testing.T, dir, ckpt string, p model.Precision, log hclog.Logger) (*Predictor, []string, [][]float64) {
	t.Helper()
	in := openCutouts(t, filepath.Join(dir, "cutouts"))
	m, err := LoadModel(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := NewPredictor(m, Options{BatchSize: 8, Workers: 2, Precision: p, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	var sink collect
	if _, err := pred.Run(context.Background(), in, catalog.Shard{Count: 1}, &sink, nil); err != nil {
		t.Fatal(err)
	}
	out := tabletest.Concat(t, pred.Schema(), sink.recs)
	defer out.Release()
	col := func(name string) arrow.Array { return out.Column(out.Schema().FieldIndices(name)[0]) }
	probCols, err := schemas.ProbColumns(pred.ClassNames())
	if err != nil {
		t.Fatal(err)
	}
	classes := make([]string, out.NumRows())
	probs := make([][]float64, out.NumRows())
	cls := col("predicted_label").(*array.String)
	for r := range classes {
		classes[r] = cls.Value(r)
		for _, name := range probCols {
			probs[r] = append(probs[r], float64(col(name).(*array.Float32).Value(r)))
		}
	}
	return pred, classes, probs
}

// Predicting in bf16 gives the top-1 class of fp32 on a small model, and
// probabilities within bfloat16's rounding of fp32's, and not the very same
// ones (the bf16 products ran).
func TestPredictBF16MatchesFP32(t *testing.T) {
	if !model.BF16Supported() {
		t.Skip("no AVX512_BF16 on this CPU or build")
	}
	dir, ckpt := stageFixture(t, 48, 16, BestCheckpoint, 3)
	_, want, wantP := predictAt(t, dir, ckpt, model.FP32, nil)
	pred, got, gotP := predictAt(t, dir, ckpt, model.BF16, nil)
	if pred.Options().Precision != model.BF16 {
		t.Fatalf("precision %q, want bf16", pred.Options().Precision)
	}
	if md := pred.Metadata(); md[MetaPrecision] != "bf16" {
		t.Errorf("metadata %s = %q, want bf16", MetaPrecision, md[MetaPrecision])
	}
	var maxDiff float64
	for r := range want {
		if got[r] != want[r] {
			t.Errorf("row %d: bf16 predicts %q, fp32 %q (probabilities %v, %v)", r, got[r], want[r], gotP[r], wantP[r])
		}
		for k := range wantP[r] {
			maxDiff = max(maxDiff, math.Abs(gotP[r][k]-wantP[r][k]))
		}
	}
	if maxDiff == 0 || maxDiff > 0.02 {
		t.Errorf("largest probability difference bf16 - fp32 = %g, want in (0, 0.02]", maxDiff)
	}
	t.Logf("largest probability difference bf16 - fp32: %.2g", maxDiff)
}

// Where the CPU lacks AVX512_BF16, bf16 falls back to fp32 with a warning
// on the log, and predicts exactly what fp32 does.
func TestPredictBF16FallsBackToFP32(t *testing.T) {
	saved := cpuHasBF16
	cpuHasBF16 = func() bool { return false }
	t.Cleanup(func() { cpuHasBF16 = saved })
	dir, ckpt := stageFixture(t, 12, 16, BestCheckpoint, 4)
	var buf bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Info})
	pred, got, gotP := predictAt(t, dir, ckpt, model.BF16, log)
	if pred.Options().Precision != model.FP32 {
		t.Errorf("precision %q after the fallback, want fp32", pred.Options().Precision)
	}
	if net := pred.model.Net.(*model.Net); net.Precision() != model.FP32 {
		t.Errorf("the network runs in %s, want fp32", net.Precision())
	}
	if _, ok := pred.Metadata()[MetaPrecision]; ok {
		t.Errorf("an fp32 catalog has %s in its metadata", MetaPrecision)
	}
	if s := buf.String(); !strings.Contains(s, "[WARN]") || !strings.Contains(s, "AVX512_BF16") || !strings.Contains(s, "predicting in fp32") {
		t.Errorf("log %q: want a warning naming AVX512_BF16 and the fp32 fallback", s)
	}
	_, want, wantP := predictAt(t, dir, ckpt, model.FP32, nil)
	for r := range want {
		if got[r] != want[r] || !slices.Equal(gotP[r], wantP[r]) {
			t.Errorf("row %d: fallback %q %v, fp32 %q %v", r, got[r], gotP[r], want[r], wantP[r])
		}
	}
}

// precision = "bf16" enters the params; "fp32", the default, leaves them as
// they are without it, so that fingerprints do not change; another value
// is a diagnostic on the attribute.
func TestDecodePrecision(t *testing.T) {
	params := func(src string) string {
		b, err := json.Marshal(decodeStage(t, src).Params())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plain := params(catalogBlock)
	if strings.Contains(plain, "precision") {
		t.Errorf("default params %s mention precision", plain)
	}
	if p := params(catalogBlock + `precision = "fp32"`); p != plain {
		t.Errorf("precision fp32: params %s, want %s", p, plain)
	}
	if p := params(catalogBlock + `precision = "bf16"`); !strings.Contains(p, `"precision":"bf16"`) {
		t.Errorf("precision bf16: params %s lack it", p)
	}
	for _, v := range []string{"fp16", ""} {
		_, diags := decode(t, catalogBlock+`precision = "`+v+`"`)
		if !diags.HasErrors() || diags[0].Summary != "Invalid precision" || diags[0].Subject == nil || diags[0].Subject.Start.Line != 4 {
			t.Errorf("precision %q: diagnostics %v, want Invalid precision on line 4", v, diags)
		}
	}
}

// The stage passes precision and its logger to the predictor: on a CPU
// without AVX512_BF16 the warning goes to the stage's log and the catalog
// is fp32's; on one with it, the catalog says bf16.
func TestStagePrecision(t *testing.T) {
	for _, has := range []bool{false, true} {
		if has && !model.BF16Supported() {
			continue
		}
		saved := cpuHasBF16
		cpuHasBF16 = func() bool { return has }
		dir, _ := stageFixture(t, 10, 16, BestCheckpoint, 5)
		s := decodeStage(t, catalogBlock+`precision = "bf16"`)
		var buf bytes.Buffer
		env := sourcetest.Env(t, dir, s, hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Info}))
		err := s.Run(context.Background(), env)
		cpuHasBF16 = saved
		if err != nil {
			t.Fatal(err)
		}
		cat, err := table.Open(filepath.Join(dir, "catalog"))
		if err != nil {
			t.Fatal(err)
		}
		got := cat.Manifest().Metadata[MetaPrecision]
		warned := strings.Contains(buf.String(), "predicting in fp32")
		if has && (got != "bf16" || warned) || !has && (got != "" || !warned) {
			t.Errorf("AVX512_BF16 %v: catalog precision %q, fallback warning %v; log:\n%s", has, got, warned, buf.String())
		}
	}
}
