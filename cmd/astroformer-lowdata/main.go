// Command astroformer-lowdata writes a low-data classification task as PNG
// class folders, the layout both the imagefolder stage and the PyTorch
// reference's torch_train_folder.py read:
//
//	OUT/train/<class>/<object_id>.png   -train images of each class
//	OUT/test/<class>/<object_id>.png    -test images of each class
//
// The images are synthetic survey cutouts (package synthetic) with the ten
// classes equally likely, so every class gets the same number of training
// images however few. The same flags give the same files.
//
// Usage:
//
//	astroformer-lowdata -out DIR [-size 64] [-train 100] [-test 300] [-seed 1]
//
// See BENCHMARKS.md ("Learning from little data") for the side-by-side runs
// made with it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"

	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/synthetic"
)

func main() {
	var o options
	flag.StringVar(&o.out, "out", "", "`DIR` to write train/ and test/ into (must not exist)")
	flag.IntVar(&o.size, "size", 64, "image height and width in `pixels`")
	flag.IntVar(&o.train, "train", 100, "training images per class")
	flag.IntVar(&o.test, "test", 300, "test images per class")
	flag.Int64Var(&o.seed, "seed", 1, "catalogue seed of the synthetic survey")
	flag.Parse()
	if err := o.write(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "astroformer-lowdata:", err)
		os.Exit(1)
	}
}

type options struct {
	out               string
	size, train, test int
	seed              int64
}

// write renders objects in catalogue order and files each under train/ until
// its class has o.train images, then under test/ until it has o.test more.
func (o options) write(ctx context.Context) error {
	switch {
	case o.out == "":
		return errors.New("-out is required")
	case o.train < 1 || o.test < 1:
		return fmt.Errorf("-train %d, -test %d: want at least 1 image of each per class", o.train, o.test)
	}
	if _, err := os.Stat(o.out); err == nil {
		return fmt.Errorf("%s exists; choose a new folder", o.out)
	}
	weights := make([]float64, synthetic.NumClasses)
	for i := range weights {
		weights[i] = 1
	}
	opt := synthetic.Options{Size: o.size, Seed: o.seed, Weights: weights}
	names := schemas.Galaxy10Classes()
	var counts [synthetic.NumClasses]int
	need := synthetic.NumClasses * (o.train + o.test)
	objs := make([]synthetic.Object, 256)
	for first, done := int64(0), 0; done < need; first += int64(len(objs)) {
		if err := synthetic.RenderBatch(ctx, opt, runtime.GOMAXPROCS(0), first, objs); err != nil {
			return err
		}
		for i := range objs {
			obj := &objs[i]
			k := counts[obj.Class]
			split := "train"
			switch {
			case k >= o.train+o.test:
				continue
			case k >= o.train:
				split = "test"
			}
			counts[obj.Class]++
			done++
			dir := filepath.Join(o.out, split, names[obj.Class])
			if err := writePNG(dir, synthetic.ObjectID(obj.Index), obj.Pixels, o.size); err != nil {
				return err
			}
		}
	}
	return nil
}

func writePNG(dir, id string, pixels []uint8, size int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for p := range size * size {
		copy(img.Pix[4*p:4*p+3], pixels[3*p:3*p+3])
		img.Pix[4*p+3] = 255
	}
	f, err := os.Create(filepath.Join(dir, id+".png"))
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
