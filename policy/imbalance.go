package policy

import (
	"fmt"
	"math"
)

// ClassCounts returns how many of labels fall in each of classes classes.
func ClassCounts(labels []int, classes int) ([]int64, error) {
	if classes <= 0 {
		return nil, fmt.Errorf("policy: %d classes, want at least 1", classes)
	}
	counts := make([]int64, classes)
	for i, l := range labels {
		if l < 0 || l >= classes {
			return nil, fmt.Errorf("policy: sample %d has label %d, want 0..%d", i, l, classes-1)
		}
		counts[l]++
	}
	return counts, nil
}

// EffectiveNumberBeta is the β of ClassWeights' "effective_number" mode.
const EffectiveNumberBeta = 0.999

// ClassWeights returns per-class loss weights for a training set with the
// given class counts. The modes:
//
//	"none"              every weight 1
//	"inverse"           ∝ 1/n_c
//	"sqrt_inverse"      ∝ 1/√n_c
//	"effective_number"  ∝ (1-β)/(1-β^n_c) with β = EffectiveNumberBeta
//	                    (Cui et al. 2019, "Class-Balanced Loss Based on
//	                    Effective Number of Samples")
//
// The weights are scaled so that the average weight per training sample is
// 1 (Σ n_c·w_c = Σ n_c), keeping the loss on its usual scale; "inverse" is
// then scikit-learn's "balanced" weighting. Empty classes get weight 0.
func ClassWeights(counts []int64, mode string) ([]float64, error) {
	if mode == "effective_number" {
		return EffectiveNumberWeights(counts, EffectiveNumberBeta)
	}
	var f func(n float64) float64
	switch mode {
	case "none":
		f = func(float64) float64 { return 1 }
	case "inverse":
		f = func(n float64) float64 { return 1 / n }
	case "sqrt_inverse":
		f = func(n float64) float64 { return 1 / math.Sqrt(n) }
	default:
		return nil, fmt.Errorf("policy: class weight mode %q: want \"none\", \"inverse\", \"sqrt_inverse\" or \"effective_number\"", mode)
	}
	return classWeights(counts, f)
}

// EffectiveNumberWeights returns class weights ∝ (1-beta)/(1-beta^n_c),
// scaled as in ClassWeights; beta must be in [0, 1).
func EffectiveNumberWeights(counts []int64, beta float64) ([]float64, error) {
	if !(beta >= 0 && beta < 1) {
		return nil, fmt.Errorf("policy: effective-number beta %g, want 0 <= beta < 1", beta)
	}
	return classWeights(counts, func(n float64) float64 {
		return (1 - beta) / -math.Expm1(n*math.Log(beta))
	})
}

func classWeights(counts []int64, f func(n float64) float64) ([]float64, error) {
	w := make([]float64, len(counts))
	var total, weighted float64
	for c, n := range counts {
		if n < 0 {
			return nil, fmt.Errorf("policy: class %d has count %d, want >= 0", c, n)
		}
		if n == 0 {
			continue
		}
		w[c] = f(float64(n))
		total += float64(n)
		weighted += float64(n) * w[c]
	}
	if total == 0 {
		return nil, fmt.Errorf("policy: class weights of %d classes with no samples at all", len(counts))
	}
	for c := range w {
		w[c] *= total / weighted
	}
	return w, nil
}

// BalancedSampler draws the sample order of each epoch so that every class
// is equally likely: sample i is drawn with probability proportional to
// 1/count(label[i]), with replacement, len(labels) draws per epoch. Each
// epoch's draw depends only on (seed, epoch).
type BalancedSampler struct {
	seed    int64
	n       int
	members [][]int // sample indices of each non-empty class
}

// NewBalancedSampler indexes labels (each in 0..classes-1).
func NewBalancedSampler(labels []int, classes int, seed int64) (*BalancedSampler, error) {
	counts, err := ClassCounts(labels, classes)
	if err != nil {
		return nil, err
	}
	byClass := make([][]int, classes)
	for c, n := range counts {
		byClass[c] = make([]int, 0, n)
	}
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	s := &BalancedSampler{seed: seed, n: len(labels)}
	for _, m := range byClass {
		if len(m) > 0 {
			s.members = append(s.members, m)
		}
	}
	if len(s.members) == 0 {
		return nil, fmt.Errorf("policy: balanced sampler over no samples")
	}
	return s, nil
}

// Len returns the number of draws per epoch.
func (s *BalancedSampler) Len() int { return s.n }

// Epoch returns the sample indices of epoch, in draw order. Drawing a class
// uniformly among the non-empty ones and then a member uniformly is the
// same distribution as weighting each sample by 1/count(class).
func (s *BalancedSampler) Epoch(epoch int) []int {
	rng := stream(s.seed, domainSampler, epoch, 0)
	out := make([]int, s.n)
	for i := range out {
		m := s.members[rng.IntN(len(s.members))]
		out[i] = m[rng.IntN(len(m))]
	}
	return out
}
