package policy

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFlips(t *testing.T) {
	m := Image{H: 2, W: 3, C: 1, Pix: []float32{
		1, 2, 3,
		4, 5, 6,
	}}
	if got, want := FlipH(m).Pix, []float32{3, 2, 1, 6, 5, 4}; !slices.Equal(got, want) {
		t.Errorf("FlipH = %v, want %v", got, want)
	}
	if got, want := FlipV(m).Pix, []float32{4, 5, 6, 1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("FlipV = %v, want %v", got, want)
	}
	r := ramp(7, 5, 3)
	equalImages(t, "FlipH twice", FlipH(FlipH(r)), r, 0)
	equalImages(t, "FlipV twice", FlipV(FlipV(r)), r, 0)
}

func TestRot90(t *testing.T) {
	m := Image{H: 2, W: 3, C: 1, Pix: []float32{
		1, 2, 3,
		4, 5, 6,
	}}
	// numpy.rot90 of [[1 2 3] [4 5 6]] is [[3 6] [2 5] [1 4]].
	cases := []struct {
		k    int
		h, w int
		want []float32
	}{
		{1, 3, 2, []float32{3, 6, 2, 5, 1, 4}},
		{2, 2, 3, []float32{6, 5, 4, 3, 2, 1}},
		{3, 3, 2, []float32{4, 1, 5, 2, 6, 3}},
		{-1, 3, 2, []float32{4, 1, 5, 2, 6, 3}},
		{4, 2, 3, []float32{1, 2, 3, 4, 5, 6}},
	}
	for _, c := range cases {
		r := Rot90(m, c.k)
		if r.H != c.h || r.W != c.w || !slices.Equal(r.Pix, c.want) {
			t.Errorf("Rot90(k=%d) = %dx%d %v, want %dx%d %v", c.k, r.H, r.W, r.Pix, c.h, c.w, c.want)
		}
	}
	r := ramp(6, 9, 3)
	four := r
	for range 4 {
		four = Rot90(four, 1)
	}
	equalImages(t, "four quarter turns", four, r, 0)
	equalImages(t, "Rot90(Rot90(m, 1), 3)", Rot90(Rot90(r, 1), 3), r, 0)
	equalImages(t, "Rot90(m, 2)", Rot90(r, 2), FlipH(FlipV(r)), 0)
}

func TestDihedralViewsAreDistinctSymmetries(t *testing.T) {
	m := ramp(5, 5, 2)
	var views []Image
	for i := range 8 {
		v := Dihedral(m, i)
		for j, u := range views {
			if slices.Equal(u.Pix, v.Pix) {
				t.Fatalf("views %d and %d are equal", j, i)
			}
		}
		// Every symmetry keeps the set of values of each channel.
		for c := range m.C {
			a, b := slices.Clone(m.Plane(c)), slices.Clone(v.Plane(c))
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				t.Fatalf("view %d changes the values of channel %d", i, c)
			}
		}
		views = append(views, v)
	}
	equalImages(t, "view 0", views[0], m, 0)
	// View 6 is the transpose.
	if got, want := views[6].Pix[1*5+3], m.Pix[3*5+1]; got != want {
		t.Errorf("view 6 at (1, 3) = %g, want the transpose's %g", got, want)
	}
}

func TestRotateByQuarterTurnsMatchesRot90(t *testing.T) {
	m := noise(12, 12, 3, 4)
	for _, fill := range []Fill{FillReflect, FillZero} {
		for k, deg := range []float64{0, 90, 180, 270} {
			equalImages(t, fill.String()+" rotation by "+[]string{"0", "90", "180", "270"}[k],
				Rotate(m, deg, fill), Rot90(m, k), 1e-5)
		}
	}
	// Away from the borders it does not matter how the outside is filled.
	odd := noise(9, 13, 1, 5)
	z, r := Rotate(odd, 90, FillZero), Rotate(odd, 90, FillReflect)
	for y := 3; y < 6; y++ {
		for x := 3; x < 10; x++ {
			if z.Pix[y*13+x] != r.Pix[y*13+x] {
				t.Fatalf("non-square 90° rotation: fills disagree inside at (%d, %d)", y, x)
			}
		}
	}
}

func TestRotateFill(t *testing.T) {
	m := NewImage(8, 8, 1)
	for i := range m.Pix {
		m.Pix[i] = 1
	}
	z := Rotate(m, 45, FillZero)
	if z.Pix[0] != 0 || z.Pix[4*8+4] != 1 {
		t.Errorf("45° zero fill: corner %g (want 0), centre %g (want 1)", z.Pix[0], z.Pix[4*8+4])
	}
	r := Rotate(m, 45, FillReflect)
	for i, v := range r.Pix {
		if math.Abs(float64(v)-1) > 1e-6 {
			t.Fatalf("45° reflect fill of a constant image: pixel %d = %g, want 1", i, v)
		}
	}
}

func TestTranslate(t *testing.T) {
	m := ramp(4, 5, 1)
	s := Translate(m, 2, 1, FillZero)
	for y := range 4 {
		for x := range 5 {
			want := float32(0)
			if y >= 1 && x >= 2 {
				want = m.Pix[(y-1)*5+x-2]
			}
			if got := s.Pix[y*5+x]; math.Abs(float64(got-want)) > 1e-6 {
				t.Fatalf("Translate(2, 1) at (%d, %d) = %g, want %g", y, x, got, want)
			}
		}
	}
	r := Translate(m, 1, 0, FillReflect)
	if r.Pix[0] != m.Pix[0] || r.Pix[1] != m.Pix[0] {
		t.Errorf("reflect fill repeats the edge pixel: got %g %g, want %g %g", r.Pix[0], r.Pix[1], m.Pix[0], m.Pix[0])
	}
}

func TestRandomResizedCropBoxRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	scale, ratio := [2]float64{0.08, 1}, [2]float64{3.0 / 4, 4.0 / 3}
	const h, w = 200, 300
	fallbacks := 0
	for range 5000 {
		b := RandomResizedCropBox(h, w, scale, ratio, rng)
		if b.Top < 0 || b.Left < 0 || b.H <= 0 || b.W <= 0 || b.Top+b.H > h || b.Left+b.W > w {
			t.Fatalf("box %+v outside the %dx%d image", b, h, w)
		}
		if b.H == h && b.Top == 0 && b.W == 267 { // fallback: 200·4/3 rounded
			fallbacks++
			continue
		}
		// Rounding each side moves the area by up to half a pixel per side.
		area := float64(b.Area()) / (h * w)
		slack := 0.5 * (1/float64(b.H) + 1/float64(b.W)) * 2
		if area < scale[0]*(1-slack) || area > scale[1]*(1+slack) {
			t.Fatalf("box %+v covers %.4f of the image, outside %v", b, area, scale)
		}
		aspect := float64(b.W) / float64(b.H)
		if aspect < ratio[0]*(1-slack) || aspect > ratio[1]*(1+slack) {
			t.Fatalf("box %+v has aspect %.4f, outside %v", b, aspect, ratio)
		}
	}
	if fallbacks > 100 {
		t.Errorf("%d of 5000 draws fell back to the centre crop", fallbacks)
	}
}

func TestRandomResizedCropFallback(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// No window with aspect ratio 2..3 fits a 10x10 image at full area.
	b := RandomResizedCropBox(10, 10, [2]float64{1, 1}, [2]float64{2, 3}, rng)
	if want := (Box{Top: 2, Left: 0, H: 5, W: 10}); b != want {
		t.Errorf("fallback box %+v, want %+v", b, want)
	}
	m := RandomResizedCrop(noise(10, 10, 3, 6), 4, 6, [2]float64{0.5, 1}, [2]float64{0.75, 1.333}, rng)
	if m.H != 4 || m.W != 6 || m.C != 3 {
		t.Errorf("RandomResizedCrop gave %dx%dx%d, want 4x6x3", m.H, m.W, m.C)
	}
}

func TestParseFill(t *testing.T) {
	for _, f := range []Fill{FillReflect, FillZero} {
		if g, err := ParseFill(f.String()); err != nil || g != f {
			t.Errorf("ParseFill(%q) = %v, %v", f.String(), g, err)
		}
	}
	if _, err := ParseFill("wrap"); err == nil {
		t.Error(`ParseFill("wrap"): no error`)
	}
}
