package policy

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// reflectPadCrop is the definition Shift must meet: pad by n with
// PyTorch's "reflect" mode, spelled out index by index, then crop.
func reflectPadCrop(m Image, n, top, left int) Image {
	ph, pw := m.H+2*n, m.W+2*n
	pad := NewImage(ph, pw, m.C)
	for c := range m.C {
		for y := range ph {
			for x := range pw {
				sy, sx := y-n, x-n
				for sy < 0 || sy >= m.H {
					if sy < 0 {
						sy = -sy
					} else {
						sy = 2*(m.H-1) - sy
					}
				}
				for sx < 0 || sx >= m.W {
					if sx < 0 {
						sx = -sx
					} else {
						sx = 2*(m.W-1) - sx
					}
				}
				pad.Pix[(c*ph+y)*pw+x] = m.Pix[(c*m.H+sy)*m.W+sx]
			}
		}
	}
	out := NewImage(m.H, m.W, m.C)
	for c := range m.C {
		for y := range m.H {
			for x := range m.W {
				out.Pix[(c*m.H+y)*m.W+x] = pad.Pix[(c*ph+y+top)*pw+x+left]
			}
		}
	}
	return out
}

func TestShiftIsReflectPadAndCrop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dims := range [][3]int{{5, 7, 3}, {8, 8, 1}, {3, 4, 2}} {
		m := NewImage(dims[0], dims[1], dims[2])
		for i := range m.Pix {
			m.Pix[i] = rng.Float32()
		}
		for n := range min(dims[0], dims[1]) {
			for top := 0; top <= 2*n; top++ {
				for left := 0; left <= 2*n; left++ {
					got := Shift(m, n, n-top, n-left)
					if want := reflectPadCrop(m, n, top, left); !slices.Equal(got.Pix, want.Pix) {
						t.Fatalf("%v, n %d, crop at (%d, %d): Shift differs from reflect-pad and crop", dims, n, top, left)
					}
				}
			}
		}
	}
}

// TestApplyTranslate checks that translate alone gives one of the
// 25 shifts of a 2-pixel translation, that all of them occur, and that
// the image is unchanged in size.
func TestApplyTranslate(t *testing.T) {
	cfg := Defaults()
	cfg.Height, cfg.Width = 6, 6
	cfg.RandomCrop, cfg.HFlip, cfg.VFlip, cfg.Rot90 = false, 0, 0, false
	cfg.Brightness, cfg.Contrast, cfg.Saturation = 0, 0, 0
	cfg.Translate = 2
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := NewImage(6, 6, 3)
	for i := range m.Pix {
		m.Pix[i] = float32(i) / float32(len(m.Pix))
	}
	seen := map[[2]int]bool{}
	for k := range 400 {
		got := a.Apply(m, SampleRand(1, 0, k))
		found := false
		for dy := -2; dy <= 2 && !found; dy++ {
			for dx := -2; dx <= 2 && !found; dx++ {
				if slices.Equal(got.Pix, Shift(m, 2, dy, dx).Pix) {
					seen[[2]int{dy, dx}], found = true, true
				}
			}
		}
		if !found {
			t.Fatalf("sample %d is no 2-pixel shift of the image", k)
		}
	}
	if len(seen) != 25 {
		t.Errorf("%d of the 25 shifts drawn in 400 samples", len(seen))
	}
}

func TestTranslateValidate(t *testing.T) {
	cfg := Defaults()
	cfg.Height, cfg.Width = 32, 32
	for _, tc := range []struct {
		n  int
		ok bool
	}{{0, true}, {4, true}, {31, true}, {32, false}, {-1, false}} {
		cfg.Translate = tc.n
		err := cfg.Validate()
		if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), "translate = ") {
			t.Errorf("translate = %d: %v", tc.n, err)
		}
	}
}
