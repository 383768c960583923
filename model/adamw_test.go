package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAdamW follows two AdamW steps of PyTorch's algorithm by hand, with
// weight decay on one parameter and not on the other.
func TestAdamW(t *testing.T) {
	params := []*Param{
		{ParamSpec: ParamSpec{Name: "w", Shape: []int{2, 1}, Decay: true}, Data: []float32{0.5, -1}, Grad: make([]float32, 2)},
		{ParamSpec: ParamSpec{Name: "b", Shape: []int{1}}, Data: []float32{2}, Grad: make([]float32, 1)},
	}
	grads := [][][]float32{{{0.1, -0.2}, {3}}, {{-0.3, 0.05}, {1}}}
	opt := NewAdamW(params, 0.01, 0.1)
	const b1, b2, eps = 0.9, 0.999, 1e-8

	want := [][]float64{{0.5, -1}, {2}}
	m := [][]float64{{0, 0}, {0}}
	v := [][]float64{{0, 0}, {0}}
	for step, g := range grads {
		lr := 0.01 / float64(step+1) // a schedule: the rate may change between steps
		opt.LR = lr
		for i, p := range params {
			copy(p.Grad, g[i])
			for j := range p.Data {
				if p.Decay {
					want[i][j] *= 1 - lr*0.1
				}
				gj := float64(g[i][j])
				m[i][j] = b1*m[i][j] + (1-b1)*gj
				v[i][j] = b2*v[i][j] + (1-b2)*gj*gj
				mhat := m[i][j] / (1 - math.Pow(b1, float64(step+1)))
				vhat := v[i][j] / (1 - math.Pow(b2, float64(step+1)))
				want[i][j] -= lr * mhat / (math.Sqrt(vhat) + eps)
			}
		}
		opt.Update(params)
		for i, p := range params {
			for j, got := range p.Data {
				if math.Abs(float64(got)-want[i][j]) > 1e-6 {
					t.Errorf("step %d: %s[%d] = %.7f, want %.7f", step+1, p.Name, j, got, want[i][j])
				}
			}
		}
	}
	if opt.Step != 2 {
		t.Errorf("Step = %d after two updates", opt.Step)
	}
}

// TestAdamWUpdateMatchesLoop compares Update (in assembly eight at a time
// on CPUs with the kernels) with the loop it is defined by, over three
// steps of parameters of odd lengths, one of them cut into several pieces
// of adamPiece values, with and without weight decay and with a
// per-parameter scale: the same parameters and moments bit for bit.
func TestAdamWUpdateMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var params, ref []*Param
	for i, n := range []int{37, 8, 3, 100, 2*adamPiece + 13} {
		p := &Param{ParamSpec: ParamSpec{Name: fmt.Sprint(i), Decay: i%2 == 0}, Data: make([]float32, n), Grad: make([]float32, n)}
		for j := range p.Data {
			p.Data[j] = float32(rng.NormFloat64())
		}
		params = append(params, p)
		ref = append(ref, &Param{ParamSpec: p.ParamSpec, Data: slices.Clone(p.Data)})
	}
	o := NewAdamW(params, 1e-3, 0.05)
	o.Scale = []float64{1, 0.5, 0, 2, 1}
	m, v := make([][]float32, len(ref)), make([][]float32, len(ref))
	for i, p := range ref {
		m[i], v[i] = make([]float32, len(p.Data)), make([]float32, len(p.Data))
	}
	for step := 1; step <= 3; step++ {
		for _, p := range params {
			for j := range p.Grad {
				p.Grad[j] = float32(rng.NormFloat64())
			}
		}
		o.Update(params)
		bc1 := 1 - math.Pow(o.Beta1, float64(step))
		bc2Sqrt := math.Sqrt(1 - math.Pow(o.Beta2, float64(step)))
		b1, b2 := float32(o.Beta1), float32(o.Beta2)
		for i, p := range ref {
			if o.Scale[i] == 0 {
				continue
			}
			lr := o.LR * o.Scale[i]
			step := o.LR / bc1 * o.Scale[i]
			decay := float32(1)
			if p.Decay {
				decay = float32(1 - lr*o.WeightDecay)
			}
			for j, g := range params[i].Grad {
				m[i][j] = float32(b1*m[i][j]) + float32((1-b1)*g)
				v[i][j] = float32(b2*v[i][j]) + float32(float32((1-b2)*g)*g)
				denom := math.Sqrt(float64(v[i][j]))/bc2Sqrt + o.Eps
				p.Data[j] = float32(float64(p.Data[j]*decay) - step*float64(m[i][j])/denom)
			}
		}
		for i, p := range params {
			if !slices.Equal(p.Data, ref[i].Data) || !slices.Equal(o.M[i], m[i]) || !slices.Equal(o.V[i], v[i]) {
				t.Fatalf("step %d, parameter %d: Update differs from the loop", step, i)
			}
		}
	}
}
