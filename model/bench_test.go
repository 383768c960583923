package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/astroformer/astroformer/model/internal/asm"
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
	n := newNet(b, mustSpec(b, DefaultVariant, 64, 64, 10), 1)
	rng := rand.New(rand.NewPCG(1, 1))
	x := randomImages(rng, n.Spec(), benchBatch)
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

// BenchmarkGELU times the GELU kernel over 64K values, without derivatives
// (evaluation) and with them (training); compare a -tags purego run for
// the table loop the assembly replaces.
func BenchmarkGELU(b *testing.B) {
	src, dst, grad := make([]float32, 1<<16), make([]float32, 1<<16), make([]float32, 1<<16)
	for i := range src {
		src[i] = float32(i%200-100) * 0.05
	}
	b.Run("eval", func(b *testing.B) {
		for b.Loop() {
			geluAffine(dst, nil, src, 1.1, 0.1)
		}
	})
	b.Run("train", func(b *testing.B) {
		for b.Loop() {
			geluAffine(dst, grad, src, 1.1, 0.1)
		}
	})
}

// BenchmarkDepthwise times both ways of the depthwise convolution, forward
// and backward, on the shapes of astroformer_0 at 64x64 and 256x256
// (batch, channels, side, stride): the evidence for forwardChannelsLastMax
// and backChannelsLastMax.
func BenchmarkDepthwise(b *testing.B) {
	if !asm.Available {
		b.Skip("no assembly kernels on this CPU or build")
	}
	for _, tc := range []struct{ batch, c, h, stride int }{
		{32, 384, 16, 1}, {8, 768, 32, 1}, {8, 384, 64, 1}, {32, 384, 32, 2}, {32, 1536, 8, 2}, {8, 1536, 32, 2}, {8, 384, 128, 2},
	} {
		k := &depthwise{batch: tc.batch, c: tc.c, stride: tc.stride, h: tc.h, w: tc.h, ho: (tc.h-1)/tc.stride + 1, wo: (tc.h-1)/tc.stride + 1, cl: &channelsLast{}}
		k.dw = make([]float32, tc.c*9)
		x, w := make([]float32, tc.batch*tc.c*tc.h*tc.h), make([]float32, tc.c*9)
		y, dx := make([]float32, tc.batch*tc.c*k.ho*k.wo), make([]float32, len(x))
		back := &depthwiseBack{k}
		name := fmt.Sprintf("%dx%dx%dx%d-s%d", tc.batch, tc.c, tc.h, tc.h, tc.stride)
		for _, run := range []struct {
			name string
			f    func()
		}{
			{"forward-planes", func() { k.forwardPlanes(y, x, w) }},
			{"forward-channels-last", func() { k.forwardChannelsLast(y, x, w) }},
			{"back-planes", func() { back.backPlanes(dx, y, x, w) }},
			{"back-channels-last", func() { back.backChannelsLast(dx, y, x, w) }},
		} {
			b.Run(name+"/"+run.name, func(b *testing.B) {
				for b.Loop() {
					run.f()
				}
			})
		}
	}
}
