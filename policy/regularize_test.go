package policy

import (
	"math"
	"testing"
)

func TestEMA(t *testing.T) {
	params := [][]float32{{1, 2}, {3}}
	e := NewEMA(0.9, false, params)
	params[0][0] = 99 // the shadow is a copy
	if e.Shadow[0][0] != 1 {
		t.Fatalf("shadow aliases params")
	}
	e.Update([][]float32{{11, 2}, {-7}})
	want := [][]float32{{0.9*1 + 0.1*11, 2}, {0.9*3 - 0.1*7}}
	for i := range want {
		for k := range want[i] {
			if math.Abs(float64(e.Shadow[i][k]-want[i][k])) > 1e-6 {
				t.Fatalf("shadow %v, want %v", e.Shadow, want)
			}
		}
	}

	w := &EMA{Decay: 0.999, Warmup: true}
	w.Update([][]float32{{5}}) // initialises
	if w.Shadow[0][0] != 5 || w.Updates != 1 {
		t.Fatalf("first update: shadow %v, updates %d", w.Shadow, w.Updates)
	}
	if got, want := w.CurrentDecay(), 2.0/11; math.Abs(got-want) > 1e-15 {
		t.Errorf("decay after one update %g, want %g", got, want)
	}
	w.Update([][]float32{{16}})
	if got, want := float64(w.Shadow[0][0]), 5+(1-2.0/11)*11; math.Abs(got-want) > 1e-5 {
		t.Errorf("warmed-up update gave %g, want %g", got, want)
	}
	w.Updates = 1_000_000
	if w.CurrentDecay() != 0.999 {
		t.Errorf("decay after many updates %g, want 0.999", w.CurrentDecay())
	}

	defer func() {
		if recover() == nil {
			t.Error("shape mismatch did not panic")
		}
	}()
	e.Update([][]float32{{1}})
}

func TestClipGlobalNorm(t *testing.T) {
	grads := [][]float32{{3, 0}, {4}} // norm 5
	if n := ClipGlobalNorm(grads, 10); n != 5 || grads[0][0] != 3 {
		t.Errorf("below the limit: norm %g, grads %v", n, grads)
	}
	if n := ClipGlobalNorm(grads, 1); n != 5 {
		t.Errorf("norm %g, want 5", n)
	}
	var s float64
	for _, g := range grads {
		for _, v := range g {
			s += float64(v) * float64(v)
		}
	}
	if got := math.Sqrt(s); math.Abs(got-1) > 1e-6 {
		t.Errorf("clipped norm %g, want 1", got)
	}
	if math.Abs(float64(grads[0][0])/float64(grads[1][0])-0.75) > 1e-6 {
		t.Errorf("clipping changed the direction: %v", grads)
	}
	inf := [][]float32{{float32(math.Inf(1)), 1}}
	if n := ClipGlobalNorm(inf, 1); !math.IsInf(n, 1) || inf[0][1] != 1 {
		t.Errorf("infinite gradient: norm %g, grads %v (want untouched)", n, inf)
	}
}

func TestSoftTargetCrossEntropy(t *testing.T) {
	// Row 0: logits (0, ln 3) give softmax (1/4, 3/4); a hard target on
	// class 1 costs -ln(3/4).
	// Row 1: uniform logits over 2 classes cost ln 2 for any target row.
	logits := []float32{0, float32(math.Log(3)), 5, 5}
	targets := []float32{0, 1, 0.3, 0.7}
	want := (-math.Log(0.75) + math.Log(2)) / 2
	if got := SoftTargetCrossEntropy(logits, targets, 2); math.Abs(got-want) > 1e-7 {
		t.Errorf("loss %g, want %g", got, want)
	}
	// Label smoothing 0.1 over 4 classes, logits (2, 0, 0, 0), true class 0:
	// targets 0.925, 0.025×3; log-softmax: 2-L and -L with L = ln(e²+3).
	smoothed := make([]float32, 4)
	if err := SmoothTargets([]int{0}, 4, 0.1, smoothed); err != nil {
		t.Fatal(err)
	}
	L := math.Log(math.Exp(2) + 3)
	want = -(0.925*(2-L) + 3*0.025*(-L))
	if got := SoftTargetCrossEntropy([]float32{2, 0, 0, 0}, smoothed, 4); math.Abs(got-want) > 1e-6 {
		t.Errorf("smoothed loss %g, want %g", got, want)
	}
	// Large logits must not overflow.
	if got := SoftTargetCrossEntropy([]float32{1000, 0}, []float32{1, 0}, 2); got < 0 || got > 1e-300 {
		t.Errorf("loss of a confident correct row %g, want 0", got)
	}
}
