package model

import (
	"math"

	"github.com/astroformer/astroformer/model/internal/asm"
)

// AdamW is PyTorch's AdamW optimiser (Loshchilov & Hutter): Adam with bias
// correction and decoupled weight decay, applied only to parameters whose
// Decay is set. LR may be changed between updates (a schedule).
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Step                               int64       // updates made so far
	M, V                               [][]float32 // first and second moments, one per parameter
	// Scale, when set, multiplies the learning rate (and so the decoupled
	// weight decay) of each parameter: layer-wise learning-rate decay. A
	// parameter scaled by 0 is frozen: neither it nor its moments change.
	Scale []float64

	pieces []adamSpan // the work of the last update
}

// adamPiece is the most values of one parameter that Update hands one
// goroutine at a time (a multiple of 8, for asm.AdamW8).
const adamPiece = 1 << 15

// adamSpan is values [lo, hi) of parameter param.
type adamSpan struct{ param, lo, hi int }

// NewAdamW returns an optimiser for params with PyTorch's default betas
// (0.9, 0.999) and eps 1e-8, and zero moments.
func NewAdamW(params []*Param, lr, weightDecay float64) *AdamW {
	o := &AdamW{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay,
		M: make([][]float32, len(params)), V: make([][]float32, len(params))}
	for i, p := range params {
		o.M[i] = make([]float32, len(p.Data))
		o.V[i] = make([]float32, len(p.Data))
	}
	return o
}

// Update applies one step to params, which must be the list the optimiser
// was made for, from their Grad:
//
//	p ← p·(1 − lr·wd)            (when p.Decay)
//	m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
//	p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps)
func (o *AdamW) Update(params []*Param) {
	o.Step++
	bc1 := 1 - math.Pow(o.Beta1, float64(o.Step))
	bc2 := 1 - math.Pow(o.Beta2, float64(o.Step))
	stepSize := o.LR / bc1
	bc2Sqrt := math.Sqrt(bc2)
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	// The work is cut into pieces of at most adamPiece values, so that the
	// few large weight matrices do not leave one core with most of it.
	o.pieces = o.pieces[:0]
	for i, p := range params {
		if o.Scale != nil && o.Scale[i] == 0 {
			continue
		}
		for lo := 0; lo < len(p.Grad); lo += adamPiece {
			o.pieces = append(o.pieces, adamSpan{i, lo, min(lo+adamPiece, len(p.Grad))})
		}
	}
	parallelFor(len(o.pieces), func(_, lo, hi int) {
		for _, s := range o.pieces[lo:hi] {
			p, m, v := params[s.param], o.M[s.param][s.lo:s.hi], o.V[s.param][s.lo:s.hi]
			data, grad := p.Data[s.lo:s.hi], p.Grad[s.lo:s.hi]
			lr, step := o.LR, stepSize
			if o.Scale != nil {
				lr, step = lr*o.Scale[s.param], step*o.Scale[s.param]
			}
			decay := float32(1)
			if p.Decay {
				decay = float32(1 - lr*o.WeightDecay)
			}
			j := 0
			if n := len(grad) &^ 7; asm.Available && n > 0 {
				asm.AdamW8(&data[0], &grad[0], &m[0], &v[0], n, b1, b2, decay, step, bc2Sqrt, o.Eps)
				j = n
			}
			for ; j < len(grad); j++ {
				g := grad[j]
				m[j] = float32(b1*m[j]) + float32((1-b1)*g)
				v[j] = float32(b2*v[j]) + float32(float32((1-b2)*g)*g)
				denom := float64(math.Sqrt(float64(v[j]))/bc2Sqrt) + o.Eps
				data[j] = float32(float64(data[j]*decay) - float64(step*float64(m[j]))/denom)
			}
		}
	})
}
