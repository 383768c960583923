package plots

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"
)

// decode checks that data is a PNG between the given pixel sizes and
// returns it.
func decode(t *testing.T, data []byte, minW, maxW, minH, maxH int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output is not a PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < minW || b.Dx() > maxW || b.Dy() < minH || b.Dy() > maxH {
		t.Fatalf("image is %dx%d, want width in [%d, %d] and height in [%d, %d]", b.Dx(), b.Dy(), minW, maxW, minH, maxH)
	}
	return img
}

// countPixels counts the pixels for which match is true.
func countPixels(img image.Image, match func(r, g, b uint32) bool) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if match(r>>8, g>>8, bl>>8) {
				n++
			}
		}
	}
	return n
}

func darkBlue(r, g, b uint32) bool { return r < 40 && g < 80 && b > 90 && b < 140 }

func TestConfusion(t *testing.T) {
	names := []string{"Disturbed Galaxies", "Merging Galaxies", "Round Smooth Galaxies"}
	var buf bytes.Buffer
	counts := [][]int64{{50, 3, 0}, {4, 40, 6}, {0, 0, 0}}
	if err := Confusion(&buf, "confusion", names, counts); err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes(), 300, 1500, 300, 1500)
	// The two well-predicted diagonal cells (fractions 0.94, 0.80) are dark
	// blue and each covers well over a thousand pixels.
	if n := countPixels(img, darkBlue); n < 2000 {
		t.Errorf("%d dark blue pixels, want the two strong diagonal cells (> 2000)", n)
	}

	// Many classes: no annotations, thinned tick labels, still a sane size.
	many := make([]string, 120)
	big := make([][]int64, len(many))
	for i := range many {
		many[i] = "class " + string(rune('A'+i%26))
		big[i] = make([]int64, len(many))
		big[i][i] = 10
	}
	buf.Reset()
	if err := Confusion(&buf, "many", many, big); err != nil {
		t.Fatal(err)
	}
	decode(t, buf.Bytes(), 300, 1500, 300, 1500)
}

func TestConfusionErrors(t *testing.T) {
	names := []string{"a", "b"}
	for _, tc := range []struct {
		name   string
		counts [][]int64
		want   string
	}{
		{"rows", [][]int64{{1, 2}}, "1 rows for 2 classes"},
		{"cols", [][]int64{{1, 2}, {3}}, "row 1 (b) has 1 columns"},
		{"negative", [][]int64{{1, 2}, {3, -1}}, "negative count"},
	} {
		err := Confusion(&bytes.Buffer{}, "", names, tc.counts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestReliability(t *testing.T) {
	bins := make([]ReliabilityBin, 15)
	for i := range bins {
		lo, hi := float64(i)/15, float64(i+1)/15
		bins[i] = ReliabilityBin{Lower: lo, Upper: hi}
		if i >= 5 {
			bins[i].Count = int64(10 * i)
			bins[i].Confidence = (lo + hi) / 2
			bins[i].Accuracy = math.Min(1, (lo+hi)/2+0.05)
		}
	}
	var buf bytes.Buffer
	if err := Reliability(&buf, "reliability (ECE 0.050)", bins); err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes(), 400, 600, 600, 800)
	blue := func(r, g, b uint32) bool { return r < 20 && g > 100 && g < 130 && b > 160 && b < 195 }
	if n := countPixels(img, blue); n < 5000 {
		t.Errorf("%d pixels of accuracy bars, want > 5000", n)
	}

	// All bins empty still draws.
	empty := []ReliabilityBin{{Lower: 0, Upper: 0.5}, {Lower: 0.5, Upper: 1}}
	if err := Reliability(&bytes.Buffer{}, "empty", empty); err != nil {
		t.Errorf("empty bins: %v", err)
	}
	bad := []ReliabilityBin{{Lower: 0.5, Upper: 0.4}}
	if err := Reliability(&bytes.Buffer{}, "", bad); err == nil || !strings.Contains(err.Error(), "bin 0") {
		t.Errorf("reversed bin: error %v, want one naming bin 0", err)
	}
}

func TestCurves(t *testing.T) {
	epochs := []float64{1, 2, 3, 4, 5}
	panels := []Panel{
		{Title: "loss", XLabel: "epoch", Lines: []Line{
			{Label: "train", X: epochs, Y: []float64{2.1, 1.5, math.NaN(), 0.9, 0.8}},
			{Label: "val", X: epochs, Y: []float64{2.0, 1.6, 1.2, 1.1, 1.0}},
		}},
		{Title: "top-1", XLabel: "epoch", Lines: []Line{{Label: "val", X: epochs, Y: []float64{.2, .4, .6, .7, .75}}}},
		{Title: "learning rate", XLabel: "epoch", LogY: true, Lines: []Line{{Label: "lr", X: epochs, Y: []float64{0, 1e-4, 1e-3, 5e-4, 1e-5}}}},
		{Title: "nothing yet"},
	}
	var buf bytes.Buffer
	if err := Curves(&buf, panels); err != nil {
		t.Fatal(err)
	}
	// Four panels: two columns of two rows of 4.5×3.2 inches at 96 dpi.
	decode(t, buf.Bytes(), 864, 864, 614, 615)

	buf.Reset()
	if err := Curves(&buf, panels[:1]); err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes(), 432, 432, 307, 308)
	vermillion := func(r, g, b uint32) bool { return r > 190 && g > 80 && g < 110 && b < 20 }
	if n := countPixels(img, vermillion); n < 200 {
		t.Errorf("%d pixels of the second line's colour, want > 200", n)
	}

	if err := Curves(&buf, nil); err == nil {
		t.Error("no panels: no error")
	}
	bad := []Panel{{Title: "loss", Lines: []Line{{Label: "train", X: epochs, Y: epochs[:2]}}}}
	if err := Curves(&buf, bad); err == nil || !strings.Contains(err.Error(), `panel 0 "loss": line 0 "train": 5 x values but 2 y values`) {
		t.Errorf("mismatched line: error %v", err)
	}
}
