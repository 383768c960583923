package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gorgonia.org/gorgonia"
)

// maxGraphs bounds the compiled graphs a Net keeps: typically one training
// batch size, the smaller last batch of an epoch and one evaluation size.
const maxGraphs = 4

// Net is an Astroformer with its parameters and batch-norm buffers. Its
// forward and backward passes run as gorgonia graphs, one per batch size and
// mode, compiled on first use and cached. A Net is not safe for concurrent
// use.
type Net struct {
	spec    Spec
	params  []*Param
	buffers []*Buffer
	gemm    gemm
	graphs  []*graph // least recently used first
	frozen  int      // parts below this one are frozen in training (see Freeze)
	// voteGroups, when set, are the answers per question of the vote head
	// (see UseVoteLoss).
	voteGroups []int
	// ownBuffers gives every value of a graph its own buffer instead of
	// sharing buffers by liveness: for Activations, and for tests that
	// compare the two.
	ownBuffers bool
	// separateNorms keeps each evaluation BatchNorm and GELU an op of its
	// own instead of fusing it into the convolution before it (evalNorm):
	// for the test that compares the two.
	separateNorms bool
}

// New returns the network of spec s with freshly initialised parameters, as
// timm initialises CoAtNet-style models: convolution weights from
// N(0, 2/fan_out), linear weights and relative position tables from a normal
// of standard deviation 0.02 truncated at two deviations, biases zero, norms
// one and zero. seed fixes the draw.
func New(s Spec, seed int64) (*Net, error) {
	return NewInit(s, seed, InitTimm)
}

// Initialisation schemes of NewInit.
const (
	// InitTimm is timm's initialisation of CoAtNet-style models (see New).
	InitTimm = "timm"
	// InitTorch is PyTorch's default initialisation of the layers, which
	// the reference model gets when nothing re-initialises it: weights and
	// biases of convolutions and linear layers uniform in ±1/√fan_in
	// (kaiming_uniform with a = √5), relative position tables zero, norms
	// one and zero.
	InitTorch = "torch"
)

// InitSchemes returns the schemes NewInit accepts.
func InitSchemes() []string { return []string{InitTimm, InitTorch} }

// NewInit is New with the initialisation scheme named: InitTimm or
// InitTorch.
func NewInit(s Spec, seed int64, scheme string) (*Net, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	n := &Net{spec: s, gemm: newGEMM()}
	n.params, n.buffers = Allocate(s)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	switch scheme {
	case InitTimm:
		for _, p := range n.params {
			initParam(p, rng)
		}
	case InitTorch:
		initTorch(n.params, rng)
	default:
		return nil, fmt.Errorf("model: initialisation %q: want one of %q", scheme, InitSchemes())
	}
	return n, nil
}

// initTorch initialises params as PyTorch's layer constructors do. A bias
// takes the bound of the weight of its layer (same name up to ".bias").
func initTorch(params []*Param, rng *rand.Rand) {
	bound := map[string]float64{}
	for _, p := range params {
		if p.Kind == ConvWeight || p.Kind == LinearWeight {
			fanIn := 1
			for _, d := range p.Shape[1:] {
				fanIn *= d
			}
			bound[strings.TrimSuffix(p.Name, ".weight")] = 1 / math.Sqrt(float64(fanIn))
		}
	}
	for _, p := range params {
		switch p.Kind {
		case ConvWeight, LinearWeight, ConvBias, LinearBias:
			b := bound[strings.TrimSuffix(strings.TrimSuffix(p.Name, ".weight"), ".bias")]
			for i := range p.Data {
				p.Data[i] = float32((2*rng.Float64() - 1) * b)
			}
		case NormWeight:
			for i := range p.Data {
				p.Data[i] = 1
			}
		default:
			clear(p.Data)
		}
	}
}

func initParam(p *Param, rng *rand.Rand) {
	switch p.Kind {
	case ConvWeight:
		fanOut := p.Shape[0] * p.Shape[2] * p.Shape[3]
		if strings.HasSuffix(p.Name, ".conv2_kxk.weight") { // depthwise: groups = out channels
			fanOut = p.Shape[2] * p.Shape[3]
		}
		std := math.Sqrt(2 / float64(fanOut))
		for i := range p.Data {
			p.Data[i] = float32(rng.NormFloat64() * std)
		}
	case LinearWeight, RelPosTable:
		for i := range p.Data {
			v := rng.NormFloat64()
			for math.Abs(v) > 2 {
				v = rng.NormFloat64()
			}
			p.Data[i] = float32(0.02 * v)
		}
	case NormWeight:
		for i := range p.Data {
			p.Data[i] = 1
		}
	default:
		clear(p.Data)
	}
}

// Spec returns the spec the network was built for.
func (n *Net) Spec() Spec { return n.spec }

// Params returns the trainable parameters in state_dict order. The tensors
// are the network's own: writing into Data changes the network.
func (n *Net) Params() []*Param { return n.params }

// Buffers returns the batch-norm running statistics in state_dict order,
// the network's own tensors.
func (n *Net) Buffers() []*Buffer { return n.buffers }

// tensors returns the Data of every parameter and buffer, the slices the
// compiled graphs read and write.
func (n *Net) tensors() [][]float32 {
	d := make([][]float32, 0, len(n.params)+len(n.buffers))
	for _, p := range n.params {
		d = append(d, p.Data)
	}
	for _, b := range n.buffers {
		d = append(d, b.Data)
	}
	return d
}

// sameTensors reports whether a and b are the same slices, element for
// element of the same arrays.
func sameTensors(a, b [][]float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) || (len(a[i]) > 0 && &a[i][0] != &b[i][0]) {
			return false
		}
	}
	return true
}

// Forward runs the network in evaluation mode on x, a batch of NCHW float32
// images [batch, InChans, ImageH, ImageW], and returns the logits
// [batch, Classes].
func (n *Net) Forward(x []float32, batch int) ([]float32, error) {
	g, err := n.run(x, nil, batch, false, nil)
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), opOf(g.logits).data...), nil
}

// ForwardEmbed runs the network in evaluation mode like Forward and also
// returns the embedding of each image: the pooled pre-logits representation
// (timm's forward_head with pre_logits=True: pooled, layer-normalised,
// through head.pre_logits and its tanh), [batch, HeadHidden].
func (n *Net) ForwardEmbed(x []float32, batch int) (logits, embeddings []float32, err error) {
	g, err := n.run(x, nil, batch, false, nil)
	if err != nil {
		return nil, nil, err
	}
	return append([]float32(nil), opOf(g.logits).data...), append([]float32(nil), opOf(g.preLogits).data...), nil
}

// EmbeddingWidth returns the width of ForwardEmbed's embeddings.
func (n *Net) EmbeddingWidth() int { return n.spec.HeadHidden }

// Activations runs the network in evaluation mode like Forward and returns
// the feature maps after the stem ("stem") and after each stage
// ("stages.0" to "stages.3"), NCHW, plus the logits ("logits").
func (n *Net) Activations(x []float32, batch int) (map[string][]float32, error) {
	// The stage activations are read after the run: in a graph whose
	// values share buffers they would be overwritten.
	own := n.ownBuffers
	n.ownBuffers = true
	defer func() { n.ownBuffers = own }()
	g, err := n.run(x, nil, batch, false, nil)
	if err != nil {
		return nil, err
	}
	acts := map[string][]float32{"logits": append([]float32(nil), opOf(g.logits).data...)}
	for i, a := range g.acts {
		name := "stem"
		if i > 0 {
			name = fmt.Sprintf("stages.%d", i-1)
		}
		acts[name] = append([]float32(nil), opOf(a).data...)
	}
	return acts, nil
}

// TrainStep runs one training step without the optimiser: the forward pass
// in training mode (batch statistics, dropout and stochastic depth drawn
// from rng), the loss against targets, soft class probabilities
// [batch, Classes] whose rows sum to one (after UseVoteLoss: vote counts per
// answer, and the Dirichlet-multinomial loss), and the backward pass. It
// overwrites every Param.Grad, updates the batch-norm running statistics and
// returns the mean loss over the batch. rng may be nil when the spec has no
// dropout and no stochastic depth.
func (n *Net) TrainStep(x, targets []float32, batch int, rng *rand.Rand) (float64, error) {
	if rng == nil && (n.spec.Dropout > 0 || n.spec.DropPath > 0) {
		return 0, errors.New("model: TrainStep: dropout or drop path is set but rng is nil")
	}
	if len(targets) != batch*n.spec.Classes {
		return 0, fmt.Errorf("model: TrainStep: %d target values for batch %d of %d classes, want %d",
			len(targets), batch, n.spec.Classes, batch*n.spec.Classes)
	}
	g, err := n.run(x, targets, batch, true, rng)
	if err != nil {
		return 0, err
	}
	k := 0
	for _, p := range n.params {
		if n.Frozen(p.Name) {
			clear(p.Grad)
			continue
		}
		gn := g.grads[k]
		k++
		d, err := float32s(gn.Value())
		if err != nil {
			return 0, fmt.Errorf("model: TrainStep: gradient of %s: %w", p.Name, err)
		}
		if len(d) != len(p.Grad) {
			return 0, fmt.Errorf("model: TrainStep: gradient of %s has %d values, want %d", p.Name, len(d), len(p.Grad))
		}
		copy(p.Grad, d)
	}
	return float64(opOf(g.loss).data[0]), nil
}

// run copies the inputs into the graph for (batch, train) and runs it.
func (n *Net) run(x, targets []float32, batch int, train bool, rng *rand.Rand) (*graph, error) {
	s := n.spec
	if batch < 1 {
		return nil, fmt.Errorf("model: batch size %d, want at least 1", batch)
	}
	if want := batch * s.InChans * s.ImageH * s.ImageW; len(x) != want {
		return nil, fmt.Errorf("model: input has %d values, want %d for %d images of %dx%dx%d",
			len(x), want, batch, s.InChans, s.ImageH, s.ImageW)
	}
	g, err := n.graph(batch, train)
	if err != nil {
		return nil, err
	}
	copy(g.x, x)
	copy(g.targets, targets)
	g.state.rng = rng
	defer func() { g.state.rng = nil }()
	g.vm.Reset()
	if err := g.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("model: running the %s graph for batch %d: %w", mode(train), batch, err)
	}
	return g, nil
}

func mode(train bool) string {
	if train {
		return "training"
	}
	return "evaluation"
}

// graph returns the compiled graph for (batch, train), building it on
// first use and evicting the least recently used one beyond maxGraphs.
func (n *Net) graph(batch int, train bool) (*graph, error) {
	if len(n.graphs) > 0 && !sameTensors(n.graphs[0].tensors, n.tensors()) {
		// A caller replaced a Data slice instead of copying into it: the
		// graphs hold the old ones.
		n.closeGraphs()
	}
	for i, g := range n.graphs {
		if g.batch == batch && g.train == train && g.own == n.ownBuffers {
			n.graphs = append(append(n.graphs[:i:i], n.graphs[i+1:]...), g)
			return g, nil
		}
	}
	g, err := n.build(batch, train)
	if err != nil {
		return nil, err
	}
	if len(n.graphs) == maxGraphs {
		n.graphs[0].vm.Close()
		n.graphs = n.graphs[1:]
	}
	n.graphs = append(n.graphs, g)
	return g, nil
}

// graph is the network compiled for one batch size and mode.
type graph struct {
	batch      int
	train      bool
	own        bool // every value has its own buffer (see builder.share)
	vm         gorgonia.VM
	x, targets []float32 // bound to the input nodes
	state      *runState
	acts       [5]*gorgonia.Node // stem and the four stages
	logits     *gorgonia.Node
	preLogits  *gorgonia.Node // the pooled representation before the classifier
	loss       *gorgonia.Node // training only
	grads      gorgonia.Nodes // training only, one per parameter not frozen
	tensors    [][]float32    // the parameter and buffer data bound in
}

// bnStats returns the running statistics of each BatchNorm layer, by the
// layer's name.
func (n *Net) bnStats() map[string]*bnStats {
	stats := make(map[string]*bnStats)
	for _, buf := range n.buffers {
		prefix := buf.Name[:strings.LastIndexByte(buf.Name, '.')]
		st := stats[prefix]
		if st == nil {
			st = &bnStats{}
			stats[prefix] = st
		}
		switch buf.Kind {
		case RunningMean:
			st.mean = buf.Data
		case RunningVar:
			st.variance = buf.Data
		case NumBatchesTracked:
			st.tracked = buf.Data
		}
	}
	return stats
}

// build adds the network's nodes, and in training mode the loss and the
// gradient nodes, to a new graph and compiles it for a tape machine.
func (n *Net) build(batch int, train bool) (gr *graph, err error) {
	s := n.spec
	b := &builder{g: gorgonia.NewGraph(), gemm: n.gemm, train: train, shared: !n.ownBuffers, fuseNorms: !n.separateNorms}
	defer b.recover(&err)
	gr = &graph{batch: batch, train: train, own: !b.shared, state: &runState{}, tensors: n.tensors(),
		x: make([]float32, batch*s.InChans*s.ImageH*s.ImageW)}
	x := b.input("input", gr.x, batch, s.InChans, s.ImageH, s.ImageW)

	nodes := make(map[string]*gorgonia.Node, len(n.params))
	var wrt gorgonia.Nodes
	for _, p := range n.params {
		nodes[p.Name] = b.input(p.Name, p.Data, p.Shape...)
		if !n.Frozen(p.Name) {
			wrt = append(wrt, nodes[p.Name])
		}
	}
	l := &layers{builder: b, params: nodes, stats: n.bnStats(), state: gr.state}

	// Frozen parts run as in evaluation, even in the training graph.
	b.train = train && PartStem >= n.frozen
	h := l.stem(x)
	gr.acts[0] = h
	for _, blk := range s.Plan() {
		b.train = train && blk.Stage+1 >= n.frozen
		switch blk.Type {
		case MBConv:
			h = l.mbconv(blk, h)
		case Transformer:
			h = l.transformer(blk, h)
		default:
			b.failf("%s: unknown block type %v", blk.Name, blk.Type)
		}
		gr.acts[blk.Stage+1] = h
	}
	b.train = train
	gr.logits, gr.preLogits = l.head(h, s.Dropout)

	if train {
		gr.targets = make([]float32, batch*s.Classes)
		t := b.input("targets", gr.targets, batch, s.Classes)
		if n.voteGroups != nil {
			gr.loss = b.dirichletMultinomial("loss", gr.logits, t, n.voteGroups)
		} else {
			gr.loss = b.softCrossEntropy("loss", gr.logits, t)
		}
		if gr.grads, err = gorgonia.Grad(gr.loss, wrt...); err != nil {
			return nil, fmt.Errorf("model: differentiating the network: %w", err)
		}
	}
	if b.shared {
		// Only the outputs (and in training the loss and the gradients)
		// are read after a run; the other values share buffers by
		// liveness.
		keep := gorgonia.Nodes{gr.logits, gr.preLogits}
		if train {
			keep = append(append(keep, gr.loss), gr.grads...)
		}
		if _, err := b.share(keep...); err != nil {
			return nil, err
		}
	}
	prog, locs, err := gorgonia.Compile(b.g)
	if err != nil {
		return nil, fmt.Errorf("model: compiling the %s graph for batch %d: %w", mode(train), batch, err)
	}
	gr.vm = gorgonia.NewTapeMachine(b.g, gorgonia.WithPrecompiled(prog, locs))
	return gr, nil
}
