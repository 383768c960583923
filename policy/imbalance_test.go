package policy

import (
	"math"
	"slices"
	"testing"
)

func TestClassWeights(t *testing.T) {
	counts := []int64{100, 400, 0, 25}
	cases := []struct {
		mode string
		raw  []float64 // before scaling
	}{
		{"none", []float64{1, 1, 0, 1}},
		{"inverse", []float64{1.0 / 100, 1.0 / 400, 0, 1.0 / 25}},
		{"sqrt_inverse", []float64{1.0 / 10, 1.0 / 20, 0, 1.0 / 5}},
		{"effective_number", []float64{
			0.001 / (1 - math.Pow(0.999, 100)), 0.001 / (1 - math.Pow(0.999, 400)), 0, 0.001 / (1 - math.Pow(0.999, 25)),
		}},
	}
	for _, tc := range cases {
		w, err := ClassWeights(counts, tc.mode)
		if err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		var total, weighted float64
		for c, n := range counts {
			total += float64(n)
			weighted += float64(n) * tc.raw[c]
		}
		for c := range w {
			if want := tc.raw[c] * total / weighted; math.Abs(w[c]-want) > 1e-12 {
				t.Errorf("%s: weights %v, want %v (scaled)", tc.mode, w, tc.raw)
				break
			}
		}
	}
	// "inverse" is scikit-learn's balanced weighting: N / (classes·n_c).
	w, _ := ClassWeights([]int64{10, 30}, "inverse")
	if math.Abs(w[0]-2) > 1e-12 || math.Abs(w[1]-2.0/3) > 1e-12 {
		t.Errorf("inverse weights of [10 30] = %v, want [2 0.667]", w)
	}
	if _, err := ClassWeights(counts, "log"); err == nil {
		t.Error(`mode "log": no error`)
	}
	if _, err := ClassWeights([]int64{0, 0}, "inverse"); err == nil {
		t.Error("no samples: no error")
	}
	if _, err := ClassWeights([]int64{-1, 2}, "none"); err == nil {
		t.Error("negative count: no error")
	}
}

func TestBalancedSampler(t *testing.T) {
	// 900 of class 0, 90 of class 1, 10 of class 3, none of class 2.
	var labels []int
	for i := range 1000 {
		switch {
		case i < 900:
			labels = append(labels, 0)
		case i < 990:
			labels = append(labels, 1)
		default:
			labels = append(labels, 3)
		}
	}
	s, err := NewBalancedSampler(labels, 4, 42)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 4)
	const epochs = 30
	for e := range epochs {
		idx := s.Epoch(e)
		if len(idx) != s.Len() {
			t.Fatalf("epoch %d has %d draws, want %d", e, len(idx), s.Len())
		}
		for _, i := range idx {
			counts[labels[i]]++
		}
	}
	total := float64(epochs * len(labels))
	for c, n := range counts {
		want := 1.0 / 3
		if c == 2 {
			want = 0
		}
		if got := float64(n) / total; math.Abs(got-want) > 0.01 {
			t.Errorf("class %d drawn %.3f of the time, want %.3f", c, got, want)
		}
	}
	if !slices.Equal(s.Epoch(3), s.Epoch(3)) {
		t.Error("the same epoch drew different indices")
	}
	if slices.Equal(s.Epoch(3), s.Epoch(4)) {
		t.Error("epochs 3 and 4 drew the same indices")
	}
	if _, err := NewBalancedSampler([]int{0, 5}, 4, 1); err == nil {
		t.Error("label 5 of 4 classes: no error")
	}
}

func TestEpochPermutation(t *testing.T) {
	p := EpochPermutation(1, 2, 50)
	if !slices.Equal(p, EpochPermutation(1, 2, 50)) {
		t.Error("same epoch, different permutations")
	}
	if slices.Equal(p, EpochPermutation(1, 3, 50)) {
		t.Error("different epochs, same permutation")
	}
	q := slices.Clone(p)
	slices.Sort(q)
	for i, v := range q {
		if v != i {
			t.Fatalf("%v is not a permutation of 0..49", p)
		}
	}
}
