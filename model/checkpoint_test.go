package model

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/internal/safetensors"
)

func randomState(s Spec, seed uint64) ([]*Param, []*Buffer) {
	rng := rand.New(rand.NewPCG(seed, 1))
	params, buffers := Allocate(s)
	for _, p := range params {
		for i := range p.Data {
			p.Data[i] = float32(rng.NormFloat64())
		}
	}
	for _, b := range buffers {
		for i := range b.Data {
			b.Data[i] = float32(rng.IntN(1000))
		}
	}
	return params, buffers
}

func openCheckpoint(t *testing.T, path string) (*StateDict, Meta) {
	t.Helper()
	sd, meta, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sd.Close() })
	return sd, meta
}

func TestSaveReadApplyRoundTrip(t *testing.T) {
	s := mustSpec(t, "astroformer_nano", 64, 64, 3)
	params, buffers := randomState(s, 1)
	meta := Meta{
		Variant: s.Variant, ImageH: 64, ImageW: 64, InChans: 3, Classes: 3,
		ClassNames: []string{"Disturbed", "Merging, \"tidal\"", "Round Smooth"},
		Normalize:  Normalize{Mean: []float32{0.1, 0.2, 0.3}, Std: []float32{0.5, 0.5, 0.25}},
		Provenance: map[string]string{"job": "g10", "epoch": "3", "step": "1200"},
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := SaveWeights(path, params, buffers, meta); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %d entries after save, want only the checkpoint", len(entries))
	}

	sd, got := openCheckpoint(t, path)
	if !reflect.DeepEqual(got, meta) {
		t.Errorf("meta = %+v\nwant %+v", got, meta)
	}
	p2, b2 := Allocate(s)
	r, err := sd.Apply(p2, b2, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Loaded) != len(params)+len(buffers) || !r.ok() || len(r.Skipped) != 0 {
		t.Errorf("report: %v", r)
	}
	for i := range params {
		if !slices.Equal(params[i].Data, p2[i].Data) {
			t.Fatalf("%s differs after a round trip", params[i].Name)
		}
	}
	for i := range buffers {
		if !slices.Equal(buffers[i].Data, b2[i].Data) {
			t.Fatalf("%s differs after a round trip", buffers[i].Name)
		}
	}

	// The header is readable by anyone: flat keys and I64 counters.
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	md := f.Metadata()
	for k, v := range map[string]string{MetaVariant: "astroformer_nano", MetaClasses: "3", MetaImageW: "64", MetaInChans: "3",
		MetaConfig: `{"embed_dim":[32,64,128,256],"depths":[1,1,2,1],"stem_width":32,"head_hidden":256}`} {
		if md[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, md[k], v)
		}
	}
	if ti, _ := f.Tensor("stem.norm1.num_batches_tracked"); ti.DType != safetensors.I64 || len(ti.Shape) != 0 {
		t.Errorf("num_batches_tracked stored as %s %v", ti.DType, ti.Shape)
	}

	// Saving over an existing checkpoint replaces it.
	meta.Provenance["epoch"] = "4"
	if err := SaveWeights(path, params, buffers, meta); err != nil {
		t.Fatal(err)
	}
	if _, got := openCheckpoint(t, path); got.Provenance["epoch"] != "4" {
		t.Errorf("second save not visible: %v", got.Provenance)
	}
}

func TestSaveRejects(t *testing.T) {
	s := goldenSpec(t, 64, 64, 10)
	params, buffers := Allocate(s)
	dir := t.TempDir()
	if err := SaveWeights(filepath.Join(dir, "a"), params, buffers, Meta{Classes: 10, ClassNames: []string{"x"}}); err == nil {
		t.Error("saved with 1 class name for 10 classes")
	}
	params[0].Data = params[0].Data[:1]
	if err := SaveWeights(filepath.Join(dir, "b"), params, buffers, Meta{}); err == nil || !strings.Contains(err.Error(), "stem.conv1.weight") {
		t.Errorf("short parameter: error %v", err)
	}
	if err := SaveWeights(filepath.Join(dir, "missing", "c"), nil, nil, Meta{}); err == nil {
		t.Error("saved into a missing folder")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed saves left %d files behind", len(entries))
	}
}

// TestApplyReferenceWeights loads the PyTorch reference state_dict strictly
// and checks every value against the file.
func TestApplyReferenceWeights(t *testing.T) {
	path := filepath.Join(vectorsDir(t), "tiny_64x64.weights.safetensors")
	sd, meta := openCheckpoint(t, path)
	if meta.Variant != "golden_tiny" || meta.ImageH != 64 || meta.Classes != 10 {
		t.Errorf("meta from the reference's flat keys: %+v", meta)
	}
	params, buffers := Allocate(goldenSpec(t, 64, 64, 10))
	r, err := sd.Apply(params, buffers, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Loaded) != len(sd.Names()) {
		t.Errorf("loaded %d of %d tensors", len(r.Loaded), len(sd.Names()))
	}
	for _, p := range params {
		want, err := sd.Float32(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Data, want) {
			t.Fatalf("%s not loaded", p.Name)
		}
	}
	for _, b := range buffers {
		if b.Kind == RunningVar && b.Data[0] == 1 {
			t.Errorf("%s still holds its initial value", b.Name)
		}
	}
}

func TestApplyMismatches(t *testing.T) {
	path := filepath.Join(vectorsDir(t), "tiny_64x64.weights.safetensors")
	sd, _ := openCheckpoint(t, path)

	// A 64x96 model has larger relative position tables.
	params, buffers := Allocate(goldenSpec(t, 64, 96, 10))
	_, err := sd.Apply(params, buffers, LoadOptions{})
	want := "2 with the wrong shape (stages.3.blocks.0.attn.rel_pos.relative_position_bias_table: shape [9 2] in file, model expects [15 2]"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v\nwant it to contain %q", err, want)
	}
	if params[0].Data[0] != 0 {
		t.Error("a failed strict load modified the model")
	}

	// A new head with 5 classes: partial load, or strict with the head skipped.
	s5 := goldenSpec(t, 64, 64, 5)
	params, buffers = Allocate(s5)
	r, err := sd.Apply(params, buffers, LoadOptions{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"head.fc.weight: shape [10 64] in file, model expects [5 64]", "head.fc.bias: shape [10] in file, model expects [5]"}; !slices.Equal(r.Mismatched, want) {
		t.Errorf("mismatched %v, want %v", r.Mismatched, want)
	}
	if len(r.Loaded) != len(sd.Names())-2 || len(r.Missing)+len(r.Unexpected) != 0 {
		t.Errorf("partial report: %v", r)
	}
	if last := params[len(params)-1]; last.Data[0] != 0 {
		t.Error("mis-shaped head was written")
	}
	skipHead := func(name string) bool { return strings.HasPrefix(name, "head.fc.") }
	params, buffers = Allocate(s5)
	r, err = sd.Apply(params, buffers, LoadOptions{Skip: skipHead})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Skipped) != 2 || len(r.Loaded) != len(sd.Names())-2 {
		t.Errorf("skip report: %v (skipped %v)", r, r.Skipped)
	}

	// Missing and unexpected tensors: a model without stage-3's second block
	// reading a file that has it, and vice versa.
	s := goldenSpec(t, 64, 64, 10)
	s.Depths[3] = 1
	params, buffers = Allocate(s)
	_, err = sd.Apply(params, buffers, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "13 unknown to the model (stages.3.blocks.1.") {
		t.Errorf("unexpected tensors: error %v", err)
	}
	dir := t.TempDir()
	small := filepath.Join(dir, "small.safetensors")
	if err := SaveWeights(small, params, buffers, Meta{}); err != nil {
		t.Fatal(err)
	}
	sdSmall, _ := openCheckpoint(t, small)
	params, buffers = Allocate(goldenSpec(t, 64, 64, 10))
	r, err = sdSmall.Apply(params, buffers, LoadOptions{Partial: true})
	if err != nil || len(r.Missing) != 13 || r.Missing[0] != "stages.3.blocks.1.norm1.weight" {
		t.Errorf("missing tensors: %v, %v (missing %v)", r, err, r.Missing)
	}
}

func TestInferSpec(t *testing.T) {
	dir := vectorsDir(t)
	sd, meta := openCheckpoint(t, filepath.Join(dir, "tiny_64x64.weights.safetensors"))
	s, err := InferSpec(sd, Meta{}) // shapes alone: 9 rows = a square 2x2 grid
	if err != nil {
		t.Fatal(err)
	}
	want := goldenSpec(t, 64, 64, 10)
	custom := want // golden_tiny is not a variant: only the file's metadata names it
	custom.Variant, custom.Name = "custom", "custom"
	if !reflect.DeepEqual(s, custom) {
		t.Errorf("InferSpec = %+v\nwant %+v", s, custom)
	}
	if s, err := InferSpec(sd, meta); err != nil || s != want {
		t.Errorf("InferSpec with the file's meta = %+v, %v", s, err)
	}
	if _, err := InferSpec(sd, Meta{Classes: 7}); err == nil || !strings.Contains(err.Error(), "7 classes") {
		t.Errorf("class count disagreement: error %v", err)
	}
	if _, err := InferSpec(sd, Meta{ImageH: 96, ImageW: 96}); err == nil || !strings.Contains(err.Error(), "96x96") {
		t.Errorf("image size disagreement: error %v", err)
	}

	sd, meta = openCheckpoint(t, filepath.Join(dir, "tiny_64x96.weights.safetensors"))
	_, err = InferSpec(sd, Meta{})
	if err == nil || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), "64x96, 96x64") {
		t.Errorf("rectangular grid without a size: error %v", err)
	}
	s, err = InferSpec(sd, Meta{Variant: "golden_tiny", ImageH: 64, ImageW: 96})
	if err != nil || s.ImageH != 64 || s.ImageW != 96 || s.Variant != "golden_tiny" {
		t.Errorf("InferSpec with a size = %+v, %v", s, err)
	}
	if s2, err := InferSpec(sd, meta); err != nil || s2 != s {
		t.Errorf("InferSpec with the file's meta = %+v, %v", s2, err)
	}
}

func TestInferSpecCustomAndNonAstroformer(t *testing.T) {
	s := Spec{Variant: "mine", Config: Config{Name: "mine", Dims: [4]int{8, 16, 24, 32}, Depths: [4]int{1, 1, 2, 3}, StemWidth: 8, HeadHidden: 16},
		ImageH: 96, ImageW: 96, InChans: 1, Classes: 4}
	params, buffers := Allocate(s)
	path := filepath.Join(t.TempDir(), "custom.safetensors")
	if err := SaveWeights(path, params, buffers, Meta{Variant: "mine"}); err != nil {
		t.Fatal(err)
	}
	sd, meta := openCheckpoint(t, path)
	got, err := InferSpec(sd, meta)
	if err != nil {
		t.Fatal(err)
	}
	if got != s {
		t.Errorf("InferSpec = %+v\nwant %+v", got, s)
	}

	other := filepath.Join(t.TempDir(), "other.safetensors")
	f, _ := os.Create(other)
	if err := safetensors.Write(f, []safetensors.Tensor{safetensors.F32Tensor("fc.weight", []int{1}, []float32{1})}, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sd, _ = openCheckpoint(t, other)
	if _, err := InferSpec(sd, Meta{}); err == nil || !strings.Contains(err.Error(), "not an Astroformer state_dict") {
		t.Errorf("non-Astroformer file: error %v", err)
	}
}

func TestSaveLoadNet(t *testing.T) {
	s := goldenSpec(t, 64, 96, 10)
	n := newNet(t, s, 3)
	n.Buffers()[0].Data[0] = 0.25
	path := filepath.Join(t.TempDir(), "net.safetensors")
	if err := Save(path, n, Meta{Provenance: map[string]string{"job": "test"}}); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, n, Meta{Classes: 3}); err == nil {
		t.Error("saved with metadata disagreeing with the model")
	}
	got, meta, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec() != s || meta.Variant != "golden_tiny" || meta.ImageW != 96 || meta.Provenance["job"] != "test" {
		t.Errorf("loaded spec %+v, meta %+v", got.Spec(), meta)
	}
	for i, p := range n.Params() {
		if !slices.Equal(p.Data, got.Params()[i].Data) {
			t.Fatalf("%s differs after Save and Load", p.Name)
		}
	}
	if got.Buffers()[0].Data[0] != 0.25 {
		t.Error("buffers not loaded")
	}

	// Fine-tuning: same body, a 4-class head.
	s4 := s
	s4.Classes = 4
	ft := newNet(t, s4, 4)
	r, _, err := LoadInto(path, ft, LoadOptions{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Mismatched) != 2 || len(r.Loaded) != len(n.Params())+len(n.Buffers())-2 {
		t.Errorf("fine-tuning load: %v", r)
	}
}
