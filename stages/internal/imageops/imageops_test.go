package imageops

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCenterSquare(t *testing.T) {
	for _, tc := range []struct{ in, want image.Rectangle }{
		{image.Rect(0, 0, 5, 3), image.Rect(1, 0, 4, 3)},
		{image.Rect(0, 0, 4, 3), image.Rect(0, 0, 3, 3)}, // odd excess: right column dropped
		{image.Rect(10, 20, 13, 26), image.Rect(10, 21, 13, 24)},
		{image.Rect(0, 0, 7, 7), image.Rect(0, 0, 7, 7)},
		{image.Rect(0, 0, 0, 4), image.Rect(0, 0, 0, 0)},
	} {
		if got := CenterSquare(tc.in); got != tc.want {
			t.Errorf("CenterSquare(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestResizeAreaBlocks(t *testing.T) {
	// 4x4 single channel to 2x2: each output is the mean of a 2x2 block.
	src := []byte{
		0, 2, 10, 10,
		4, 6, 20, 21,
		100, 100, 255, 255,
		100, 101, 255, 254,
	}
	got := ResizeArea(src, 4, 4, 1, 2, 2)
	// (0+2+4+6)/4=3, (10+10+20+21)/4=15.25, (100+100+100+101)/4=100.25, (255*3+254)/4=254.75
	want := []byte{3, 15, 100, 255}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestResizeAreaFractional(t *testing.T) {
	// 3 -> 2 along x: weights (2/3, 1/3) and (1/3, 2/3); rows unchanged.
	src := []byte{0, 30, 90, 3, 3, 3}
	got := ResizeArea(src, 2, 3, 1, 2, 2)
	// row 0: 0*2/3+30/3 = 10; 30/3+90*2/3 = 70. row 1: 3, 3.
	want := []byte{10, 70, 3, 3}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// Half-up rounding: (1+2)/2 = 1.5 -> 2.
	if got := ResizeArea([]byte{1, 2}, 1, 2, 1, 1, 1); got[0] != 2 {
		t.Errorf("mean of 1 and 2 rounded to %d, want 2", got[0])
	}
}

func TestResizeAreaUpscaleReplicates(t *testing.T) {
	src := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} // 2x2 RGB
	got := ResizeArea(src, 2, 2, 3, 4, 4)
	for y := range 4 {
		for x := range 4 {
			s := src[3*((y/2)*2+x/2):][:3]
			d := got[3*(y*4+x):][:3]
			if !bytes.Equal(s, d) {
				t.Fatalf("pixel (%d,%d) = %v, want %v", y, x, d, s)
			}
		}
	}
}

func TestResizeAreaPreservesConstantAndMean(t *testing.T) {
	const h, w = 7, 11
	src := bytes.Repeat([]byte{200}, h*w*3)
	got := ResizeArea(src, h, w, 3, 5, 3)
	if slices.ContainsFunc(got, func(b byte) bool { return b != 200 }) {
		t.Fatalf("constant image not preserved: %v", got)
	}
	f := make([]float32, h*w)
	var sum float64
	for i := range f {
		f[i] = float32(i%13) - 4
		sum += float64(f[i])
	}
	out := ResizeAreaFloat(f, h, w, 3, 4)
	var osum float64
	for _, v := range out {
		osum += float64(v)
	}
	// Area averaging conserves the mean.
	if m, om := sum/(h*w), osum/12; om-m > 1e-5 || m-om > 1e-5 {
		t.Errorf("mean %g became %g", m, om)
	}
}

func TestSquareRGB(t *testing.T) {
	// 4x2 gray image: the centred 2x2 square is columns 1..2.
	g := image.NewGray(image.Rect(0, 0, 4, 2))
	copy(g.Pix, []byte{9, 10, 20, 9, 9, 30, 40, 9})
	pix, side, err := SquareRGB(g, 0)
	if err != nil || side != 2 {
		t.Fatalf("side %d, err %v", side, err)
	}
	want := []byte{10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40}
	if !bytes.Equal(pix, want) {
		t.Fatalf("gray crop = %v, want %v", pix, want)
	}
	pix, side, err = SquareRGB(g, 1)
	if err != nil || side != 1 || !bytes.Equal(pix, []byte{25, 25, 25}) {
		t.Fatalf("resized to 1: %v side %d err %v", pix, side, err)
	}

	// NRGBA with alpha: composited over black.
	n := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	n.SetNRGBA(0, 0, color.NRGBA{R: 200, G: 100, B: 50, A: 128})
	pix, _, _ = SquareRGB(n, 0)
	if want := []byte{100, 50, 25}; !bytes.Equal(pix, want) {
		t.Errorf("half-transparent pixel = %v, want %v", pix, want)
	}

	// YCbCr (what image/jpeg returns) goes through the same path.
	y := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio444)
	for i := range y.Y {
		y.Y[i], y.Cb[i], y.Cr[i] = 128, 128, 128
	}
	pix, _, _ = SquareRGB(y, 0)
	if !bytes.Equal(pix, bytes.Repeat([]byte{128}, 12)) {
		t.Errorf("neutral YCbCr = %v", pix)
	}

	if _, _, err := SquareRGB(image.NewGray(image.Rect(0, 0, 0, 3)), 8); err == nil {
		t.Error("empty image: no error")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 9)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	// The name says JPEG; the content decides.
	path := filepath.Join(dir, "a.jpg")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := got.(*image.NRGBA); !ok || !bytes.Equal(n.Pix, img.Pix) {
		t.Errorf("decoded %T differs", got)
	}
	bad := filepath.Join(dir, "bad.png")
	if err := os.WriteFile(bad, buf.Bytes()[:40], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil {
		t.Error("truncated PNG decoded")
	}
	if err := os.WriteFile(bad, []byte("GIF89a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "not a JPEG or PNG image") {
		t.Errorf("GIF header: %v", err)
	}
}
