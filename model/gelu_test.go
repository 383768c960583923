package model

import (
	"math"
	"testing"
)

// TestGELU compares the fast GELU and its derivative with their definitions
// through math.Erf, over the range where they differ from 0 and x.
func TestGELU(t *testing.T) {
	var worstY, worstD float64
	for i := -200000; i <= 200000; i++ {
		x := float64(i) * 1e-4 // [-20, 20]
		cdf := 0.5 * (1 + math.Erf(x/math.Sqrt2))
		pdf := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
		y, d := x*cdf, cdf+x*pdf
		worstY = max(worstY, math.Abs(float64(gelu(float32(x)))-y)/max(1, math.Abs(y)))
		worstD = max(worstD, math.Abs(float64(geluGrad(float32(x)))-d))
	}
	if worstY > 3e-7 || worstD > 3e-7 {
		t.Errorf("gelu relative error %.3g, derivative error %.3g; want both below 3e-7", worstY, worstD)
	}
	t.Logf("gelu relative error %.3g, derivative error %.3g", worstY, worstD)
}

func TestExpNeg(t *testing.T) {
	var worst float64
	for i := 0; i <= 1000000; i++ {
		x := -float64(i) * 1e-4 // [-100, 0]
		want := math.Exp(x)
		worst = max(worst, math.Abs(expNeg(x)-want)/want)
	}
	if worst > 1e-8 {
		t.Errorf("relative error %.3g, want below 1e-8", worst)
	}
	if got := expNeg(-800); got != 0 {
		t.Errorf("expNeg(-800) = %g, want 0", got)
	}
}
