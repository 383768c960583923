package predict

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/model/modeltest"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// testClasses are the class names of the test models.
func testClasses() []string {
	return []string{"Round Smooth Galaxies", "Barred Spiral Galaxies", "Edge-on Galaxies with Bulge"}
}

// writeCutouts writes a cutouts table of n random size×size RGB cutouts to
// dir. Every 7th row has no position, every 5th no label.
func writeCutouts(t testing.TB, dir string, n, size int, rowsPerPart int64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), 9))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schemas.Cutouts())
	defer b.Release()
	cw, err := schemas.NewCutoutsWriter(b)
	if err != nil {
		t.Fatal(err)
	}
	names := testClasses()
	for i := range n {
		c := schemas.CutoutRow{
			Height: int32(size), Width: int32(size), Channels: 3,
			PixelScale: schemas.Some(0.262), Bands: "grz", Source: "test",
		}
		c.ObjectID, c.Split = fmt.Sprintf("obj-%05d", i), []string{"train", "val", "test", ""}[i%4]
		if i%7 != 3 {
			c.RA = schemas.Some(360 * rng.Float64())
			c.Dec = schemas.Some(180*rng.Float64() - 90)
		}
		if i%5 != 4 {
			l := i % len(names)
			c.Label, c.LabelName = schemas.Some(int16(l)), schemas.Some(names[l])
		}
		c.Pixels = make([]byte, size*size*3)
		for j := range c.Pixels {
			c.Pixels[j] = byte(rng.IntN(256))
		}
		cw.Append(&c)
	}
	rec := b.NewRecord()
	defer rec.Release()
	m := artifact.Manifest{Name: filepath.Base(dir), Stage: "test", Kind: "test", Fingerprint: "cutouts-fp", Producer: "test"}
	tabletest.Write(t, dir, schemas.Cutouts(), table.Options{RowsPerPart: rowsPerPart, RowGroupRows: 16, Manifest: m}, rec)
}

// stageFixture makes a workdir holding the cutouts table of n random 32×32
// cutouts (see writeCutouts) and a model folder with the checkpoint name
// (see writeCheckpoint); it returns the workdir and the checkpoint's path.
func stageFixture(t testing.TB, n int, rowsPerPart int64, name string, seed int64) (dir, ckpt string) {
	t.Helper()
	dir = t.TempDir()
	writeCutouts(t, filepath.Join(dir, "cutouts"), n, 32, rowsPerPart)
	return dir, writeCheckpoint(t, filepath.Join(dir, "model"), name, seed)
}

// catalogBlock is the body of a stage block that predicts the catalog of a
// stageFixture workdir's cutouts with its model; tests append settings.
const catalogBlock = "input = \"cutouts\"\noutput = \"catalog\"\nmodel = \"model\"\n"

// runStage runs s in the workdir dir and returns its Env.
func runStage(t testing.TB, dir string, s *stage) *pipeline.Env {
	t.Helper()
	env := sourcetest.Env(t, dir, s, nil)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	return env
}

// openCutouts opens the cutouts table in dir.
func openCutouts(t testing.TB, dir string) *table.Table {
	t.Helper()
	in, err := table.OpenAs(dir, schemas.Cutouts())
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// writeCheckpoint saves a freshly initialised golden_tiny model for 32×32
// RGB cutouts and the test classes, with normalisation, into the model
// folder dir (with a manifest, as the train stage writes it) and returns
// the checkpoint path.
func writeCheckpoint(t testing.TB, dir string, name string, seed int64) string {
	t.Helper()
	cfg := modeltest.GoldenTiny()
	net, err := model.New(model.Spec{Variant: cfg.Name, Config: cfg, ImageH: 32, ImageW: 32, InChans: 3, Classes: len(testClasses())}, seed)
	if err != nil {
		t.Fatal(err)
	}
	staging, err := artifact.Stage(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(staging, name)
	meta := model.Meta{ClassNames: testClasses(), Normalize: model.Normalize{Mean: []float32{0.5, 0.4, 0.3}, Std: []float32{0.25, 0.2, 0.3}}}
	if err := model.Save(path, net, meta); err != nil {
		t.Fatal(err)
	}
	m := artifact.Manifest{Format: artifact.ModelFormat, Name: filepath.Base(dir), Stage: "train", Kind: "train",
		Fingerprint: fmt.Sprintf("model-fp-%d", seed), Producer: "test"}
	if err := artifact.WriteManifest(staging, &m); err != nil {
		t.Fatal(err)
	}
	if err := artifact.Commit(staging, dir); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// stubNet is a Classifier whose logits are fixed linear functions of the
// pixels, so that every test-time view of a cutout scores differently.
type stubNet struct {
	classes, size int
	weights       []float32 // [classes][size]
	calls         int
	onForward     func(calls int)
}

func newStubNet(classes, c, h, w int) *stubNet {
	rng := rand.New(rand.NewPCG(7, 8))
	s := &stubNet{classes: classes, size: c * h * w, weights: make([]float32, classes*c*h*w)}
	for i := range s.weights {
		s.weights[i] = float32(rng.NormFloat64() * 0.05)
	}
	return s
}

func (s *stubNet) logits(x []float32) []float32 {
	out := make([]float32, s.classes)
	for k := range s.classes {
		var sum float32
		for i, v := range x {
			sum += v * s.weights[k*s.size+i]
		}
		out[k] = sum
	}
	return out
}

func (s *stubNet) Forward(x []float32, batch int) ([]float32, error) {
	if len(x) != batch*s.size {
		return nil, fmt.Errorf("stub: %d values for batch %d", len(x), batch)
	}
	s.calls++
	if s.onForward != nil {
		s.onForward(s.calls)
	}
	var out []float32
	for i := range batch {
		out = append(out, s.logits(x[i*s.size:(i+1)*s.size])...)
	}
	return out, nil
}

// stubModel wraps a stubNet for size×size RGB cutouts.
func stubModel(size int, sha string) (*Model, *stubNet) {
	net := newStubNet(len(testClasses()), 3, size, size)
	return &Model{
		Net: net,
		Meta: model.Meta{Variant: "stub", ImageH: size, ImageW: size, InChans: 3, Classes: len(testClasses()),
			ClassNames: testClasses(), Normalize: model.Normalize{Mean: []float32{0.5}, Std: []float32{0.25}}},
		Path:   "stub.safetensors",
		SHA256: sha,
	}, net
}
