package model

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
)

// TestDirichletMultinomialGrad checks the vote loss's gradient against
// finite differences, with an unasked question in the second sample.
func TestDirichletMultinomialGrad(t *testing.T) {
	counts := []float32{
		30, 8, 2, 20, 10, 0, 5, 3, // asked everything
		12, 0, 1, 0, 0, 0, 4, 4, // the second question not asked
	}
	checkGrads(t, []gradInput{{shape: []int{2, 8}}, {shape: []int{2, 8}, noGrad: true, data: counts}},
		func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
			return b.dirichletMultinomial("loss", in[0], in[1], []int{3, 3, 2})
		})
}

// TestDirichletMultinomialValue checks the loss against a value worked out
// by hand: logits whose concentrations are 1 and 1 (z = −∞ is α = 1; take
// z far below 0), one vote for the first answer: −ln ½.
func TestDirichletMultinomialValue(t *testing.T) {
	b := &builder{g: gorgonia.NewGraph(), gemm: newGEMM(), train: true}
	z := b.input("z", []float32{-40, -40, -40, -40}, 2, 2)
	c := b.input("c", []float32{1, 0, 0, 0}, 2, 2) // the second sample has no votes
	loss := b.dirichletMultinomial("loss", z, c, []int{2})
	vm := gorgonia.NewTapeMachine(b.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	// Mean over the batch of 2: (ln 2 + 0) / 2.
	if got, want := float64(opOf(loss).data[0]), math.Log(2)/2; math.Abs(got-want) > 1e-6 {
		t.Errorf("loss %g, want %g", got, want)
	}
	if got := Concentration(0); math.Abs(got-50.5) > 1e-12 {
		t.Errorf("Concentration(0) = %g, want 50.5", got)
	}
}

// TestVoteHeadTrains takes a few AdamW steps of a vote head on fixed counts:
// the loss falls, and the expected fractions move towards the votes.
func TestVoteHeadTrains(t *testing.T) {
	net := newNet(t, goldenSpec(t, 32, 32, 5), 2)
	if err := net.UseVoteLoss([]int{3, 3}); err == nil {
		t.Error("vote groups of 6 answers for a head of 5 outputs accepted")
	}
	if err := net.UseVoteLoss([]int{3, 2}); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 4*3*32*32)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	counts := make([]float32, 4*5)
	for n := range 4 {
		copy(counts[n*5:], []float32{30, 5, 5, 2, 18})
	}
	opt := NewAdamW(net.Params(), 3e-3, 0)
	var first, last float64
	for step := range 30 {
		l, err := net.TrainStep(x, counts, 4, nil)
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = l
		}
		last = l
		opt.Update(net.Params())
	}
	if !(last < first) {
		t.Fatalf("loss %g after 30 steps, %g at the start", last, first)
	}
	logits, err := net.Forward(x[:3*32*32], 1)
	if err != nil {
		t.Fatal(err)
	}
	a0, a1, a2 := Concentration(logits[0]), Concentration(logits[1]), Concentration(logits[2])
	if f := a0 / (a0 + a1 + a2); f < 0.5 {
		t.Errorf("expected fraction of the first answer %.2f after training on 30 of 40 votes", f)
	}
}
