package model

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPart(t *testing.T) {
	for name, want := range map[string]int{
		"stem.conv1.weight": 0, "stem.norm1.running_mean": 0,
		"stages.0.blocks.0.conv1_1x1.weight": 1, "stages.3.blocks.1.attn.qkv.weight": 4,
		"head.fc.weight": 5, "head.norm.bias": 5,
	} {
		if got := Part(name); got != want {
			t.Errorf("Part(%q) = %d, want %d", name, got, want)
		}
	}
}

// TestFreeze trains one step with the stem and the first two stages
// frozen: their parameters and batch-norm statistics stay exactly as they
// were, their gradients are zero, and everything above them moves.
func TestFreeze(t *testing.T) {
	s := goldenSpec(t, 32, 32, 4)
	s.Dropout, s.DropPath = 0.1, 0.1
	net := newNet(t, s, 3)
	if err := net.Freeze(2); err != nil {
		t.Fatal(err)
	}
	if net.Freeze(5) == nil || net.Freeze(-2) == nil {
		t.Error("Freeze accepted a part count out of range")
	}
	before := snapshot(net)
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 4*3*32*32)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	targets := make([]float32, 4*4)
	for i := range 4 {
		targets[i*4+i] = 1
	}
	if _, err := net.TrainStep(x, targets, 4, rand.New(rand.NewPCG(2, 2))); err != nil {
		t.Fatal(err)
	}
	opt := NewAdamW(net.Params(), 1e-2, 0.05)
	opt.Scale = make([]float64, len(net.Params()))
	for i, p := range net.Params() {
		if !net.Frozen(p.Name) {
			opt.Scale[i] = 1
		}
		if net.Frozen(p.Name) && slices.ContainsFunc(p.Grad, func(g float32) bool { return g != 0 }) {
			t.Errorf("%s is frozen but has a gradient", p.Name)
		}
	}
	opt.Update(net.Params())
	after := snapshot(net)
	movedAbove := false
	for name, v := range before {
		same := slices.Equal(v, after[name])
		switch {
		case Part(name) <= 2 && !same:
			t.Errorf("%s (part %d) changed although frozen", name, Part(name))
		case Part(name) > 2 && !same:
			movedAbove = true
		}
	}
	if !movedAbove {
		t.Error("nothing above the frozen stages changed")
	}
}

func snapshot(n *Net) map[string][]float32 {
	m := map[string][]float32{}
	for _, p := range n.Params() {
		m[p.Name] = slices.Clone(p.Data)
	}
	for _, b := range n.Buffers() {
		m[b.Name] = slices.Clone(b.Data)
	}
	return m
}
