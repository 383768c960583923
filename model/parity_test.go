package model

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/internal/safetensors"
)

// The parity tests compare the network with the PyTorch reference
// (shared/reference/astroformer_ref.py) on the vectors its make_vectors.py
// wrote: one <case>.weights.safetensors and <case>.vectors.safetensors pair
// per case, found by parityDir.
//
// Error measure: for each tensor, e = max|got − want| / max(floor, max|want|),
// the largest absolute error relative to the tensor's scale. The floor is 1
// for values (activations, logits, loss, running statistics, parameters) and
// 1e-4 for gradients, whose scale is often far below 1: relative to their
// own scale unless that is tiny (the pre-norm biases feeding a batch norm
// have a gradient that is zero but for rounding).
const (
	forwardTol = 1e-4 // activations, logits, loss, running statistics
	gradTol    = 1e-3 // gradients and parameters after one AdamW step

	valueFloor = 1
	gradFloor  = 1e-4
)

// parityDir returns the folder of the reference vectors: $ASTROFORMER_VECTORS
// or ../shared/testdata/astroformer from the repository root. It skips the
// test when the folder is absent.
func parityDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ASTROFORMER_VECTORS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "testdata", "astroformer")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no reference vectors: %v (set ASTROFORMER_VECTORS to their folder)", err)
	}
	return dir
}

// parityCase is one pair of reference files.
type parityCase struct {
	name             string
	weights, vectors *safetensors.File
	spec             Spec
	batch            int
	smoothing        float64
}

func openCase(t *testing.T, vectorsPath string) *parityCase {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(vectorsPath), ".vectors.safetensors")
	vec, err := safetensors.Open(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vec.Close() })
	w, err := safetensors.Open(filepath.Join(filepath.Dir(vectorsPath), name+".weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })

	meta := vec.Metadata()
	atoi := func(key string) int {
		v, err := strconv.Atoi(meta[key])
		if err != nil {
			t.Fatalf("%s: metadata %s=%q: %v", vectorsPath, key, meta[key], err)
		}
		return v
	}
	var cfg struct {
		EmbedDim   []int `json:"embed_dim"`
		Depths     []int `json:"depths"`
		StemWidth  int   `json:"stem_width"`
		HeadHidden int   `json:"head_hidden"`
	}
	if err := json.Unmarshal([]byte(meta["config"]), &cfg); err != nil || len(cfg.EmbedDim) != 4 || len(cfg.Depths) != 4 {
		t.Fatalf("%s: metadata config=%q: %v", vectorsPath, meta["config"], err)
	}
	input, ok := vec.Tensor("input")
	if !ok || len(input.Shape) != 4 {
		t.Fatalf("%s: no 4-dimensional input tensor", vectorsPath)
	}
	smoothing, err := strconv.ParseFloat(meta["label_smoothing"], 64)
	if err != nil {
		t.Fatalf("%s: metadata label_smoothing=%q: %v", vectorsPath, meta["label_smoothing"], err)
	}
	spec := Spec{
		Variant: meta["variant"],
		Config: Config{Name: meta["variant"], StemWidth: cfg.StemWidth, HeadHidden: cfg.HeadHidden,
			Dims: [4]int(cfg.EmbedDim), Depths: [4]int(cfg.Depths)},
		ImageH: atoi("image_height"), ImageW: atoi("image_width"), InChans: input.Shape[1], Classes: atoi("classes"),
	}
	return &parityCase{name: name, weights: w, vectors: vec, spec: spec, batch: atoi("batch"), smoothing: smoothing}
}

func (c *parityCase) tensor(t *testing.T, f *safetensors.File, name string) []float32 {
	t.Helper()
	d, err := f.Float32(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// newNet returns the network of the case with the reference weights.
func (c *parityCase) newNet(t *testing.T) *Net {
	t.Helper()
	n, err := New(c.spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, p := range n.Params() {
		if err := c.weights.ReadFloat32(p.Name, p.Data); err != nil {
			t.Fatal(err)
		}
		seen[p.Name] = true
	}
	for _, b := range n.Buffers() {
		if err := c.weights.ReadFloat32(b.Name, b.Data); err != nil {
			t.Fatal(err)
		}
		seen[b.Name] = true
	}
	for _, ti := range c.weights.Tensors() {
		if !seen[ti.Name] {
			t.Errorf("weights tensor %s is not a parameter or buffer of the network", ti.Name)
		}
	}
	return n
}

// errorLog collects the worst error of each group of tensors.
type errorLog struct {
	worst map[string]float64
	where map[string]string
}

func (l *errorLog) check(t *testing.T, group, name string, got, want []float32, tol, floor float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	var maxDiff, scale float64
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		maxDiff = max(maxDiff, d)
		scale = max(scale, math.Abs(float64(want[i])))
	}
	e := maxDiff / max(floor, scale)
	if e > tol {
		t.Errorf("%s: max |got-want| = %.3g, relative error %.3g > %g", name, maxDiff, e, tol)
	}
	if l.worst == nil {
		l.worst, l.where = make(map[string]float64), make(map[string]string)
	}
	if _, ok := l.worst[group]; !ok || e > l.worst[group] {
		l.worst[group], l.where[group] = e, name
	}
}

func (l *errorLog) report(t *testing.T) {
	groups := make([]string, 0, len(l.worst))
	for g := range l.worst {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		t.Logf("worst relative error %-12s %.3g (%s)", g, l.worst[g], l.where[g])
	}
}

func TestParity(t *testing.T) {
	dir := parityDir(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.vectors.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no *.vectors.safetensors in %s", dir)
	}
	for _, path := range paths {
		c := openCase(t, path)
		t.Run(c.name, func(t *testing.T) { testParityCase(t, c) })
	}
}

func testParityCase(t *testing.T, c *parityCase) {
	var log errorLog
	defer log.report(t)
	n := c.newNet(t)
	x := c.tensor(t, c.vectors, "input")

	acts, err := n.Activations(x, c.batch)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"stem", "stages.0", "stages.1", "stages.2", "stages.3"} {
		log.check(t, "activations", "act."+name, acts[name], c.tensor(t, c.vectors, "act."+name), forwardTol, valueFloor)
	}
	logits, err := n.Forward(x, c.batch)
	if err != nil {
		t.Fatal(err)
	}
	log.check(t, "logits.eval", "logits.eval", logits, c.tensor(t, c.vectors, "logits.eval"), forwardTol, valueFloor)

	labels, err := c.vectors.Int64("labels")
	if err != nil {
		t.Fatal(err)
	}
	targets := smoothTargets(labels, c.spec.Classes, c.smoothing)
	loss, err := n.TrainStep(x, targets, c.batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	log.check(t, "logits.train", "logits.train", trainLogits(t, n, c.batch), c.tensor(t, c.vectors, "logits.train"), forwardTol, valueFloor)
	log.check(t, "loss.train", "loss.train", []float32{float32(loss)}, c.tensor(t, c.vectors, "loss.train"), forwardTol, valueFloor)
	for _, p := range n.Params() {
		log.check(t, "grad", "grad."+p.Name, p.Grad, c.tensor(t, c.vectors, "grad."+p.Name), gradTol, gradFloor)
	}
	for _, b := range n.Buffers() {
		if b.Kind == RunningMean || b.Kind == RunningVar {
			log.check(t, "after_train", "after_train."+b.Name, b.Data, c.tensor(t, c.vectors, "after_train."+b.Name), forwardTol, valueFloor)
		}
	}

	// The optimiser step starts from the reference gradients: Adam's first
	// step moves every parameter by about lr·sign(g), so the parameters with
	// a gradient of pure rounding noise would move by chance.
	for _, p := range n.Params() {
		copy(p.Grad, c.tensor(t, c.vectors, "grad."+p.Name))
	}
	opt := NewAdamW(n.Params(), 1e-3, 0.05)
	opt.Update(n.Params())
	for _, p := range n.Params() {
		log.check(t, "adamw_step1", "adamw_step1."+p.Name, p.Data, c.tensor(t, c.vectors, "adamw_step1."+p.Name), gradTol, valueFloor)
	}
}

// smoothTargets returns one-hot targets with label smoothing eps, as
// F.cross_entropy(label_smoothing=eps) uses them.
func smoothTargets(labels []int64, classes int, eps float64) []float32 {
	t := make([]float32, len(labels)*classes)
	for n, l := range labels {
		for k := range classes {
			v := eps / float64(classes)
			if int64(k) == l {
				v += 1 - eps
			}
			t[n*classes+k] = float32(v)
		}
	}
	return t
}

// trainLogits returns the logits of the last training step of batch size
// batch.
func trainLogits(t *testing.T, n *Net, batch int) []float32 {
	for _, g := range n.graphs {
		if g.train && g.batch == batch {
			return opOf(g.logits).data
		}
	}
	t.Fatal(fmt.Sprintf("no training graph for batch %d", batch))
	return nil
}
