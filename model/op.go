package model

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// kernel is the arithmetic of one node of the network's graph.
type kernel interface {
	// forward writes the node's value into out from the values of its
	// inputs, in the order the node was built with.
	forward(out []float32, in [][]float32)
}

// differentiable is a kernel that knows its gradients.
type differentiable interface {
	kernel
	// wrt reports, per input, whether grads returns its gradient.
	wrt() []bool
	// grads adds to the graph the nodes computing the gradient of the loss
	// with respect to each input flagged by wrt (nil for the others), given
	// the node itself (y) and the gradient with respect to it (dy).
	grads(b *builder, in gorgonia.Nodes, y, dy *gorgonia.Node) gorgonia.Nodes
}

// op adapts a kernel to gorgonia.Op and gorgonia.SDOp. The buffer of its
// value is allocated once and rewritten on every run of the graph, so that
// a cached graph runs without allocating; ops whose values are never alive
// at once share buffers (see builder.share). Because gorgonia deduplicates
// nodes by hash, every op carries a name unique within its graph.
type op struct {
	name   string
	inDims []int        // number of dimensions of each input
	shape  tensor.Shape // empty for a scalar
	data   []float32
	value  *tensor.Dense // nil for a scalar
	in     [][]float32
	k      kernel
	b      *builder // for SymDiff
}

func newOp(b *builder, name string, shape []int, k kernel, inputs []*gorgonia.Node) *op {
	o := &op{name: name, shape: tensor.Shape(shape).Clone(), k: k, b: b, in: make([][]float32, len(inputs))}
	for _, n := range inputs {
		o.inDims = append(o.inDims, n.Dims())
	}
	if !b.shared || len(shape) == 0 {
		o.bind(make([]float32, o.size()))
	}
	return o
}

// size returns the number of elements of the op's value.
func (o *op) size() int {
	n := 1
	for _, d := range o.shape {
		n *= d
	}
	return n
}

// bind makes data, of size elements, the buffer of the op's value.
func (o *op) bind(data []float32) {
	o.data = data
	if len(o.shape) > 0 {
		o.value = tensor.New(tensor.WithShape(o.shape...), tensor.WithBacking(data))
	}
}

func (o *op) Arity() int { return len(o.inDims) }

func (o *op) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(o.inDims)+1)
	for _, d := range o.inDims {
		ts = append(ts, tensorType(d, a))
	}
	ts = append(ts, tensorType(len(o.shape), a))
	return hm.NewFnType(ts...)
}

func tensorType(dims int, of hm.Type) hm.Type {
	if dims == 0 {
		return of
	}
	return &gorgonia.TensorType{Dims: dims, Of: of}
}

func (o *op) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	if len(o.shape) == 0 {
		return tensor.ScalarShape(), nil
	}
	return o.shape.Clone(), nil
}

func (o *op) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != len(o.in) {
		return nil, fmt.Errorf("model: %s: %d inputs, want %d", o.name, len(inputs), len(o.in))
	}
	for i, v := range inputs {
		d, err := float32s(v)
		if err != nil {
			return nil, fmt.Errorf("model: %s: input %d: %w", o.name, i, err)
		}
		o.in[i] = d
	}
	o.k.forward(o.data, o.in)
	clear(o.in)
	if o.value == nil {
		return gorgonia.NewF32(o.data[0]), nil
	}
	return o.value, nil
}

// float32s returns the elements of a float32 tensor or scalar value.
func float32s(v gorgonia.Value) ([]float32, error) {
	switch v := v.(type) {
	case *gorgonia.F32:
		return []float32{float32(*v)}, nil
	case tensor.Tensor:
		if d, ok := v.Data().([]float32); ok {
			return d, nil
		}
		if f, ok := v.Data().(float32); ok {
			return []float32{f}, nil
		}
	}
	return nil, fmt.Errorf("value of type %T (%v) is not float32", v, v.Dtype())
}

func (o *op) ReturnsPtr() bool      { return false }
func (o *op) CallsExtern() bool     { return false }
func (o *op) OverwritesInput() int  { return -1 }
func (o *op) String() string        { return o.name }
func (o *op) WriteHash(h hash.Hash) { fmt.Fprint(h, o.name) }

func (o *op) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

func (o *op) DiffWRT(n int) []bool {
	if d, ok := o.k.(differentiable); ok {
		return d.wrt()
	}
	return make([]bool, n)
}

func (o *op) SymDiff(inputs gorgonia.Nodes, y, dy *gorgonia.Node) (grads gorgonia.Nodes, err error) {
	d, ok := o.k.(differentiable)
	if !ok {
		return nil, fmt.Errorf("model: %s is not differentiable", o.name)
	}
	defer o.b.recover(&err)
	return d.grads(o.b, inputs, y, dy), nil
}
