package model

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	c, err := Lookup("astroformer_5")
	if err != nil {
		t.Fatal(err)
	}
	if c.Dims != [4]int{256, 512, 1280, 2048} || c.Depths != [4]int{2, 12, 28, 2} || c.StemWidth != 192 || c.HeadHidden != 2048 {
		t.Errorf("astroformer_5 = %+v", c)
	}
	_, err = Lookup("astroformer_9")
	if err == nil || !strings.Contains(err.Error(), "astroformer_nano") || !strings.Contains(err.Error(), `"astroformer_9"`) {
		t.Errorf("unknown variant error %v should name it and list the known ones", err)
	}
	if _, err := Lookup(DefaultVariant); err != nil {
		t.Error(err)
	}
}

func TestVariantsAreValidAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	vs := Variants()
	for _, c := range vs {
		if seen[c.Name] {
			t.Errorf("duplicate variant %s", c.Name)
		}
		seen[c.Name] = true
		s := Spec{Variant: c.Name, Config: c, ImageH: 64, ImageW: 64, InChans: 3, Classes: 10}
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
	}
	vs[0].Dims[0] = 1
	if Variants()[0].Dims[0] == 1 {
		t.Error("Variants returned the table itself")
	}
}

func TestValidate(t *testing.T) {
	good := Spec{Variant: "x", Config: Config{Dims: [4]int{16, 32, 48, 64}, Depths: [4]int{1, 1, 1, 1}, StemWidth: 8, HeadHidden: 8},
		ImageH: 64, ImageW: 96, InChans: 1, Classes: 2}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*Spec){
		"image size":             func(s *Spec) { s.ImageW = 100 },
		"in_chans":               func(s *Spec) { s.InChans = 2 },
		"classes":                func(s *Spec) { s.Classes = 0 },
		"stage 3 width 72":       func(s *Spec) { s.Dims[3] = 72 },
		"stage 1 depth 0":        func(s *Spec) { s.Depths[1] = 0 },
		"dropout":                func(s *Spec) { s.Dropout = 1 },
		"drop_path":              func(s *Spec) { s.DropPath = -0.1 },
		"stem width":             func(s *Spec) { s.StemWidth = 0 },
		"layout \"CCT\"":         func(s *Spec) { s.Layout = "CCT" },
		"stage 1 block type 'X'": func(s *Spec) { s.Layout = "CXCT" },
		"stage 2 width 48":       func(s *Spec) { s.Layout = "CCTT" },
	}
	for want, mutate := range cases {
		s := good
		mutate(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v", want, err)
		}
	}
}

func TestGrids(t *testing.T) {
	s := Spec{ImageH: 64, ImageW: 96}
	want := [5][2]int{{32, 48}, {16, 24}, {8, 12}, {4, 6}, {2, 3}}
	if g := s.Grids(); g != want {
		t.Errorf("Grids() = %v, want %v", g, want)
	}
}

func TestMidWidth(t *testing.T) {
	// make_divisible(4c) of the reference: 4c is always a multiple of 4, so
	// it rounds half up to a multiple of 8.
	for c, want := range map[int]int{16: 64, 48: 192, 3: 16, 5: 24, 1: 8} {
		if got := MidWidth(c); got != want {
			t.Errorf("MidWidth(%d) = %d, want %d", c, got, want)
		}
	}
}

// mbFLOPs is the count of one MBConv block worked out by hand: widths cin
// to cout through mid and the SE width rd, input and output areas in and
// out (a shortcut only where both width and area change).
func mbFLOPs(cin, cout, mid, rd, in, out int64) int64 {
	var sc int64
	if cin != cout && in != out {
		sc = out * cin * cout
	}
	return sc + in*cin*mid + out*mid*9 + 2*mid*rd + out*mid*cout
}

// trFLOPs is the count of one transformer block of width c over n
// positions with input width cin, without its shortcut.
func trFLOPs(cin, c, n int64) int64 { return n*cin*3*c + 2*n*n*c + n*c*c + 8*n*c*c }

// TestFLOPs checks the count of golden_tiny at 64x64, worked out by hand
// layer by layer, and that FLOPs grow with the image area.
func TestFLOPs(t *testing.T) {
	s := Spec{Config: Config{Dims: [4]int{16, 32, 48, 64}, Depths: [4]int{1, 2, 1, 2}, StemWidth: 16, HeadHidden: 64},
		ImageH: 64, ImageW: 64, InChans: 3, Classes: 10}
	// grids: stem 32x32, stages 16x16, 8x8, 4x4, 2x2.
	stem := int64(1024*16*3*9 + 1024*16*16*9)
	st0 := mbFLOPs(16, 16, 64, 4, 1024, 256)
	st1 := mbFLOPs(16, 32, 128, 8, 256, 64) + mbFLOPs(32, 32, 128, 8, 64, 64)
	st2 := mbFLOPs(32, 48, 192, 12, 64, 16)
	st3 := 4*48*64 + trFLOPs(48, 64, 4) + trFLOPs(64, 64, 4)
	head := int64(64*64 + 64*10)
	if got, want := FLOPs(s), stem+st0+st1+st2+st3+head; got != want {
		t.Errorf("FLOPs = %d, want %d", got, want)
	}
	big := s
	big.ImageH, big.ImageW = 128, 128
	if FLOPs(big) < 3*FLOPs(s) {
		t.Errorf("FLOPs at 128x128 = %d, at 64x64 = %d", FLOPs(big), FLOPs(s))
	}
}
