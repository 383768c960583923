package evaluate

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Confusion counts predictions by true and predicted class. Its memory is
// classes² counters, whatever the number of rows added.
type Confusion struct {
	k      int
	counts []int64 // k×k, row-major: counts[truth*k+pred]
}

// NewConfusion returns an empty confusion matrix over classes classes.
func NewConfusion(classes int) *Confusion {
	return &Confusion{k: classes, counts: make([]int64, classes*classes)}
}

// Classes returns the number of classes.
func (c *Confusion) Classes() int { return c.k }

// Add counts one prediction. truth and pred lie in [0, Classes()).
func (c *Confusion) Add(truth, pred int) { c.counts[truth*c.k+pred]++ }

// Count returns the number of objects of class truth predicted as pred.
func (c *Confusion) Count(truth, pred int) int64 { return c.counts[truth*c.k+pred] }

// Matrix returns a copy of the counts as rows by true class.
func (c *Confusion) Matrix() [][]int64 {
	m := make([][]int64, c.k)
	for t := range m {
		m[t] = slices.Clone(c.counts[t*c.k : (t+1)*c.k])
	}
	return m
}

// Total returns the number of predictions counted.
func (c *Confusion) Total() int64 {
	var n int64
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Correct returns the number of predictions equal to the truth: the trace.
func (c *Confusion) Correct() int64 {
	var n int64
	for t := range c.k {
		n += c.counts[t*c.k+t]
	}
	return n
}

// Accuracy returns Correct()/Total(), the top-1 accuracy; NaN when empty.
func (c *Confusion) Accuracy() float64 {
	return float64(c.Correct()) / float64(c.Total())
}

// ClassScores are the one-vs-rest scores of one class.
type ClassScores struct {
	Support   int64 // objects of the class (row sum)
	Predicted int64 // objects predicted as the class (column sum)
	Correct   int64 // objects of the class predicted as it (diagonal)
	Precision float64
	Recall    float64
	F1        float64
}

// Present reports whether the class occurs in the truth or the predictions.
func (s ClassScores) Present() bool { return s.Support > 0 || s.Predicted > 0 }

// Scores returns the precision, recall and F1 of every class:
//
//	precision = correct / predicted
//	recall    = correct / support
//	F1        = 2·precision·recall / (precision + recall)
//
// A ratio with a zero denominator is 0, as scikit-learn reports it with
// zero_division=0: a class never predicted has precision 0, a class absent
// from the truth recall 0, and F1 is 0 when precision and recall both are.
func (c *Confusion) Scores() []ClassScores {
	s := make([]ClassScores, c.k)
	for t := range c.k {
		for p := range c.k {
			n := c.counts[t*c.k+p]
			s[t].Support += n
			s[p].Predicted += n
		}
		s[t].Correct = c.counts[t*c.k+t]
	}
	for i := range s {
		s[i].Precision = ratio(s[i].Correct, s[i].Predicted)
		s[i].Recall = ratio(s[i].Correct, s[i].Support)
		if sum := s[i].Precision + s[i].Recall; sum > 0 {
			s[i].F1 = 2 * s[i].Precision * s[i].Recall / sum
		}
	}
	return s
}

func ratio(num, den int64) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// MacroF1 returns the unweighted mean F1 of the classes that are Present;
// classes absent from both the truth and the predictions are left out, as
// scikit-learn does when it infers the labels from the data. NaN when no
// class is present.
func MacroF1(scores []ClassScores) float64 {
	var sum float64
	n := 0
	for _, s := range scores {
		if s.Present() {
			sum += s.F1
			n++
		}
	}
	return sum / float64(n)
}

// WeightedF1 returns the mean F1 of the classes weighted by their support.
// NaN when the supports sum to zero.
func WeightedF1(scores []ClassScores) float64 {
	var sum float64
	var n int64
	for _, s := range scores {
		sum += float64(s.Support) * s.F1
		n += s.Support
	}
	return sum / float64(n)
}

// InTopK reports whether class truth is among the k most probable classes
// of probs. Ties are ranked by class index, lower first, the way an argmax
// that keeps the first maximum ranks them: truth is in the top k when fewer
// than k classes have a higher probability or an equal one and a lower
// index. So InTopK(probs, t, 1) is true exactly when the first maximum of
// probs is t, and a tie helps the truth only as far as its index does. A
// NaN probability of the truth is never in the top k.
func InTopK(probs []float32, truth, k int) bool {
	pt := probs[truth]
	if pt != pt { // NaN
		return false
	}
	ahead := 0
	for c, p := range probs {
		if p > pt || (p == pt && c < truth) {
			ahead++
			if ahead >= k {
				return false
			}
		}
	}
	return true
}

// Calibration accumulates confidence and correctness in equal-width
// confidence bins for the expected calibration error and the reliability
// diagram. Its memory is three numbers per bin.
//
// With B bins, bin i (0-based) holds the confidences in (i/B, (i+1)/B]; a
// confidence of exactly 0 goes to bin 0. This is the binning of Guo et al.,
// "On Calibration of Modern Neural Networks" (ICML 2017), who use B = 15.
type Calibration struct {
	bins []calBin
}

type calBin struct {
	count   int64
	conf    float64 // sum of confidences
	correct int64
}

// NewCalibration returns an empty Calibration with the given number of
// bins (at least 1).
func NewCalibration(bins int) *Calibration {
	return &Calibration{bins: make([]calBin, max(bins, 1))}
}

// Bin returns the index of the bin of a confidence in [0, 1]; values
// outside are clamped.
func (c *Calibration) Bin(confidence float64) int {
	b := len(c.bins)
	i := int(math.Ceil(confidence*float64(b))) - 1
	i = min(max(i, 0), b-1)
	// confidence*b may round across an edge: compare with the edges as
	// Bins reports them.
	if i > 0 && confidence <= float64(i)/float64(b) {
		i--
	} else if i < b-1 && confidence > float64(i+1)/float64(b) {
		i++
	}
	return i
}

// Add records one prediction of the given confidence that was or was not
// correct.
func (c *Calibration) Add(confidence float64, correct bool) {
	b := &c.bins[c.Bin(confidence)]
	b.count++
	b.conf += confidence
	if correct {
		b.correct++
	}
}

// CalibrationBin summarises one bin. Confidence and Accuracy are 0 when the
// bin is empty.
type CalibrationBin struct {
	Lower, Upper float64 // the bin holds confidences in (Lower, Upper]
	Count        int64
	Confidence   float64 // mean confidence
	Accuracy     float64 // fraction correct
}

// Bins returns every bin, in increasing confidence.
func (c *Calibration) Bins() []CalibrationBin {
	n := len(c.bins)
	out := make([]CalibrationBin, n)
	for i, b := range c.bins {
		out[i] = CalibrationBin{Lower: float64(i) / float64(n), Upper: float64(i+1) / float64(n), Count: b.count}
		if b.count > 0 {
			out[i].Confidence = b.conf / float64(b.count)
			out[i].Accuracy = float64(b.correct) / float64(b.count)
		}
	}
	return out
}

// ECE returns the expected calibration error: the mean over predictions of
// the gap between accuracy and confidence of their bin,
//
//	ECE = Σ_b (n_b / N) · |accuracy_b − confidence_b|
//
// NaN when nothing was added.
func (c *Calibration) ECE() float64 {
	var n int64
	var sum float64
	for _, b := range c.Bins() {
		n += b.Count
		sum += float64(b.Count) * math.Abs(b.Accuracy-b.Confidence)
	}
	return sum / float64(n)
}

// Interval is a two-sided confidence interval at level Level (e.g. 0.95).
type Interval struct {
	Lower, Upper, Level float64
}

// BootstrapAccuracy returns the percentile bootstrap interval at level of
// an accuracy of correct out of n, from resamples resamples drawn with the
// given seed; the same arguments always give the same interval. Quantiles
// interpolate linearly between order statistics (NumPy's default).
//
// A bootstrap resample draws n rows with replacement; the number of correct
// rows among them is exactly Binomial(n, correct/n). The resampled counts
// are drawn from that distribution directly, which is the same bootstrap as
// drawing row indexes but takes O(resamples) time and no memory per row,
// where keeping one bool per row would take n bytes and resamples·n random
// draws.
func BootstrapAccuracy(correct, n int64, resamples int, level float64, seed int64) Interval {
	iv := Interval{Level: level}
	if n <= 0 || resamples <= 0 {
		iv.Lower, iv.Upper = math.NaN(), math.NaN()
		return iv
	}
	acc := float64(correct) / float64(n)
	if correct == 0 || correct == n { // every resample is identical
		iv.Lower, iv.Upper = acc, acc
		return iv
	}
	src := rand.NewPCG(uint64(seed), 0x626f6f7473747261) // "bootstra"
	dist := distuv.Binomial{N: float64(n), P: acc, Src: src}
	accs := make([]float64, resamples)
	for i := range accs {
		accs[i] = dist.Rand() / float64(n)
	}
	slices.Sort(accs)
	alpha := (1 - level) / 2
	iv.Lower, iv.Upper = quantile(accs, alpha), quantile(accs, 1-alpha)
	return iv
}

// quantile returns the p-quantile of sorted values, interpolating linearly
// between the order statistics at (len-1)·p.
func quantile(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}
