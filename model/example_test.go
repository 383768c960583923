package model_test

import (
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/astroformer/astroformer/model"
)

// A checkpoint carries what prediction needs besides the weights: the
// variant, image size, class names and normalisation. Load rebuilds the
// network from it, and Forward scores a batch of NCHW images.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "model-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg, err := model.Lookup("astroformer_nano")
	if err != nil {
		log.Fatal(err)
	}
	net, err := model.New(model.Spec{Variant: cfg.Name, Config: cfg, ImageH: 32, ImageW: 32, InChans: 3, Classes: 3}, 1)
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "model.safetensors")
	meta := model.Meta{ClassNames: []string{"smooth", "spiral", "merger"},
		Normalize: model.Normalize{Mean: []float32{0.5}, Std: []float32{0.5}}}
	if err := model.Save(path, net, meta); err != nil {
		log.Fatal(err)
	}

	loaded, m, err := model.Load(path, model.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	const batch = 2
	x := make([]float32, batch*m.InChans*m.ImageH*m.ImageW) // normalised pixels
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	logits, err := loaded.Forward(x, batch)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %dx%d, classes %q: %d logits for %d images\n", m.Variant, m.ImageH, m.ImageW, m.ClassNames, len(logits), batch)
	// Output:
	// astroformer_nano 32x32, classes ["smooth" "spiral" "merger"]: 6 logits for 2 images
}
