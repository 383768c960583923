package model

import (
	"math/rand/v2"
	"testing"
)

// The benchmarks time the default CPU variant at 64x64, batch 32, as
// shared/reference/torch_bench.py times the reference:
//
//	go test ./model/ -run '^$' -bench . -benchtime 5x -cpu 2
//	python3 torch_bench.py --config '{"embed_dim":[32,64,128,256],"depths":[1,1,2,1],"stem_width":32,"head_hidden":256}' --image 64 --batch 32 --mode train --threads 2
//
// A training step is forward, backward and AdamW, as in the reference.

const benchBatch = 32

func benchNet(b *testing.B) (*Net, []float32, []float32) {
	b.Helper()
	c, err := Lookup(DefaultVariant)
	if err != nil {
		b.Fatal(err)
	}
	n, err := New(Spec{Variant: c.Name, Config: c, ImageH: 64, ImageW: 64, InChans: 3, Classes: 10}, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, benchBatch*3*64*64)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	targets := make([]float32, benchBatch*10)
	for i := range benchBatch {
		targets[i*10+rng.IntN(10)] = 1
	}
	return n, x, targets
}

func BenchmarkTrainStep(b *testing.B) {
	n, x, targets := benchNet(b)
	opt := NewAdamW(n.Params(), 1e-4, 0.05)
	step := func() {
		if _, err := n.TrainStep(x, targets, benchBatch, nil); err != nil {
			b.Fatal(err)
		}
		opt.Update(n.Params())
	}
	step() // builds the graph
	b.ResetTimer()
	for range b.N {
		step()
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkForward(b *testing.B) {
	n, x, _ := benchNet(b)
	if _, err := n.Forward(x, benchBatch); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := n.Forward(x, benchBatch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "images/s")
}
