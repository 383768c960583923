package model

import "fmt"

// BlockType is the kind of block a stage is made of: one letter of a
// Config's Layout, as in timm's block_type.
type BlockType byte

// The block types.
const (
	// MBConv is an inverted residual block: pre-norm, 1x1 expansion,
	// depthwise 3x3, squeeze-excitation and 1x1 projection.
	MBConv BlockType = 'C'
	// Transformer is a block of global attention with a learned relative
	// position bias, then an MLP of ratio 4.
	Transformer BlockType = 'T'
)

// DefaultLayout is the layout of the published variants and of a Config
// whose Layout is empty: three MBConv stages, then a transformer stage.
const DefaultLayout = "CCCT"

func (t BlockType) String() string {
	switch t {
	case MBConv:
		return "MBConv"
	case Transformer:
		return "transformer"
	}
	return fmt.Sprintf("BlockType(%q)", byte(t))
}

// outWeight returns the name, under a block's prefix, of the weight whose
// first dimension is the block's output width. Only blocks of type t have
// it, so it tells the types apart in a state_dict.
func (t BlockType) outWeight() string {
	if t == Transformer {
		return "attn.proj.weight"
	}
	return "conv3_1x1.weight"
}

// Blocks returns the block type of each stage: the letters of c.Layout, or
// of DefaultLayout when it is empty. A Layout of another length than four
// leaves the missing stages zero, which Validate reports.
func (c Config) Blocks() [4]BlockType {
	layout := c.Layout
	if layout == "" {
		layout = DefaultLayout
	}
	var types [4]BlockType
	for i := range min(4, len(layout)) {
		types[i] = BlockType(layout[i])
	}
	return types
}

// sameShape reports whether a and b describe the same network, whatever
// their names and however their layouts are spelled.
func sameShape(a, b Config) bool {
	return a.Dims == b.Dims && a.Depths == b.Depths && a.StemWidth == b.StemWidth &&
		a.HeadHidden == b.HeadHidden && a.Blocks() == b.Blocks()
}

// BlockPlan is one block of the network: where it sits, what it is and the
// shapes it maps between.
type BlockPlan struct {
	Name     string    // timm prefix of its tensors, "stages.<Stage>.blocks.<Index>"
	Stage    int       // 0 to 3
	Index    int       // position in its stage
	Type     BlockType // MBConv or Transformer
	In, Out  int       // input and output widths
	Stride   int       // 2 for a stage's first block, whose shortcut is pooled (and widened when In != Out); else 1
	InGrid   [2]int    // spatial size (height, width) of the input
	Grid     [2]int    // spatial size of the output, over which a transformer block attends
	Heads    int       // attention heads of a transformer block (Out / DimHead), 0 for MBConv
	DropPath float64   // stochastic depth rate: 0 at the first block, s.DropPath at the last, linear between
}

// Plan returns every block of the network of s in the order the forward
// pass runs them, which is also the order of their tensors in the
// state_dict. The parameter walk, the graph, FLOPs and InferSpec all read
// the network's layout from it. Plan does not validate s.
func (s Spec) Plan() []BlockPlan {
	grids := s.Grids()
	types := s.Blocks()
	total := 0
	for _, d := range s.Depths {
		total += max(d, 0)
	}
	plan := make([]BlockPlan, 0, total)
	c := s.StemWidth
	for st := range 4 {
		for i := range max(s.Depths[st], 0) {
			b := BlockPlan{
				Name: fmt.Sprintf("stages.%d.blocks.%d", st, i), Stage: st, Index: i, Type: types[st],
				In: c, Out: s.Dims[st], Stride: 1, InGrid: grids[st+1], Grid: grids[st+1],
			}
			if i == 0 {
				b.Stride, b.InGrid = 2, grids[st]
			}
			if b.Type == Transformer {
				b.Heads = b.Out / DimHead
			}
			if total > 1 {
				b.DropPath = s.DropPath * float64(len(plan)) / float64(total-1)
			}
			plan = append(plan, b)
			c = b.Out
		}
	}
	return plan
}

// flops returns the multiply-accumulates of the block for one image; see
// FLOPs for what is counted.
func (b BlockPlan) flops() int64 {
	in := int64(b.InGrid[0]) * int64(b.InGrid[1])
	out := int64(b.Grid[0]) * int64(b.Grid[1])
	cin, cout := int64(b.In), int64(b.Out)
	var total int64
	if b.Stride == 2 && cin != cout {
		total += out * cin * cout // shortcut.expand after the 2x2 pool
	}
	switch b.Type {
	case MBConv:
		mid, rd := int64(MidWidth(b.Out)), int64(SEWidth(b.Out))
		total += in * cin * mid   // conv1_1x1
		total += out * mid * 9    // conv2_kxk, depthwise
		total += 2 * mid * rd     // se.fc1, se.fc2
		total += out * mid * cout // conv3_1x1
	case Transformer:
		total += out * cin * 3 * cout      // attn.qkv, after the pool in a first block
		total += 2 * out * out * cout      // q·k and attn·v
		total += out * cout * cout         // attn.proj
		total += 2 * out * cout * 4 * cout // mlp.fc1, mlp.fc2
	}
	return total
}
