package stages

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/internal/fitshdr"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/cifar"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
	"github.com/astroformer/astroformer/stages/internal/modelfolder"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
	"github.com/astroformer/astroformer/stages/predict"
	"github.com/astroformer/astroformer/stages/tinyimagenet"
)

// The inputs of the conformance test, written into a test's workdir.

// classes are the class names of the tables and the model.
var classes = []string{"Round", "Ring", "Bar"}

// tinyNet is a network that trains in milliseconds a step.
func tinyNet() model.Config {
	return model.Config{Name: "test_tiny", Dims: [4]int{8, 16, 16, 32}, Depths: [4]int{1, 1, 1, 1}, StemWidth: 8, HeadHidden: 16}
}

// pngImage returns a w×h RGB PNG whose pixels follow from seed.
func pngImage(t testing.TB, w, h, seed int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(seed*31 + i*7)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return sourcetest.PNG(t, img)
}

// cutouts writes a table of n labelled size×size cutouts into dir/name,
// rowsPerPart rows a part; with splits, the rows cycle through train,
// train, val (and test every ninth row), else they have no split.
func cutouts(t testing.TB, dir, name string, n, size int, rowsPerPart int64, splits bool) {
	t.Helper()
	sink, err := ingest.NewSink(ingest.SinkOptions{
		Cutouts: filepath.Join(dir, name), Rejects: filepath.Join(dir, name+"_rejects"),
		Manifest:    artifact.Manifest{Name: name, Fingerprint: "conformance-" + name},
		RowsPerPart: rowsPerPart,
	})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(n), 3))
	for i := range n {
		label, split := int16(i%len(classes)), ""
		if splits {
			split = []string{"train", "train", "val"}[i%3]
			if i%9 == 8 {
				split = "test"
			}
		}
		c := ingest.Cutout{
			ObjectID: fmt.Sprintf("obj-%03d", i), Label: &label, LabelName: &classes[label], Split: split,
			Height: int32(size), Width: int32(size), Channels: 3, Pixels: make([]byte, size*size*3),
			Bands: "grz", Source: "conformance",
		}
		for j := range c.Pixels {
			c.Pixels[j] = byte(int(label)*60 + rng.IntN(100))
		}
		if err := sink.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
}

// splitInput is a cutouts table of 60 rows in three parts, without splits.
func splitInput(t testing.TB, dir string) { cutouts(t, dir, "cutouts", 60, 8, 20, false) }

// trainInput is a cutouts table of 24 train and 8 val (and 4 test) rows.
func trainInput(t testing.TB, dir string) { cutouts(t, dir, "cutouts", 36, 32, 16, true) }

// predictInputs are a cutouts table of 36 rows and the model folder model
// of a tiny network, not trained, for 32×32 cutouts.
func predictInputs(t testing.TB, dir string) {
	t.Helper()
	cutouts(t, dir, "cutouts", 36, 32, 16, true)
	cfg := tinyNet()
	net, err := model.New(model.Spec{Variant: cfg.Name, Config: cfg, ImageH: 32, ImageW: 32, InChans: 3, Classes: len(classes)}, 5)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "model")
	staging, err := artifact.Stage(out)
	if err != nil {
		t.Fatal(err)
	}
	meta := model.Meta{ClassNames: classes, Normalize: model.Normalize{Mean: []float32{0.4, 0.4, 0.4}, Std: []float32{0.2, 0.2, 0.2}}}
	if err := model.Save(filepath.Join(staging, modelfolder.Final), net, meta); err != nil {
		t.Fatal(err)
	}
	m := artifact.Manifest{Format: artifact.ModelFormat, Name: "model", Fingerprint: "conformance-model"}
	if err := artifact.WriteManifest(staging, &m); err != nil {
		t.Fatal(err)
	}
	if err := artifact.Commit(staging, out); err != nil {
		t.Fatal(err)
	}
}

// evaluateInput is the catalog predict makes of predictInputs.
func evaluateInput(t testing.TB, dir string) {
	t.Helper()
	predictInputs(t, dir)
	s, diags := decltest.Decode(t, predict.Decode, "predict", "input = \"cutouts\"\nmodel = \"model\"\noutput = \"catalog\"\nworkers = 1")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, err := pipeline.CanonicalJSON(s.Params())
	if err != nil {
		t.Fatal(err)
	}
	env := &pipeline.Env{Log: hclog.NewNullLogger(), Workdir: dir, Fingerprint: "conformance-catalog", Stage: "predict", Kind: predict.Kind, Params: p}
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
}

// cifarFolder writes a CIFAR-100 binary folder of 2000 train and 60 test
// records, of the first three fine and coarse classes, into dir/cifar.
func cifarFolder(t testing.TB, dir string) {
	t.Helper()
	root := filepath.Join(dir, "cifar")
	for _, f := range []struct {
		name   string
		n, off int
	}{{cifar.TrainFile, 2000, 0}, {cifar.TestFile, 60, 2000}} {
		var b []byte
		for i := range f.n {
			b = append(b, byte(i%3), byte((i+1)%3))
			for j := range 3 * 32 * 32 {
				b = append(b, byte((f.off+i)*13+j*7))
			}
		}
		sourcetest.WriteFile(t, filepath.Join(root, f.name), b)
	}
	sourcetest.WriteFile(t, filepath.Join(root, cifar.FineNamesFile), []byte("apple\naquarium_fish\nbaby\n"))
	sourcetest.WriteFile(t, filepath.Join(root, cifar.CoarseNamesFile), []byte("fruit\nfish\npeople\n"))
}

// galaxy10File copies the shipped Galaxy10 fixture to dir/g10.h5.
func galaxy10File(t testing.TB, dir string) {
	t.Helper()
	b, err := os.ReadFile("galaxy10/testdata/g10_default.h5")
	if err != nil {
		t.Fatal(err)
	}
	sourcetest.WriteFile(t, filepath.Join(dir, "g10.h5"), b)
}

// tinyImageNet writes a Tiny ImageNet layout of two classes of 1030 train
// images (4×4 PNGs under .JPEG names) and four val images into dir/tin.
func tinyImageNet(t testing.TB, dir string) {
	t.Helper()
	root := filepath.Join(dir, "tin")
	sourcetest.WriteFile(t, filepath.Join(root, tinyimagenet.WnidsFile), []byte("n01\nn02\n"))
	sourcetest.WriteFile(t, filepath.Join(root, tinyimagenet.WordsFile), []byte("n01\tgoldfish\nn02\tdog\n"))
	for _, wnid := range []string{"n01", "n02"} {
		for i := range 1030 {
			sourcetest.WriteFile(t, filepath.Join(root, "train", wnid, "images", fmt.Sprintf("%s_%d.JPEG", wnid, i)), pngImage(t, 4, 4, i))
		}
	}
	var ann bytes.Buffer
	for i := range 4 {
		name := fmt.Sprintf("val_%d.JPEG", i)
		sourcetest.WriteFile(t, filepath.Join(root, "val", "images", name), pngImage(t, 4, 4, 100+i))
		fmt.Fprintf(&ann, "%s\tn0%d\t0\t0\t3\t3\n", name, 1+i%2)
	}
	sourcetest.WriteFile(t, filepath.Join(root, "val", tinyimagenet.ValAnnotationsFile), ann.Bytes())
}

// imageFolder writes two class folders of 1030 images in all into
// dir/images.
func imageFolder(t testing.TB, dir string) {
	t.Helper()
	for i := range 1030 {
		class := []string{"elliptical", "spiral"}[i%2]
		sourcetest.WriteFile(t, filepath.Join(dir, "images", class, fmt.Sprintf("%04d.png", i)), pngImage(t, 4, 4, i))
	}
}

// fitsFolder writes 70 4×4 grz cubes as FITS files into dir/fits.
func fitsFolder(t testing.TB, dir string) {
	t.Helper()
	for i := range 70 {
		h := &fitshdr.Header{}
		h.Bool("SIMPLE", true, "")
		h.Int("BITPIX", -32, "")
		h.Int("NAXIS", 3, "")
		h.Int("NAXIS1", 4, "")
		h.Int("NAXIS2", 4, "")
		h.Int("NAXIS3", 3, "")
		h.String("BANDS", "grz", "")
		b := h.Bytes()
		for j := range 4 * 4 * 3 {
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(0.01*float32(i%7)+0.002*float32(j)))
		}
		b = append(b, make([]byte, fitshdr.Padding(4*4*4*3))...)
		sourcetest.WriteFile(t, filepath.Join(dir, "fits", fmt.Sprintf("%03d.fits", i)), b)
	}
}
