package evaluate

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// confusionOf builds a confusion matrix from rows of counts by true class.
func confusionOf(rows [][]int64) *Confusion {
	c := NewConfusion(len(rows))
	for t, row := range rows {
		for p, n := range row {
			for range n {
				c.Add(t, p)
			}
		}
	}
	return c
}

func TestConfusionScores(t *testing.T) {
	// truth \ predicted:  A  B  C  D
	c := confusionOf([][]int64{
		{5, 2, 1, 0}, // A: support 8
		{1, 6, 0, 0}, // B: support 7
		{0, 3, 2, 0}, // C: support 5
		{0, 0, 0, 0}, // D: absent from truth and predictions
	})
	if c.Total() != 20 || c.Correct() != 13 || !near(c.Accuracy(), 0.65) {
		t.Fatalf("total %d, correct %d, accuracy %g; want 20, 13, 0.65", c.Total(), c.Correct(), c.Accuracy())
	}
	// By hand: F1 = 2TP / (2TP + FP + FN).
	want := []ClassScores{
		{Support: 8, Predicted: 6, Correct: 5, Precision: 5.0 / 6, Recall: 5.0 / 8, F1: 10.0 / 14},
		{Support: 7, Predicted: 11, Correct: 6, Precision: 6.0 / 11, Recall: 6.0 / 7, F1: 12.0 / 18},
		{Support: 5, Predicted: 3, Correct: 2, Precision: 2.0 / 3, Recall: 2.0 / 5, F1: 4.0 / 8},
		{},
	}
	got := c.Scores()
	for i := range want {
		g, w := got[i], want[i]
		if g.Support != w.Support || g.Predicted != w.Predicted || g.Correct != w.Correct ||
			!near(g.Precision, w.Precision) || !near(g.Recall, w.Recall) || !near(g.F1, w.F1) {
			t.Errorf("class %d: got %+v, want %+v", i, g, w)
		}
	}
	// Macro over the three present classes: (5/7 + 2/3 + 1/2) / 3 = 79/126.
	if m := MacroF1(got); !near(m, 79.0/126) {
		t.Errorf("macro F1 %g, want 79/126 = %g", m, 79.0/126)
	}
	// Weighted by support: (8·5/7 + 7·2/3 + 5·1/2) / 20 = 541/840.
	if w := WeightedF1(got); !near(w, 541.0/840) {
		t.Errorf("weighted F1 %g, want 541/840 = %g", w, 541.0/840)
	}
	m := c.Matrix()
	m[0][0] = 99 // a copy
	if c.Count(0, 0) != 5 || c.Count(2, 1) != 3 {
		t.Errorf("Count(0,0)=%d Count(2,1)=%d after editing Matrix(), want 5 and 3", c.Count(0, 0), c.Count(2, 1))
	}
}

func TestScoresZeroDivision(t *testing.T) {
	// Three objects of class 0, one predicted as class 1, which never
	// occurs in the truth; class 2 occurs nowhere.
	c := confusionOf([][]int64{{2, 1, 0}, {0, 0, 0}, {0, 0, 0}})
	s := c.Scores()
	if !near(s[0].F1, 0.8) || s[1].Precision != 0 || s[1].Recall != 0 || s[1].F1 != 0 {
		t.Fatalf("scores %+v: want F1 0.8 for class 0 and zeros for class 1", s)
	}
	if !s[1].Present() || s[2].Present() {
		t.Errorf("present: class 1 %v, class 2 %v; want true, false", s[1].Present(), s[2].Present())
	}
	if m := MacroF1(s); !near(m, 0.4) {
		t.Errorf("macro F1 %g, want (0.8 + 0) / 2 = 0.4 (class 2 left out)", m)
	}
	if !math.IsNaN(MacroF1(NewConfusion(2).Scores())) || !math.IsNaN(NewConfusion(2).Accuracy()) {
		t.Error("empty matrix: want NaN macro F1 and accuracy")
	}
}

func TestInTopK(t *testing.T) {
	for _, tc := range []struct {
		probs []float32
		truth int
		k     int
		want  bool
	}{
		{[]float32{0.1, 0.6, 0.3}, 1, 1, true},
		{[]float32{0.1, 0.6, 0.3}, 2, 1, false},
		{[]float32{0.1, 0.6, 0.3}, 2, 2, true},
		{[]float32{0.1, 0.6, 0.3}, 0, 2, false},
		{[]float32{0.1, 0.6, 0.3}, 0, 3, true},
		// Ties rank the lower index first, like a first-maximum argmax.
		{[]float32{0.4, 0.3, 0.3}, 1, 2, true},  // only class 0 ahead
		{[]float32{0.4, 0.3, 0.3}, 2, 2, false}, // classes 0 and 1 ahead
		{[]float32{0.25, 0.25, 0.25, 0.25}, 0, 1, true},
		{[]float32{0.25, 0.25, 0.25, 0.25}, 3, 3, false},
		{[]float32{0.25, 0.25, 0.25, 0.25}, 3, 4, true},
		{[]float32{0.5, float32(math.NaN()), 0.5}, 1, 3, false},
	} {
		if got := InTopK(tc.probs, tc.truth, tc.k); got != tc.want {
			t.Errorf("InTopK(%v, %d, %d) = %v, want %v", tc.probs, tc.truth, tc.k, got, tc.want)
		}
	}
}

func TestCalibrationBins(t *testing.T) {
	c := NewCalibration(15)
	for _, tc := range []struct {
		conf float64
		bin  int
	}{
		{0, 0}, {1.0 / 30, 0}, {1.0 / 15, 0}, {0.2, 2}, {0.2000001, 3}, {0.5, 7}, {0.95, 14}, {1, 14}, {-0.1, 0}, {1.1, 14},
	} {
		if got := c.Bin(tc.conf); got != tc.bin {
			t.Errorf("15 bins: confidence %g in bin %d, want %d", tc.conf, got, tc.bin)
		}
	}
	c5 := NewCalibration(5)
	for conf, bin := range map[float64]int{0.2: 0, 0.4: 1, 0.6: 2, 0.8: 3, 0.80001: 4} {
		if got := c5.Bin(conf); got != bin {
			t.Errorf("5 bins: confidence %g in bin %d, want %d", conf, got, bin)
		}
	}
}

func TestECEByHand(t *testing.T) {
	c := NewCalibration(15)
	for _, s := range []struct {
		conf    float64
		correct bool
	}{
		// bin 14 (14/15, 1]: confidence 0.96, accuracy 0.5, gap 0.46
		{0.95, true}, {0.97, false},
		// bin 10 (10/15, 11/15]: confidence 0.71, accuracy 1, gap 0.29
		{0.70, true}, {0.72, true},
		// bin 7 (7/15, 8/15]: confidence 0.50, accuracy 0, gap 0.50
		{0.50, false},
		// bin 5 (5/15, 6/15]: confidence 0.35, accuracy 1, gap 0.65
		{0.35, true},
	} {
		c.Add(s.conf, s.correct)
	}
	// ECE = (2·0.46 + 2·0.29 + 0.50 + 0.65) / 6 = 2.65 / 6.
	if got := c.ECE(); math.Abs(got-2.65/6) > 1e-12 {
		t.Errorf("ECE %.15f, want 2.65/6 = %.15f", got, 2.65/6)
	}
	bins := c.Bins()
	if len(bins) != 15 || !near(bins[10].Lower, 10.0/15) || !near(bins[10].Upper, 11.0/15) {
		t.Fatalf("bins %+v", bins)
	}
	b := bins[14]
	if b.Count != 2 || !near(b.Confidence, 0.96) || !near(b.Accuracy, 0.5) {
		t.Errorf("bin 14: %+v, want 2 predictions, confidence 0.96, accuracy 0.5", b)
	}
	if bins[0].Count != 0 || bins[0].Accuracy != 0 || bins[0].Confidence != 0 {
		t.Errorf("empty bin 0: %+v", bins[0])
	}
	if !math.IsNaN(NewCalibration(15).ECE()) {
		t.Error("ECE of nothing is not NaN")
	}
}

func TestBootstrapAccuracy(t *testing.T) {
	const correct, n = 1620, 1774
	acc := float64(correct) / n
	a := BootstrapAccuracy(correct, n, 1000, 0.95, 7)
	b := BootstrapAccuracy(correct, n, 1000, 0.95, 7)
	if a != b {
		t.Fatalf("same seed, different intervals: %+v and %+v", a, b)
	}
	if !(a.Lower < acc && acc < a.Upper) || a.Level != 0.95 {
		t.Fatalf("interval %+v does not contain the accuracy %g", a, acc)
	}
	// The normal approximation gives a half-width of 1.96·sqrt(p(1-p)/n).
	half := 1.96 * math.Sqrt(acc*(1-acc)/n)
	if math.Abs((a.Upper-a.Lower)/2-half) > 0.15*half {
		t.Errorf("half-width %g, want about %g", (a.Upper-a.Lower)/2, half)
	}
	if c := BootstrapAccuracy(correct, n, 1000, 0.95, 8); c == a {
		t.Errorf("seeds 7 and 8 gave the same interval %+v", a)
	}
	if d := BootstrapAccuracy(50, 50, 1000, 0.95, 7); d.Lower != 1 || d.Upper != 1 {
		t.Errorf("all correct: %+v, want [1, 1]", d)
	}
	if e := BootstrapAccuracy(0, 0, 1000, 0.95, 7); !math.IsNaN(e.Lower) || !math.IsNaN(e.Upper) {
		t.Errorf("no rows: %+v, want NaN bounds", e)
	}
}

// TestBootstrapMatchesResampling compares the binomial shortcut with the
// bootstrap done the long way: resampling a bool per row.
func TestBootstrapMatchesResampling(t *testing.T) {
	const n, correct, resamples = 200, 150, 4000
	rows := make([]bool, n)
	for i := range correct {
		rows[i] = true
	}
	rng := rand.New(rand.NewPCG(1, 2))
	accs := make([]float64, resamples)
	for r := range accs {
		k := 0
		for range n {
			if rows[rng.IntN(n)] {
				k++
			}
		}
		accs[r] = float64(k) / n
	}
	slices.Sort(accs)
	long := Interval{Lower: quantile(accs, 0.025), Upper: quantile(accs, 0.975)}
	short := BootstrapAccuracy(correct, n, resamples, 0.95, 3)
	// Accuracy moves in steps of 1/200; allow two steps of Monte Carlo noise.
	if math.Abs(long.Lower-short.Lower) > 0.011 || math.Abs(long.Upper-short.Upper) > 0.011 {
		t.Errorf("binomial bootstrap %+v, row resampling %+v", short, long)
	}
}

func TestQuantile(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5}
	for p, want := range map[float64]float64{0: 1, 0.25: 2, 0.5: 3, 0.9: 4.6, 1: 5} {
		if got := quantile(x, p); !near(got, want) {
			t.Errorf("quantile(%v, %g) = %g, want %g", x, p, got, want)
		}
	}
}
