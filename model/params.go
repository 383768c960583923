package model

import "fmt"

// ParamKind says what a parameter or buffer is for: initialisation, weight
// decay and checkpoint conversion depend on it.
type ParamKind int

// The kinds of parameters and buffers.
const (
	ConvWeight        ParamKind = iota // [out, in/groups, k, k]
	ConvBias                           // [out]
	LinearWeight                       // [out, in]
	LinearBias                         // [out]
	NormWeight                         // batch-norm or layer-norm scale [c]
	NormBias                           // batch-norm or layer-norm shift [c]
	RelPosTable                        // relative position bias table [(2h-1)(2w-1), heads]
	RunningMean                        // batch-norm buffer [c]
	RunningVar                         // batch-norm buffer [c]
	NumBatchesTracked                  // batch-norm buffer, a scalar (shape [])
)

var kindNames = [...]string{
	ConvWeight:        "ConvWeight",
	ConvBias:          "ConvBias",
	LinearWeight:      "LinearWeight",
	LinearBias:        "LinearBias",
	NormWeight:        "NormWeight",
	NormBias:          "NormBias",
	RelPosTable:       "RelPosTable",
	RunningMean:       "RunningMean",
	RunningVar:        "RunningVar",
	NumBatchesTracked: "NumBatchesTracked",
}

func (k ParamKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ParamKind(%d)", int(k))
}

// IsBuffer reports whether tensors of this kind are buffers (state that is
// not trained by the optimiser).
func (k ParamKind) IsBuffer() bool {
	return k == RunningMean || k == RunningVar || k == NumBatchesTracked
}

// ParamSpec describes one tensor of the model's state_dict.
type ParamSpec struct {
	Name  string // timm state_dict key, e.g. "stages.0.blocks.0.conv1_1x1.weight"
	Shape []int  // PyTorch shape; [] for a scalar
	Kind  ParamKind
	Decay bool // AdamW applies weight decay: more than one dimension and not a relative position table
}

// Size returns the number of elements of the tensor (1 for a scalar).
func (p ParamSpec) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// ShapeString formats the shape as "[a b c]".
func (p ParamSpec) ShapeString() string { return fmt.Sprint(p.Shape) }

// Param is a trainable tensor with its gradient. Data and Grad have Size()
// elements in PyTorch's row-major order.
type Param struct {
	ParamSpec
	Data, Grad []float32
}

// Buffer is a tensor of state that the optimiser does not train: batch-norm
// running statistics. num_batches_tracked is held as one float32 value and
// written to checkpoints as an int64.
type Buffer struct {
	ParamSpec
	Data []float32
}

// Allocate returns zeroed parameters with gradients and the buffers of s in
// state_dict order, with running variances set to 1 as PyTorch initialises
// them. It does not validate s; call Validate first.
func Allocate(s Spec) ([]*Param, []*Buffer) {
	ps, bs := ParamSpecs(s)
	params := make([]*Param, len(ps))
	for i, p := range ps {
		params[i] = &Param{ParamSpec: p, Data: make([]float32, p.Size()), Grad: make([]float32, p.Size())}
	}
	buffers := make([]*Buffer, len(bs))
	for i, b := range bs {
		buf := &Buffer{ParamSpec: b, Data: make([]float32, b.Size())}
		if b.Kind == RunningVar {
			for j := range buf.Data {
				buf.Data[j] = 1
			}
		}
		buffers[i] = buf
	}
	return params, buffers
}

// specWalker emits the state_dict of an Astroformer in the order PyTorch's
// Module.state_dict produces it: each module's own parameters, then its own
// persistent buffers, then its children in registration order.
type specWalker struct {
	params, buffers []ParamSpec
	count           int64 // parameter elements, when counting only
	countOnly       bool
}

func (w *specWalker) param(name string, kind ParamKind, shape ...int) {
	if w.countOnly {
		n := int64(1)
		for _, d := range shape {
			n *= int64(d)
		}
		w.count += n
		return
	}
	decay := len(shape) > 1 && kind != RelPosTable
	w.params = append(w.params, ParamSpec{Name: name, Shape: shape, Kind: kind, Decay: decay})
}

func (w *specWalker) buffer(name string, kind ParamKind, shape ...int) {
	if w.countOnly {
		return
	}
	if shape == nil {
		shape = []int{}
	}
	w.buffers = append(w.buffers, ParamSpec{Name: name, Shape: shape, Kind: kind})
}

func (w *specWalker) conv(prefix string, cin, cout, k, groups int, bias bool) {
	w.param(prefix+".weight", ConvWeight, cout, cin/groups, k, k)
	if bias {
		w.param(prefix+".bias", ConvBias, cout)
	}
}

func (w *specWalker) linear(prefix string, cin, cout int) {
	w.param(prefix+".weight", LinearWeight, cout, cin)
	w.param(prefix+".bias", LinearBias, cout)
}

func (w *specWalker) batchNorm(prefix string, c int) {
	w.param(prefix+".weight", NormWeight, c)
	w.param(prefix+".bias", NormBias, c)
	w.buffer(prefix+".running_mean", RunningMean, c)
	w.buffer(prefix+".running_var", RunningVar, c)
	w.buffer(prefix+".num_batches_tracked", NumBatchesTracked)
}

func (w *specWalker) layerNorm(prefix string, c int) {
	w.param(prefix+".weight", NormWeight, c)
	w.param(prefix+".bias", NormBias, c)
}

// downsample is timm's Downsample2d: a 2x2 average pool, then a 1x1
// convolution with bias when the width changes.
func (w *specWalker) downsample(prefix string, cin, cout int) {
	if cin != cout {
		w.conv(prefix+".expand", cin, cout, 1, 1, true)
	}
}

func (w *specWalker) mbconv(b BlockPlan) {
	prefix, cin, cout := b.Name, b.In, b.Out
	mid, rd := MidWidth(cout), SEWidth(cout)
	if b.Stride == 2 {
		w.downsample(prefix+".shortcut", cin, cout)
	}
	w.batchNorm(prefix+".pre_norm", cin)
	w.conv(prefix+".conv1_1x1", cin, mid, 1, 1, false)
	w.batchNorm(prefix+".norm1", mid)
	w.conv(prefix+".conv2_kxk", mid, mid, 3, mid, false)
	w.batchNorm(prefix+".norm2", mid)
	w.conv(prefix+".se.fc1", mid, rd, 1, 1, true)
	w.conv(prefix+".se.fc2", rd, mid, 1, 1, true)
	w.conv(prefix+".conv3_1x1", mid, cout, 1, 1, true)
}

func (w *specWalker) transformer(b BlockPlan) {
	prefix, cin, cout := b.Name, b.In, b.Out
	if b.Stride == 2 {
		w.downsample(prefix+".shortcut", cin, cout)
		w.layerNorm(prefix+".norm1.norm", cin)
		w.downsample(prefix+".norm1.down", cin, cin)
	} else {
		w.layerNorm(prefix+".norm1", cin)
	}
	w.conv(prefix+".attn.qkv", cin, 3*cout, 1, 1, true)
	w.param(prefix+".attn.rel_pos.relative_position_bias_table", RelPosTable,
		(2*b.Grid[0]-1)*(2*b.Grid[1]-1), b.Heads)
	w.conv(prefix+".attn.proj", cout, cout, 1, 1, true)
	w.layerNorm(prefix+".norm2", cout)
	w.conv(prefix+".mlp.fc1", cout, 4*cout, 1, 1, true)
	w.conv(prefix+".mlp.fc2", 4*cout, cout, 1, 1, true)
}

// model walks the stem, the blocks of s.Plan and the head.
func (w *specWalker) model(s Spec) {
	w.conv("stem.conv1", s.InChans, s.StemWidth, 3, 1, false)
	w.batchNorm("stem.norm1", s.StemWidth)
	w.conv("stem.conv2", s.StemWidth, s.StemWidth, 3, 1, false)
	for _, b := range s.Plan() {
		switch b.Type {
		case MBConv:
			w.mbconv(b)
		case Transformer:
			w.transformer(b)
		}
	}
	c := s.Dims[3]
	w.layerNorm("head.norm", c)
	w.linear("head.pre_logits.fc", c, s.HeadHidden)
	w.linear("head.fc", s.HeadHidden, s.Classes)
}

// ParamSpecs returns the parameters and the persistent buffers of the model
// of spec s, each list in the order of the reference model's state_dict and
// under its timm names. relative_position_index is not listed: it is a
// non-persistent buffer computed from the grid. ParamSpecs does not validate
// s and allocates no tensor data.
func ParamSpecs(s Spec) (params, buffers []ParamSpec) {
	var w specWalker
	w.model(s)
	return w.params, w.buffers
}

// Count returns the number of trainable parameter elements of the model of
// spec s (buffers excluded), without building the parameter list.
func Count(s Spec) int64 {
	w := specWalker{countOnly: true}
	w.model(s)
	return w.count
}
