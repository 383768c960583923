package predict

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/policy"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

func TestProbabilityFunctions(t *testing.T) {
	p := make([]float64, 3)
	softmax(p, []float32{0, float32(math.Log(2)), float32(math.Log(3))})
	for i, want := range []float64{1.0 / 6, 2.0 / 6, 3.0 / 6} {
		if math.Abs(p[i]-want) > 1e-7 {
			t.Errorf("softmax[%d] = %g, want %g", i, p[i], want)
		}
	}
	softmax(p, []float32{1000, 1000, -1000}) // no overflow
	if math.Abs(p[0]-0.5) > 1e-12 || p[2] != 0 {
		t.Errorf("softmax of large logits = %v", p)
	}
	// Two views of one row of two classes: (0.2, 0.8) and (0.6, 0.4).
	mean, std := combineViews([]float64{0.2, 0.8, 0.6, 0.4}, 2, 1, 2)
	for i, want := range []float64{0.4, 0.6} {
		if math.Abs(mean[i]-want) > 1e-15 || math.Abs(std[i]-0.2) > 1e-15 {
			t.Errorf("class %d: mean %g std %g, want %g and 0.2", i, mean[i], std[i], want)
		}
	}
	if h := entropy([]float64{0.5, 0.5, 0}); math.Abs(h-math.Ln2) > 1e-15 {
		t.Errorf("entropy(0.5, 0.5, 0) = %g, want ln 2", h)
	}
	if k := argmax([]float64{0.1, 0.45, 0.45}); k != 1 {
		t.Errorf("argmax with a tie = %d, want the first, 1", k)
	}
}

// collect is a Sink that keeps the records.
type collect struct{ recs []arrow.Record }

func (c *collect) Write(rec arrow.Record) error {
	rec.Retain()
	c.recs = append(c.recs, rec)
	return nil
}

// The probabilities written with test-time augmentation are the mean over
// the eight dihedral views of each view's softmax, and _std their
// population standard deviation, computed here independently.
func TestTTAAveragesViewSoftmaxes(t *testing.T) {
	dir := t.TempDir()
	const size = 8
	writeCutouts(t, filepath.Join(dir, "cutouts"), 12, size, 5)
	in := openCutouts(t, filepath.Join(dir, "cutouts"))
	m, net := stubModel(size, "stub")
	pred, err := NewPredictor(m, Options{TTA: 8, BatchSize: 3, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var sink collect
	st, err := pred.Run(context.Background(), in, catalog.Shard{Count: 1}, &sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 12 || st.Views != 8 {
		t.Fatalf("stats %+v, want 12 rows and 8 views", st)
	}
	out := tabletest.Concat(t, pred.Schema(), sink.recs)
	defer out.Release()
	cut := tabletest.ReadAll(t, filepath.Join(dir, "cutouts"))
	defer cut.Release()

	col := func(name string) arrow.Array { return out.Column(out.Schema().FieldIndices(name)[0]) }
	pixels, err := schemas.Column[*array.Binary]("cutouts", cut, "pixels")
	if err != nil {
		t.Fatal(err)
	}
	classes := testClasses()
	for r := range int(out.NumRows()) {
		img, err := policy.FromHWC(pixels.Value(r), size, size, 3)
		if err != nil {
			t.Fatal(err)
		}
		sum, sumSq := make([]float64, len(classes)), make([]float64, len(classes))
		for v := range 8 {
			view := policy.Dihedral(img, v) // crop_pct 1 at the model size: the evaluation view is the image
			x := make([]float32, len(view.Pix))
			for i, px := range view.Pix {
				x[i] = (px - 0.5) / 0.25
			}
			logits := net.logits(x)
			var z float64
			for _, l := range logits {
				z += math.Exp(float64(l))
			}
			for k, l := range logits {
				p := math.Exp(float64(l)) / z
				sum[k] += p
				sumSq[k] += p * p
			}
		}
		best := 0
		for k, name := range classes {
			mean := sum[k] / 8
			std := math.Sqrt(math.Max(0, sumSq[k]/8-mean*mean))
			if got := float64(col(schemas.ProbColumn(name)).(*array.Float32).Value(r)); math.Abs(got-mean) > 1e-6 {
				t.Errorf("row %d %s = %g, want the mean of the view softmaxes %g", r, schemas.ProbColumn(name), got, mean)
			}
			if got := float64(col(schemas.ProbStdColumn(name)).(*array.Float32).Value(r)); math.Abs(got-std) > 1e-6 {
				t.Errorf("row %d %s = %g, want %g", r, schemas.ProbStdColumn(name), got, std)
			}
			if sum[k] > sum[best] {
				best = k
			}
		}
		if got := col("predicted_class").(*array.Int16).Value(r); int(got) != best {
			t.Errorf("row %d: predicted_class %d, want %d", r, got, best)
		}
		if got := col("confidence").(*array.Float32).Value(r); math.Abs(float64(got)-sum[best]/8) > 1e-6 {
			t.Errorf("row %d: confidence %g, want %g", r, got, sum[best]/8)
		}
		if got := col("tta_views").(*array.Int16).Value(r); got != 8 {
			t.Errorf("row %d: tta_views %d, want 8", r, got)
		}
	}
	// Parts of 5, 5 and 2 rows in batches of at most 3 that never span
	// parts: 3+2, 3+2, 2.
	if net.calls != 8*5 {
		t.Errorf("%d forward passes, want 8 views × 5 batches", net.calls)
	}
}

// The stage writes a catalog with the schema, metadata and values of its
// contract, readable by arrow-go's own Parquet reader.
func TestStageWritesCatalog(t *testing.T) {
	dir, ckpt := stageFixture(t, 40, 16, BestCheckpoint, 1)
	s := decodeStage(t, catalogBlock+`
		tta = 2
		batch_size = 8
		workers = 2
	`)
	env := runStage(t, dir, s)
	classes := testClasses()
	cat, err := table.OpenAs(filepath.Join(dir, "catalog"), schemas.Catalog(classes, true))
	if err != nil {
		t.Fatal(err)
	}
	md := cat.Manifest().Metadata
	var names []string
	if err := json.Unmarshal([]byte(md[catalog.MetaClassNames]), &names); err != nil || !slices.Equal(names, classes) {
		t.Errorf("%s = %q (%v), want %q", catalog.MetaClassNames, md[catalog.MetaClassNames], err, classes)
	}
	sum, err := fileSHA256(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		catalog.MetaModelVariant:     "golden_tiny",
		catalog.MetaCheckpointSHA256: sum,
		catalog.MetaCheckpoint:       ckpt,
		catalog.MetaImageSize:        "32x32",
		catalog.MetaInChans:          "3",
		catalog.MetaTTAViews:         "2",
		catalog.MetaCropPct:          "1",
		catalog.MetaJob:              "test",
		catalog.MetaInput:            "cutouts",
		catalog.MetaInputFingerprint: "cutouts-fp",
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, md[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339, md[catalog.MetaCreated]); err != nil {
		t.Errorf("metadata %s = %q: %v", catalog.MetaCreated, md[catalog.MetaCreated], err)
	}
	var norm map[string][]float64
	if err := json.Unmarshal([]byte(md[catalog.MetaNormalize]), &norm); err != nil || len(norm["mean"]) != 3 || math.Abs(norm["std"][1]-0.2) > 1e-6 {
		t.Errorf("metadata %s = %q (%v)", catalog.MetaNormalize, md[catalog.MetaNormalize], err)
	}

	out := tabletest.ReadAll(t, filepath.Join(dir, "catalog"))
	defer out.Release()
	cut := tabletest.ReadAll(t, filepath.Join(dir, "cutouts"))
	defer cut.Release()
	if out.NumRows() != 40 {
		t.Fatalf("%d rows, want 40", out.NumRows())
	}
	// Identity and truth columns are the input's, nulls included.
	for c, name := range []string{"object_id", "ra", "dec", "label", "label_name", "split"} {
		if got := out.Column(c); !array.Equal(got, cut.Column(c)) {
			t.Errorf("column %s differs from the input", name)
		}
	}
	checkCatalogRows(t, out, classes, 2)

	// An independent reader sees the same schema (with units), metadata
	// and values.
	pf := tabletest.ParquetFile(t, filepath.Join(dir, "catalog", cat.Manifest().Parts[0].File))
	kv := pf.MetaData().KeyValueMetadata()
	if v := kv.FindValue(catalog.MetaClassNames); v == nil || *v != md[catalog.MetaClassNames] {
		t.Errorf("Parquet footer %s = %v, want %q", catalog.MetaClassNames, v, md[catalog.MetaClassNames])
	}
	if v := kv.FindValue(catalog.MetaCheckpointSHA256); v == nil || *v != sum {
		t.Errorf("Parquet footer lacks the checkpoint SHA-256")
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	sch := tbl.Schema()
	for _, c := range []struct{ col, unit string }{{"ra", "deg"}, {"dec", "deg"}, {"entropy", ""}} {
		f := sch.Field(sch.FieldIndices(c.col)[0])
		if u, _ := f.Metadata.GetValue(schemas.MetaUnit); u != c.unit {
			t.Errorf("pqarrow: column %s unit %q, want %q", c.col, u, c.unit)
		}
		if d, _ := f.Metadata.GetValue(schemas.MetaDescription); d == "" {
			t.Errorf("pqarrow: column %s has no description", c.col)
		}
	}
	if err := schemas.Validate("pqarrow", sch, schemas.Catalog(classes, true)); err != nil {
		t.Errorf("pqarrow schema: %v", err)
	}
	pc := tbl.Column(sch.FieldIndices("p_barred_spiral")[0]).Data().Chunk(0).(*array.Float32)
	want0 := out.Column(out.Schema().FieldIndices("p_barred_spiral")[0]).(*array.Float32)
	for i := range pc.Len() {
		if pc.Value(i) != want0.Value(i) {
			t.Fatalf("pqarrow: p_barred_spiral row %d = %g, the table reader %g", i, pc.Value(i), want0.Value(i))
		}
	}
	if sum := env.Summary(); len(sum) == 0 || !strings.Contains(sum[0], "40 cutouts") {
		t.Errorf("summary %q", sum)
	}
}

// checkCatalogRows checks the consistency of the derived columns.
func checkCatalogRows(t *testing.T, out arrow.Record, classes []string, views int) {
	t.Helper()
	col := func(name string) arrow.Array { return out.Column(out.Schema().FieldIndices(name)[0]) }
	for r := range int(out.NumRows()) {
		p := make([]float64, len(classes))
		var total float64
		for k, name := range classes {
			p[k] = float64(col(schemas.ProbColumn(name)).(*array.Float32).Value(r))
			total += p[k]
			if views > 1 {
				if s := col(schemas.ProbStdColumn(name)).(*array.Float32).Value(r); !(s >= 0 && s <= 0.5) {
					t.Errorf("row %d: %s = %g", r, schemas.ProbStdColumn(name), s)
				}
			}
		}
		if math.Abs(total-1) > 1e-5 {
			t.Errorf("row %d: probabilities sum to %g", r, total)
		}
		k := int(col("predicted_class").(*array.Int16).Value(r))
		if k != argmax(p) || col("predicted_label").(*array.String).Value(r) != classes[k] {
			t.Errorf("row %d: predicted %d %q for probabilities %v", r, k, col("predicted_label").(*array.String).Value(r), p)
		}
		if c := float64(col("confidence").(*array.Float32).Value(r)); math.Abs(c-p[k]) > 1e-6 {
			t.Errorf("row %d: confidence %g, p %g", r, c, p[k])
		}
		if h := float64(col("entropy").(*array.Float32).Value(r)); math.Abs(h-entropy(p)) > 1e-5 {
			t.Errorf("row %d: entropy %g, want %g", r, h, entropy(p))
		}
	}
}

// Three shards merged equal one unsharded run, row for row and bit for bit.
func TestShardsMergeToUnshardedRun(t *testing.T) {
	dir, ckpt := stageFixture(t, 45, 20, FinalCheckpoint, 2)
	in := openCutouts(t, filepath.Join(dir, "cutouts"))
	m, err := LoadModel(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := NewPredictor(m, Options{BatchSize: 8, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	header := artifact.Manifest{Name: "catalog", Stage: "predict", Kind: Kind, Fingerprint: "fp", Producer: "test"}
	ctx := context.Background()
	if _, _, err := WriteTable(ctx, pred, in, catalog.Shard{Count: 1}, Output{Dir: filepath.Join(dir, "whole"), Manifest: header}, nil); err != nil {
		t.Fatal(err)
	}
	merged := filepath.Join(dir, "merged")
	for _, i := range []int{2, 0, 1} { // any order
		s := catalog.Shard{Index: i, Count: 3}
		if _, _, err := WriteTable(ctx, pred, in, s, Output{Dir: catalog.ShardDir(merged, s), Manifest: header}, nil); err != nil {
			t.Fatal(err)
		}
	}
	mm, err := catalog.Merge(ctx, merged, catalog.MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mm.Rows != 45 || mm.Metadata[catalog.MetaShards] != "3" || mm.Metadata[catalog.MetaShard] != "" {
		t.Errorf("merged manifest: %d rows, metadata %v", mm.Rows, mm.Metadata)
	}
	if _, err := os.Stat(catalog.ShardsDir(merged)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("shards folder left after merge: %v", err)
	}
	if err := table.Verify(merged); err != nil {
		t.Fatal(err)
	}
	a, b := tabletest.ReadAll(t, filepath.Join(dir, "whole")), tabletest.ReadAll(t, merged)
	defer a.Release()
	defer b.Release()
	if a.NumRows() != b.NumRows() {
		t.Fatalf("unsharded %d rows, merged %d", a.NumRows(), b.NumRows())
	}
	// With gonum's BLAS every row is computed the same way whatever batch it
	// falls in, so the tables are bit-identical. OpenBLAS picks its kernels by
	// matrix size, and a shard's last batch is smaller than the unsharded
	// run's, so probabilities there may differ in the last bits.
	tol := 0.0
	if model.BLAS != "gonum" {
		tol = 1e-5
	}
	for c := range int(a.NumCols()) {
		ca, cb := a.Column(c), b.Column(c)
		fa, okA := ca.(*array.Float32)
		fb, okB := cb.(*array.Float32)
		if tol > 0 && okA && okB {
			if !array.ApproxEqual(fa, fb, array.WithAbsTolerance(tol)) {
				t.Errorf("column %s differs by more than %g between the unsharded run and the merged shards", a.ColumnName(c), tol)
			}
			continue
		}
		if !array.Equal(ca, cb) {
			t.Errorf("column %s differs between the unsharded run and the merged shards", a.ColumnName(c))
		}
	}
}

// A run interrupted after two input chunks keeps them, and the rerun
// predicts only the rest; the result equals an uninterrupted run.
func TestResumeAfterInterruption(t *testing.T) {
	dir := t.TempDir()
	writeCutouts(t, filepath.Join(dir, "cutouts"), 40, 8, 10)
	in := openCutouts(t, filepath.Join(dir, "cutouts"))
	header := artifact.Manifest{Name: "catalog", Stage: "predict", Kind: Kind, Fingerprint: "fp", Producer: "test"}
	run := func(ctx context.Context, out string, progress func(int)) (Stats, error) {
		m, _ := stubModel(8, "stub")
		pred, err := NewPredictor(m, Options{BatchSize: 4, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		_, st, err := WriteTable(ctx, pred, in, catalog.Shard{Count: 1}, Output{Dir: out, Manifest: header}, progress)
		return st, err
	}
	out := filepath.Join(dir, "catalog")
	ctx, cancel := context.WithCancel(context.Background())
	var done int
	_, err := run(ctx, out, func(n int) {
		if done += n; done >= 20 { // parts of 10 rows: two chunks recorded
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	if _, err := artifact.ReadManifest(out); err == nil {
		t.Fatal("an interrupted run committed its output")
	}
	st, err := run(context.Background(), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Resumed != 20 || st.Rows != 20 {
		t.Errorf("rerun: %d rows resumed, %d predicted; want 20 and 20", st.Resumed, st.Rows)
	}
	if _, err := run(context.Background(), filepath.Join(dir, "whole"), nil); err != nil {
		t.Fatal(err)
	}
	a, b := tabletest.ReadAll(t, out), tabletest.ReadAll(t, filepath.Join(dir, "whole"))
	defer a.Release()
	defer b.Release()
	for c := range int(a.NumCols()) {
		if !array.Equal(a.Column(c), b.Column(c)) {
			t.Errorf("column %s differs between the resumed and the uninterrupted run", a.ColumnName(c))
		}
	}
}

// The catalog streamed as Arrow IPC reads back with arrow-go's IPC reader,
// schema metadata included, and equals the table written.
func TestArrowIPCStream(t *testing.T) {
	dir := t.TempDir()
	writeCutouts(t, filepath.Join(dir, "cutouts"), 30, 8, 100)
	in := openCutouts(t, filepath.Join(dir, "cutouts"))
	m, _ := stubModel(8, "stub")
	pred, err := NewPredictor(m, Options{TTA: 4, BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(pred.Schema()))
	if _, err := pred.Run(context.Background(), in, catalog.Shard{Count: 1}, w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if u, _ := r.Schema().Field(1).Metadata.GetValue(schemas.MetaUnit); u != "deg" {
		t.Errorf("IPC schema: ra unit %q, want deg", u)
	}
	got := tabletest.Concat(t, r.Schema(), tabletest.Records(t, r))
	defer got.Release()

	header := artifact.Manifest{Name: "catalog", Stage: "predict", Kind: Kind, Fingerprint: "fp", Producer: "test"}
	if _, _, err := WriteTable(context.Background(), pred, in, catalog.Shard{Count: 1}, Output{Dir: filepath.Join(dir, "catalog"), Manifest: header}, nil); err != nil {
		t.Fatal(err)
	}
	want := tabletest.ReadAll(t, filepath.Join(dir, "catalog"))
	defer want.Release()
	if !array.RecordEqual(got, want) {
		t.Error("the IPC stream differs from the table")
	}
	checkCatalogRows(t, got, testClasses(), 4)
}

func TestPredictErrors(t *testing.T) {
	dir := t.TempDir()
	writeCutouts(t, filepath.Join(dir, "cutouts"), 6, 8, 100)
	in := openCutouts(t, filepath.Join(dir, "cutouts"))
	m, _ := stubModel(8, "stub")
	m.Meta.InChans = 1
	pred, err := NewPredictor(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pred.Run(context.Background(), in, catalog.Shard{Count: 1}, &collect{}, nil)
	if err == nil || !strings.Contains(err.Error(), `object "obj-00000" (row 0): 3 channels, but the model takes 1`) {
		t.Errorf("RGB cutouts into a one-channel model: %v", err)
	}

	m, _ = stubModel(8, "stub")
	m.Meta.ImageW = 16
	if _, err := NewPredictor(m, Options{TTA: 8}); err == nil || !strings.Contains(err.Error(), "square") {
		t.Errorf("8 views of a non-square input: %v", err)
	}
	m, _ = stubModel(8, "stub")
	if _, err := NewPredictor(m, Options{ClassNames: []string{"a", "b"}}); err == nil || !strings.Contains(err.Error(), "2 class names for a model of 3 classes") {
		t.Errorf("wrong number of class names: %v", err)
	}
}

func TestCheckpointFile(t *testing.T) {
	dir := t.TempDir()
	final := writeCheckpoint(t, filepath.Join(dir, "model"), FinalCheckpoint, 1)
	for _, c := range []struct{ ref, name, want, err string }{
		{filepath.Join(dir, "model"), "", final, ""}, // no best: the final one
		{filepath.Join(dir, "model"), "model", final, ""},
		{filepath.Join(dir, "model"), "best", "", "best.safetensors"},
		{final, "", final, ""},
		{final, "best", "", "only applies to a model folder"},
		{filepath.Join(dir, "nothing"), "", "", "no such file"},
	} {
		got, err := CheckpointFile(c.ref, c.name)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("CheckpointFile(%s, %q): %v, want an error with %q", c.ref, c.name, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CheckpointFile(%s, %q) = %s, %v; want %s", c.ref, c.name, got, err, c.want)
		}
	}
	os.WriteFile(filepath.Join(dir, "model", "policy.json"), []byte(`{"seed": 1, "policy": {"height": 32, "crop_pct": 0.875}}`), 0o644)
	m, err := LoadModel(final)
	if err != nil {
		t.Fatal(err)
	}
	if m.CropPct != 0.875 || m.Meta.Variant != "golden_tiny" || len(m.SHA256) != 64 {
		t.Errorf("LoadModel: crop %g, variant %q, sha %q", m.CropPct, m.Meta.Variant, m.SHA256)
	}
}

func decodeStage(t *testing.T, src string) *stage {
	t.Helper()
	s, diags := decode(t, src)
	if diags.HasErrors() {
		t.Fatalf("decode: %s", diags)
	}
	return s.(*stage)
}

func decode(t *testing.T, src string) (any, hcl.Diagnostics) {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "job.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return Decode("predict", f.Body, &hcl.EvalContext{})
}

func TestDecode(t *testing.T) {
	s := decodeStage(t, catalogBlock+"healpix_order = 4")
	if !slices.Equal(s.Inputs(), []string{"cutouts", "model"}) || !slices.Equal(s.Outputs(), []string{"catalog", "catalog_hats"}) {
		t.Errorf("inputs %v, outputs %v", s.Inputs(), s.Outputs())
	}
	if s.p.TTA != 1 || s.batchSize != DefaultBatchSize || s.workers < 1 {
		t.Errorf("defaults: %+v, batch %d, workers %d", s.p, s.batchSize, s.workers)
	}
	ckpt := filepath.Join(t.TempDir(), "x.safetensors")
	os.WriteFile(ckpt, []byte("weights"), 0o644)
	s = decodeStage(t, `input = "cutouts"
		output = "catalog"
		checkpoint_file = "`+ckpt+`"`)
	if sum, _ := fileSHA256(ckpt); s.p.CheckpointSHA256 != sum || len(sum) != 64 || !slices.Equal(s.Inputs(), []string{"cutouts"}) {
		t.Errorf("checkpoint_file: %+v, inputs %v", s.p, s.Inputs())
	}
	// withModel starts a block that names the input, output and model.
	const withModel = "input = \"c\"\noutput = \"o\"\nmodel = \"m\"\n"
	for _, c := range []struct{ src, want string }{
		{`input = "c"
		  output = "o"`, "No model"},
		{withModel + `checkpoint_file = "x"`, "Two models"},
		{`input = "c"
		  output = "c"
		  model = "m"`, "Output overwrites input"},
		{withModel + `tta = 9`, "Invalid tta"},
		{withModel + `healpix_order = 30`, "Invalid healpix_order"},
		{withModel + `hats = "h"`, "hats without healpix_order"},
		{withModel + `class_names = ["A b", "a-B"]`, "Invalid class_names"},
		{`input = "c"
		  output = "o"
		  checkpoint_file = "/nonexistent.safetensors"`, "Unreadable checkpoint"},
		{withModel + `crop_pct = 0`, "Invalid crop_pct"},
	} {
		_, diags := decode(t, c.src)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
			t.Errorf("%s: diagnostics %v, want %q", c.src, diags, c.want)
		}
	}
}
