package model

import "testing"

// goldenTiny is the configuration of the reference test vectors
// (make_vectors.py's golden_tiny). It is not a variant: Variants and Lookup
// do not list it. Packages outside model get it from modeltest.GoldenTiny.
func goldenTiny() Config {
	return Config{Name: "golden_tiny", Dims: [4]int{16, 32, 48, 64}, Depths: [4]int{1, 2, 1, 2}, StemWidth: 16, HeadHidden: 64}
}

// goldenSpec returns goldenTiny for 3-channel h x w images and the given
// class count.
func goldenSpec(t *testing.T, h, w, classes int) Spec {
	t.Helper()
	s := Spec{Variant: "golden_tiny", Config: goldenTiny(), ImageH: h, ImageW: w, InChans: 3, Classes: classes}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}
