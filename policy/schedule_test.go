package policy

import (
	"math"
	"testing"
)

func TestCosine(t *testing.T) {
	c := Cosine{BaseLR: 1e-3, MinLR: 1e-5, WarmupSteps: 10, TotalSteps: 110, WarmupInitLR: 1e-6}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	cosine := func(t, T float64) float64 { return 1e-5 + 0.5*(1e-3-1e-5)*(1+math.Cos(math.Pi*t/T)) }
	cases := []struct {
		step int
		want float64
	}{
		{-3, 1e-6},
		{0, 1e-6},                    // warmup start
		{5, 1e-6 + 5*(1e-3-1e-6)/10}, // half way through warmup
		{9, 1e-6 + 9*(1e-3-1e-6)/10}, // last warmup step
		{10, cosine(10, 110)},        // warmup end: timm's clock started at 0
		{55, 1e-5 + 0.5*(1e-3-1e-5)}, // mid cosine
		{109, cosine(109, 110)},      // just before the end
		{110, 1e-5},                  // end = MinLR
		{1000, 1e-5},                 // and beyond
	}
	for _, tc := range cases {
		if got := c.LR(tc.step); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("LR(%d) = %g, want %g", tc.step, got, tc.want)
		}
	}

	c.WarmupPrefix = true
	prefixed := []struct {
		step int
		want float64
	}{
		{10, 1e-3},                   // cosine starts at BaseLR
		{60, 1e-5 + 0.5*(1e-3-1e-5)}, // half way through the 100 cosine steps
		{110, 1e-5},
	}
	for _, tc := range prefixed {
		if got := c.LR(tc.step); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("with warmup prefix: LR(%d) = %g, want %g", tc.step, got, tc.want)
		}
	}

	for step := 11; step < 110; step++ {
		if c.LR(step) > c.LR(step-1) {
			t.Fatalf("cosine increases at step %d", step)
		}
	}
}

func TestCosineValidate(t *testing.T) {
	bad := []Cosine{
		{BaseLR: 1, TotalSteps: 0},
		{BaseLR: 1, TotalSteps: 10, WarmupSteps: 10},
		{BaseLR: 0, TotalSteps: 10},
		{BaseLR: 1, MinLR: 2, TotalSteps: 10},
		{BaseLR: 1, TotalSteps: 10, WarmupInitLR: -1},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func TestConstant(t *testing.T) {
	var s Schedule = Constant(3e-4)
	if s.LR(0) != 3e-4 || s.LR(1e6) != 3e-4 {
		t.Errorf("Constant(3e-4) = %g, %g", s.LR(0), s.LR(1e6))
	}
}
