package synthetic

import (
	"math"
	"testing"
)

func TestFastMath(t *testing.T) {
	for x := -80.0; x < 80; x += 0.0137 {
		want := math.Exp(float64(float32(x)))
		if got := float64(expf(float32(x))); math.Abs(got-want) > 4e-6*want {
			t.Fatalf("expf(%g) = %g, want %g", x, got, want)
		}
	}
	for x := 1e-30; x < 1e30; x *= 1.37 {
		want := math.Log(float64(float32(x)))
		if got := float64(logf(float32(x))); math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Fatalf("logf(%g) = %g, want %g", x, got, want)
		}
	}
	for a := -math.Pi; a < math.Pi; a += 0.00731 {
		for _, r := range []float64{1e-3, 1, 250} {
			x, y := r*math.Cos(a), r*math.Sin(a)
			want := math.Atan2(y, x)
			if got := float64(atan2f(float32(y), float32(x))); math.Abs(got-want) > 2e-5 {
				t.Fatalf("atan2f(%g, %g) = %g, want %g", y, x, got, want)
			}
		}
	}
	for x := -300.0; x < 300; x += 0.0173 {
		want := math.Cos(float64(float32(x)))
		if got := float64(cosf(float32(x))); math.Abs(got-want) > 1e-4 {
			t.Fatalf("cosf(%g) = %g, want %g", x, got, want)
		}
	}
	if got := expf(-100); got < 0 || got > 1e-37 {
		t.Fatalf("expf(-100) = %g, want about 0", got)
	}
	if got := powf(0, 2); got != 0 {
		t.Fatalf("powf(0, 2) = %g, want 0", got)
	}
}
