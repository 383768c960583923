package policy

import "math"

// ClipGlobalNorm rescales grads in place so that their global L2 norm (over
// all tensors together) is at most maxNorm, and returns the norm before
// clipping, as PyTorch's clip_grad_norm_: when the norm exceeds maxNorm
// every gradient is multiplied by maxNorm/(norm+1e-6). A maxNorm ≤ 0 only
// measures. A non-finite norm leaves grads untouched, so the caller can
// detect it and skip the step.
func ClipGlobalNorm(grads [][]float32, maxNorm float64) (norm float64) {
	var sum float64
	for _, g := range grads {
		for _, v := range g {
			sum += float64(v) * float64(v)
		}
	}
	norm = math.Sqrt(sum)
	if maxNorm <= 0 || !(norm > maxNorm) || math.IsInf(norm, 0) {
		return norm
	}
	scale := float32(maxNorm / (norm + 1e-6))
	for _, g := range grads {
		for k := range g {
			g[k] *= scale
		}
	}
	return norm
}
