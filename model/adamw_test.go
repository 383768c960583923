package model

import (
	"math"
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
