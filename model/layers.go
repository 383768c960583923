package model

import "gorgonia.org/gorgonia"

// layers builds the Astroformer's blocks from its parameter nodes, named as
// in the reference's state_dict.
type layers struct {
	*builder
	params map[string]*gorgonia.Node
	stats  map[string]*bnStats
	state  *runState
}

func (l *layers) p(name string) *gorgonia.Node {
	n, ok := l.params[name]
	if !ok {
		l.failf("no parameter %s", name)
	}
	return n
}

func (l *layers) bn(prefix string, x *gorgonia.Node, act bool) *gorgonia.Node {
	return l.batchNorm(prefix, x, l.p(prefix+".weight"), l.p(prefix+".bias"), l.statsOf(prefix), act)
}

// statsOf returns the running statistics of the BatchNorm layer prefix.
func (l *layers) statsOf(prefix string) *bnStats {
	st, ok := l.stats[prefix]
	if !ok || st.mean == nil || st.variance == nil || st.tracked == nil {
		l.failf("no running statistics for %s", prefix)
	}
	return st
}

func (l *layers) ln(prefix string, x *gorgonia.Node) *gorgonia.Node {
	return l.layerNorm(prefix, x, l.p(prefix+".weight"), l.p(prefix+".bias"))
}

func (l *layers) conv1(prefix string, x *gorgonia.Node, bias bool) *gorgonia.Node {
	var b *gorgonia.Node
	if bias {
		b = l.p(prefix + ".bias")
	}
	return l.conv1x1(prefix, x, l.p(prefix+".weight"), b, true)
}

// stem is conv3x3 stride 2, BatchNorm + GELU, conv3x3 stride 1.
func (l *layers) stem(x *gorgonia.Node) *gorgonia.Node {
	h := l.conv3x3("stem.conv1", x, l.p("stem.conv1.weight"), 2, false)
	h = l.bn("stem.norm1", h, true)
	return l.conv3x3("stem.conv2", h, l.p("stem.conv2.weight"), 1, true)
}

// downsample is the strided shortcut: a 2x2 average pool, then a 1x1
// convolution with bias when the width changes.
func (l *layers) downsample(prefix string, x *gorgonia.Node, cin, cout int) *gorgonia.Node {
	h := l.avgPool2(prefix, x)
	if cin != cout {
		h = l.conv1(prefix+".expand", h, true)
	}
	return h
}

// mbconv is the MBConv block b: pre-norm, 1x1 expansion to MidWidth,
// depthwise 3x3 (of stride b.Stride), squeeze-excitation, 1x1 projection,
// stochastic depth and the residual sum.
func (l *layers) mbconv(b BlockPlan, x *gorgonia.Node) *gorgonia.Node {
	prefix, shortcut := b.Name, x
	if b.Stride == 2 {
		shortcut = l.downsample(prefix+".shortcut", x, b.In, b.Out)
	}
	h := l.bn(prefix+".pre_norm", x, false)
	if l.train || !l.fuseNorms {
		h = l.conv1(prefix+".conv1_1x1", h, false)
		h = l.bn(prefix+".norm1", h, true)
		h = l.depthwise(prefix+".conv2_kxk", h, l.p(prefix+".conv2_kxk.weight"), b.Stride)
		h = l.bn(prefix+".norm2", h, true)
	} else {
		// In evaluation each BatchNorm and GELU runs inside the
		// convolution before it (evalNorm).
		h = l.conv1x1Norm(prefix+".conv1_1x1", h, l.p(prefix+".conv1_1x1.weight"),
			l.p(prefix+".norm1.weight"), l.p(prefix+".norm1.bias"), l.statsOf(prefix+".norm1"))
		h = l.depthwiseNorm(prefix+".conv2_kxk", h, l.p(prefix+".conv2_kxk.weight"),
			l.p(prefix+".norm2.weight"), l.p(prefix+".norm2.bias"), b.Stride, l.statsOf(prefix+".norm2"))
	}
	se := prefix + ".se"
	if l.train || !l.fuseNorms {
		h = l.squeezeExcite(se, h, l.p(se+".fc1.weight"), l.p(se+".fc1.bias"), l.p(se+".fc2.weight"), l.p(se+".fc2.bias"))
		h = l.conv1(prefix+".conv3_1x1", h, true)
	} else {
		// The gate scales the projection's input as it is gathered.
		h = l.gatedConv1x1(se, prefix+".conv3_1x1", h, l.p(se+".fc1.weight"), l.p(se+".fc1.bias"),
			l.p(se+".fc2.weight"), l.p(se+".fc2.bias"), l.p(prefix+".conv3_1x1.weight"), l.p(prefix+".conv3_1x1.bias"))
	}
	h = l.drop(prefix+".drop_path", h, l.state, b.DropPath, true)
	return l.add(prefix+".residual", h, shortcut)
}

// transformer is the transformer block b over the whole feature map:
// LayerNorm (and a 2x2 pool in a stage's first block), attention with
// relative position bias, then LayerNorm and a GELU MLP of ratio 4, each
// residual.
func (l *layers) transformer(b BlockPlan, x *gorgonia.Node) *gorgonia.Node {
	prefix := b.Name
	var shortcut, h *gorgonia.Node
	if b.Stride == 2 {
		shortcut = l.downsample(prefix+".shortcut", x, b.In, b.Out)
		h = l.ln(prefix+".norm1.norm", x)
		h = l.avgPool2(prefix+".norm1.down", h)
	} else {
		shortcut = x
		h = l.ln(prefix+".norm1", x)
	}
	h = l.conv1(prefix+".attn.qkv", h, true)
	h = l.attention(prefix+".attn", h, l.p(prefix+".attn.rel_pos.relative_position_bias_table"), b.Grid[0], b.Grid[1])
	h = l.conv1(prefix+".attn.proj", h, true)
	h = l.drop(prefix+".drop_path1", h, l.state, b.DropPath, true)
	x = l.add(prefix+".residual1", shortcut, h)

	h = l.ln(prefix+".norm2", x)
	h = l.conv1(prefix+".mlp.fc1", h, true)
	h = l.apply(prefix+".mlp.act", h.Shape(), &geluOp{}, h)
	h = l.conv1(prefix+".mlp.fc2", h, true)
	h = l.drop(prefix+".drop_path2", h, l.state, b.DropPath, true)
	return l.add(prefix+".residual2", x, h)
}

// head is global average pooling, LayerNorm, the tanh pre-logits layer,
// dropout and the classifier.
func (l *layers) head(x *gorgonia.Node, dropout float64) (logits, preLogits *gorgonia.Node) {
	h := l.meanPool("head.pool", x)
	h = l.ln("head.norm", h)
	h = l.linear("head.pre_logits.fc", h, l.p("head.pre_logits.fc.weight"), l.p("head.pre_logits.fc.bias"))
	preLogits = l.apply("head.pre_logits.act", h.Shape(), tanhOp{}, h)
	h = l.drop("head.drop", preLogits, l.state, dropout, false)
	return l.linear("head.fc", h, l.p("head.fc.weight"), l.p("head.fc.bias")), preLogits
}
