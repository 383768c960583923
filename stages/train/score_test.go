package train

import (
	"math"
	"testing"
)

func TestScore(t *testing.T) {
	logits := []float32{
		2, 1, 0, 0, // label 0: top-1
		1, 3, 2, 0, // label 2: second, a top-2 hit
		1, 1, 1, 1, // label 3: tied with all, counts as top-1
		0, 5, 4, 3, // label 0: fourth
	}
	r := evalResult{k: 2}
	score(&r, logits, []int{0, 2, 3, 0}, 4)
	if r.top1 != 2 || r.topk != 3 {
		t.Errorf("top-1 hits %g, top-2 hits %g, want 2 and 3", r.top1, r.topk)
	}
	lse := func(z ...float64) float64 {
		var s float64
		for _, v := range z {
			s += math.Exp(v)
		}
		return math.Log(s)
	}
	want := lse(2, 1, 0, 0) - 2 + lse(1, 3, 2, 0) - 2 + lse(1, 1, 1, 1) - 1 + lse(0, 5, 4, 3) - 0
	if math.Abs(r.loss-want) > 1e-9 {
		t.Errorf("summed cross-entropy %g, want %g", r.loss, want)
	}
}
