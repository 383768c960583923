package tinyimagenet

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/stages/internal/sourcetest"
)

// rgbImage returns a w×h image whose pixel (x, y) is (seed+x, seed+2y, seed+x+y).
func rgbImage(w, h, seed int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: byte(seed + x), G: byte(seed + 2*y), B: byte(seed + x + y), A: 255})
		}
	}
	return img
}

// wantRGB is the HWC bytes of rgbImage.
func wantRGB(w, h, seed int) []byte {
	var b []byte
	for y := range h {
		for x := range w {
			b = append(b, byte(seed+x), byte(seed+2*y), byte(seed+x+y))
		}
	}
	return b
}

// makeDataset writes a three-class tiny-imagenet-200 look-alike with 4×4
// images. Image contents are PNG (the loader goes by content) except one
// grayscale JPEG, so that most pixels can be checked exactly.
func makeDataset(t *testing.T) string {
	root := t.TempDir()
	sourcetest.WriteFile(t, filepath.Join(root, WnidsFile), []byte("n02\nn01\nn03\n"))
	sourcetest.WriteFile(t, filepath.Join(root, WordsFile), []byte(
		"n00\tentity\nn01\tgoldfish, Carassius auratus\nn02\tdog, domestic dog\nn03\tdog\nn04\tcat\n"))
	sourcetest.WriteFile(t, filepath.Join(root, "train/n02/images/n02_1.JPEG"), sourcetest.PNG(t, rgbImage(4, 4, 10)))
	sourcetest.WriteFile(t, filepath.Join(root, "train/n02/images/n02_0.JPEG"), sourcetest.PNG(t, rgbImage(4, 4, 0)))
	sourcetest.WriteFile(t, filepath.Join(root, "train/n02/n02_boxes.txt"), []byte("n02_0.JPEG\t0\t0\t3\t3\n"))
	sourcetest.WriteFile(t, filepath.Join(root, "train/n01/images/n01_0.JPEG"), []byte("not an image"))
	gray := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range gray.Pix {
		gray.Pix[i] = 100
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, gray, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	sourcetest.WriteFile(t, filepath.Join(root, "train/n03/images/n03_0.JPEG"), jb.Bytes())
	sourcetest.WriteFile(t, filepath.Join(root, "val/images/val_0.JPEG"), sourcetest.PNG(t, rgbImage(6, 4, 50)))
	sourcetest.WriteFile(t, filepath.Join(root, "val/images/val_1.JPEG"), sourcetest.PNG(t, rgbImage(4, 4, 60)))
	sourcetest.WriteFile(t, filepath.Join(root, "val", ValAnnotationsFile), []byte(
		"val_0.JPEG\tn01\t0\t0\t3\t3\nval_1.JPEG\tn99\t0\t0\t1\t1\n\n"))
	return root
}

func TestRun(t *testing.T) {
	root := makeDataset(t)
	rows, md, rej, _ := sourcetest.Run(t, Decode, `path = "`+root+`"
output = "cutouts"
workers = 3`)
	type want struct {
		id, source, split, name string
		label                   int16
		side                    int32
		pixels                  []byte
	}
	// Label order is wnids.txt order: n02, n01, n03. "dog" is the first
	// synonym of both n02 and n03, so both get their wnid appended.
	wants := []want{
		{"tinyimagenet-n02_0", "train/n02/images/n02_0.JPEG", "", "dog (n02)", 0, 4, wantRGB(4, 4, 0)},
		{"tinyimagenet-n02_1", "train/n02/images/n02_1.JPEG", "", "dog (n02)", 0, 4, wantRGB(4, 4, 10)},
		{"tinyimagenet-n03_0", "train/n03/images/n03_0.JPEG", "", "dog (n03)", 2, 8, bytes.Repeat([]byte{100}, 8*8*3)},
		// 6×4 is cropped to its centred 4×4 square: columns 1 to 4.
		{"tinyimagenet-val_0", "val/images/val_0.JPEG", "test", "goldfish", 1, 4, wantRGB(4, 4, 51)},
	}
	wants[3].pixels = cropCols(wantRGB(6, 4, 50), 6, 4, 1)
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d", len(rows), len(wants))
	}
	for i, w := range wants {
		r := rows[i]
		if r.ObjectID != w.id || r.Source != w.source || r.Split != w.split || *r.LabelName != w.name || *r.Label != w.label ||
			r.Height != w.side || r.Width != w.side || r.Channels != 3 || r.Bands != "rgb" || *r.Release != Release {
			t.Errorf("row %d: %s %s split %q %d %q %dx%dx%d", i, r.ObjectID, r.Source, r.Split, *r.Label, *r.LabelName, r.Height, r.Width, r.Channels)
		}
		if r.RA != nil || r.Dec != nil || r.PixelScale != nil || r.Raw != nil || r.Survey != nil {
			t.Errorf("row %d: null column set", i)
		}
		if !bytes.Equal(r.Pixels, w.pixels) {
			t.Errorf("row %d pixels:\n got %v\nwant %v", i, r.Pixels, w.pixels)
		}
	}
	if md[MetaClassNames] != `["dog (n02)","goldfish","dog (n03)"]` || md[MetaWnids] != `["n02","n01","n03"]` {
		t.Errorf("metadata %v", md)
	}
	if len(rej) != 2 {
		t.Fatalf("rejects %+v", rej)
	}
	if r := rej[0]; r.Source != "train/n01/images/n01_0.JPEG" || r.ObjectID != "tinyimagenet-n01_0" || !strings.Contains(r.Reason, "not a JPEG or PNG image") {
		t.Errorf("reject 0: %+v", r)
	}
	if r := rej[1]; r.Source != "val/val_annotations.txt" || r.Position != "val_annotations.txt line 2" || !strings.Contains(r.Reason, `"n99" is not in wnids.txt`) {
		t.Errorf("reject 1: %+v", r)
	}
}

func cropCols(hwc []byte, w, h, x0 int) []byte {
	var out []byte
	for y := range h {
		out = append(out, hwc[3*(y*w+x0):3*(y*w+x0+h)]...)
	}
	return out
}

func TestRunResized(t *testing.T) {
	root := makeDataset(t)
	s := sourcetest.MustDecode(t, Decode, `path = "`+root+`"
output = "c"
train_split = "train"
size = 8`)
	env := sourcetest.Env(t, t.TempDir(), s, nil)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	rows, _ := sourcetest.Cutouts(t, env.Path("c"))
	if len(rows) != 4 || rows[0].Split != "train" || rows[3].Split != "test" {
		t.Fatalf("rows %d, splits %q %q", len(rows), rows[0].Split, rows[3].Split)
	}
	// 4×4 to 8×8 by area averaging replicates each pixel into a 2×2 block.
	src := wantRGB(4, 4, 0)
	for y := range 8 {
		for x := range 8 {
			got, want := rows[0].Pixels[3*(8*y+x):][:3], src[3*(4*(y/2)+x/2):][:3]
			if rows[0].Height != 8 || !bytes.Equal(got, want) {
				t.Fatalf("pixel (%d,%d) = %v, want %v", y, x, got, want)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	sourcetest.CheckErrors(t, Decode, map[string]string{
		`train_split = "test"`: "Invalid train_split",
		`size = 3`:             "Invalid size",
		`workers = -2`:         "Invalid workers",
	})
}

func TestLayoutErrors(t *testing.T) {
	root := makeDataset(t)
	sourcetest.WriteFile(t, filepath.Join(root, "val", ValAnnotationsFile), []byte("val_0.JPEG n01\n"))
	s := sourcetest.MustDecode(t, Decode, `path = "`+root+`"
output = "c"`)
	err := s.Run(context.Background(), sourcetest.Env(t, t.TempDir(), s, nil))
	if err == nil || !strings.Contains(err.Error(), "val_annotations.txt: line 1: expected a file name and a WordNet id separated by a tab") {
		t.Errorf("space-separated annotation: %v", err)
	}
	sourcetest.WriteFile(t, filepath.Join(root, WnidsFile), []byte("n01\nn01\n"))
	err = s.Run(context.Background(), sourcetest.Env(t, t.TempDir(), s, nil))
	if err == nil || !strings.Contains(err.Error(), "wnids.txt: line 2: n01 already on line 1") {
		t.Errorf("duplicate wnid: %v", err)
	}
}
