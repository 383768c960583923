package model

import (
	"math"

	"gorgonia.org/gorgonia"
)

// softCrossEntropy is the mean over the batch of the cross-entropy between
// softmax(logits) and soft targets, with inputs (logits, targets) of shape
// [B,K]: −(1/B)·Σₙ Σₖ tₙₖ·log softmax(zₙ)ₖ. Label smoothing and Mixup are
// folded into the targets by the caller.
type softCrossEntropy struct {
	batch, classes int
	p              []float32 // softmax of the last run
}

func (b *builder) softCrossEntropy(name string, logits, targets *gorgonia.Node) *gorgonia.Node {
	if !logits.Shape().Eq(targets.Shape()) || logits.Dims() != 2 {
		b.failf("%s: logits %v and targets %v", name, logits.Shape(), targets.Shape())
	}
	s := logits.Shape()
	k := &softCrossEntropy{batch: s[0], classes: s[1], p: make([]float32, s[0]*s[1])}
	return b.apply(name, nil, k, logits, targets)
}

func (k *softCrossEntropy) forward(loss []float32, in [][]float32) {
	z, t := in[0], in[1]
	var total float64
	for n := range k.batch {
		zn, tn, pn := z[n*k.classes:(n+1)*k.classes], t[n*k.classes:(n+1)*k.classes], k.p[n*k.classes:(n+1)*k.classes]
		mx := math.Inf(-1)
		for _, v := range zn {
			mx = max(mx, float64(v))
		}
		var sum float64
		for _, v := range zn {
			sum += math.Exp(float64(v) - mx)
		}
		lse := mx + math.Log(sum)
		for i, v := range zn {
			logp := float64(v) - lse
			pn[i] = float32(math.Exp(logp))
			total -= float64(tn[i]) * logp
		}
	}
	loss[0] = float32(total / float64(k.batch))
}

func (k *softCrossEntropy) wrt() []bool { return []bool{true, false} }

func (k *softCrossEntropy) grads(b *builder, in gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	return gorgonia.Nodes{b.apply("crossentropy.dlogits", in[0].Shape(), &softCrossEntropyBack{k}, dy, in[1]), nil}
}

// softCrossEntropyBack computes dz = dy·(p·Σt − t)/B from (dy, targets).
type softCrossEntropyBack struct{ *softCrossEntropy }

func (k *softCrossEntropyBack) forward(dz []float32, in [][]float32) {
	g, t := in[0][0]/float32(k.batch), in[1]
	for n := range k.batch {
		tn := t[n*k.classes : (n+1)*k.classes]
		var mass float32
		for _, v := range tn {
			mass += v
		}
		for i, v := range tn {
			dz[n*k.classes+i] = g * (k.p[n*k.classes+i]*mass - v)
		}
	}
}
