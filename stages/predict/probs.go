package predict

import "math"

// softmax writes the softmax of logits into dst (same length), computed in
// float64 after subtracting the largest logit.
func softmax(dst []float64, logits []float32) {
	top := math.Inf(-1)
	for _, v := range logits {
		top = math.Max(top, float64(v))
	}
	var sum float64
	for i, v := range logits {
		e := math.Exp(float64(v) - top)
		dst[i] = e
		sum += e
	}
	for i := range dst {
		dst[i] /= sum
	}
}

// combineViews averages class probabilities over test-time views. probs
// holds views blocks of n rows of classes probabilities each:
// probs[(v*n+i)*classes+k] is the probability of class k for row i in view
// v. It returns the mean and the population standard deviation over the
// views (divided by views, not views-1: the views are the whole set of
// symmetries used, not a sample), both [n*classes]. The deviation is
// computed in two passes, so it is exact to rounding, and is 0 for one view.
func combineViews(probs []float64, views, n, classes int) (mean, std []float64) {
	size := n * classes
	mean = make([]float64, size)
	std = make([]float64, size)
	for v := range views {
		for j, p := range probs[v*size : (v+1)*size] {
			mean[j] += p
		}
	}
	for j := range mean {
		mean[j] /= float64(views)
	}
	for v := range views {
		for j, p := range probs[v*size : (v+1)*size] {
			d := p - mean[j]
			std[j] += d * d
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(views))
	}
	return mean, std
}

// argmax returns the index of the largest value, the first one on ties.
func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// entropy returns the Shannon entropy of a probability distribution in
// nats; zero probabilities contribute nothing.
func entropy(p []float64) float64 {
	var h float64
	for _, v := range p {
		if v > 0 {
			h -= v * math.Log(v)
		}
	}
	return h
}
