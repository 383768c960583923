package model

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// builder adds the nodes of one network graph (one batch size, one mode).
// Layer helpers report impossible shapes by panicking with a buildError;
// build and op.SymDiff recover it into an ordinary error.
type builder struct {
	g      *gorgonia.ExprGraph
	gemm   gemm
	train  bool
	shared bool // op values get their buffers from share, once the graph is built
	// fuseNorms fuses each evaluation-mode BatchNorm and GELU of the MBConv
	// blocks into the convolution before it (evalNorm).
	fuseNorms bool
	ops       int      // ops made so far; numbers their names
	sums      partials // shared by the kernels that sum over a batch
	work      *workspace
}

// workspace returns the graph's workspace (see workspace).
func (b *builder) workspace() *workspace {
	if b.work == nil {
		b.work = &workspace{}
	}
	return b.work
}

type buildError struct{ err error }

func (b *builder) failf(format string, args ...any) {
	panic(buildError{fmt.Errorf("model: "+format, args...)})
}

// recover turns a buildError panic into *err; other panics go on.
func (b *builder) recover(err *error) {
	if r := recover(); r != nil {
		be, ok := r.(buildError)
		if !ok {
			panic(r)
		}
		*err = be.err
	}
}

// apply adds a node computing k from inputs, with a value of the given shape
// (nil for a scalar), and returns it.
func (b *builder) apply(name string, shape []int, k kernel, inputs ...*gorgonia.Node) *gorgonia.Node {
	b.ops++
	o := newOp(b, fmt.Sprintf("%s#%d", name, b.ops), shape, k, inputs)
	n, err := gorgonia.ApplyOp(o, inputs...)
	if err != nil {
		b.failf("adding %s: %w", name, err)
	}
	if n.Op() != gorgonia.Op(o) {
		b.failf("adding %s: its hash collides with node %v", name, n)
	}
	return n
}

// pick adds a node whose value is a copy of src, taken after node after has
// run: the way a kernel with several results hands out the second and later
// ones.
func (b *builder) pick(name string, shape []int, src []float32, after *gorgonia.Node) *gorgonia.Node {
	return b.apply(name, shape, &pick{src: src}, after)
}

type pick struct{ src []float32 }

func (k *pick) forward(out []float32, _ [][]float32) { copy(out, k.src) }

// opOf returns the op behind a node made by apply.
func opOf(n *gorgonia.Node) *op { return n.Op().(*op) }

// dims4 returns the shape of an NCHW node.
func (b *builder) dims4(n *gorgonia.Node) (batch, c, h, w int) {
	s := n.Shape()
	if len(s) != 4 {
		b.failf("node %v has shape %v, want 4 dimensions", n, s)
	}
	return s[0], s[1], s[2], s[3]
}

// input adds an input node whose value is a tensor over data.
func (b *builder) input(name string, data []float32, shape ...int) *gorgonia.Node {
	v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	return gorgonia.NewTensor(b.g, tensor.Float32, len(shape), gorgonia.WithShape(shape...),
		gorgonia.WithName(name), gorgonia.WithValue(v))
}
