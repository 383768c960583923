// Package model is the Astroformer network (arXiv 2304.05350): a CoAtNet-style
// hybrid with three MBConv stages and one global-attention stage (C-C-C-T,
// or another layout of the two block types), its named variants, its
// parameters under their timm state_dict names, and safetensors checkpoints.
package model

import (
	"errors"
	"fmt"
	"strings"
)

// DimHead is the width of one attention head; the width of the transformer
// stage must be a multiple of it.
const DimHead = 32

// Config is the shape of one Astroformer variant, independent of the image
// size and the number of classes.
type Config struct {
	Name       string
	Dims       [4]int // output width of each stage
	Depths     [4]int // blocks per stage
	StemWidth  int    // width of the two stem convolutions
	HeadHidden int    // width of the pre-logits layer of the head
	// Layout is the block type of each stage, one letter a stage as in
	// timm's block_type: "C" for MBConv, "T" for transformer. Empty means
	// DefaultLayout, "CCCT".
	Layout string
}

// variants is the table returned by Variants. It is a function rather than a
// package variable so that no caller can modify it.
func variants() []Config {
	return []Config{
		// Published configurations (Astroformer paper, Table 1).
		{Name: "astroformer_0", Dims: [4]int{96, 192, 384, 768}, Depths: [4]int{2, 3, 5, 2}, StemWidth: 64, HeadHidden: 768, Layout: "CCCT"},
		{Name: "astroformer_1", Dims: [4]int{96, 192, 384, 768}, Depths: [4]int{2, 6, 14, 2}, StemWidth: 64, HeadHidden: 768, Layout: "CCCT"},
		{Name: "astroformer_2", Dims: [4]int{128, 256, 512, 1024}, Depths: [4]int{2, 6, 14, 2}, StemWidth: 128, HeadHidden: 1024, Layout: "CCCT"},
		{Name: "astroformer_3", Dims: [4]int{192, 384, 768, 1536}, Depths: [4]int{2, 6, 14, 2}, StemWidth: 192, HeadHidden: 1536, Layout: "CCCT"},
		{Name: "astroformer_4", Dims: [4]int{192, 384, 768, 1536}, Depths: [4]int{2, 12, 28, 2}, StemWidth: 192, HeadHidden: 1536, Layout: "CCCT"},
		{Name: "astroformer_5", Dims: [4]int{256, 512, 1280, 2048}, Depths: [4]int{2, 12, 28, 2}, StemWidth: 192, HeadHidden: 2048, Layout: "CCCT"},
		// Small configurations for CPU training on 64x64 cutouts.
		{Name: "astroformer_nano", Dims: [4]int{32, 64, 128, 256}, Depths: [4]int{1, 1, 2, 1}, StemWidth: 32, HeadHidden: 256, Layout: "CCCT"},
		{Name: "astroformer_micro", Dims: [4]int{48, 96, 192, 384}, Depths: [4]int{1, 2, 3, 1}, StemWidth: 48, HeadHidden: 384, Layout: "CCCT"},
		{Name: "astroformer_tiny", Dims: [4]int{64, 128, 256, 512}, Depths: [4]int{2, 2, 3, 2}, StemWidth: 64, HeadHidden: 512, Layout: "CCCT"},
	}
}

// DefaultVariant is the variant used for CPU training when none is named.
const DefaultVariant = "astroformer_nano"

// Variants returns every named variant: the published astroformer_0 to
// astroformer_5 and the small CPU variants. The slice is a fresh copy on
// every call.
func Variants() []Config { return variants() }

// Lookup returns the variant with the given name.
func Lookup(name string) (Config, error) {
	all := variants()
	names := make([]string, len(all))
	for i, c := range all {
		if c.Name == name {
			return c, nil
		}
		names[i] = c.Name
	}
	return Config{}, fmt.Errorf("model: unknown variant %q (known: %s)", name, strings.Join(names, ", "))
}

// Spec is a variant instantiated for one image size, channel count and class
// count, with the regularisation used in training. Variant is the name the
// Config came from ("" or "custom" for a Config built by hand or inferred
// from a checkpoint).
type Spec struct {
	Variant string
	Config
	ImageH, ImageW int
	InChans        int     // 1 or 3
	Classes        int     // outputs of the head
	Dropout        float64 // dropout before the final linear layer, in [0, 1)
	DropPath       float64 // stochastic depth rate, in [0, 1)
}

// Validate reports every problem with s, joined into one error.
func (s Spec) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if s.ImageH <= 0 || s.ImageW <= 0 || s.ImageH%32 != 0 || s.ImageW%32 != 0 {
		bad("image size %dx%d: height and width must be positive multiples of 32", s.ImageH, s.ImageW)
	}
	if s.InChans != 1 && s.InChans != 3 {
		bad("in_chans %d: must be 1 or 3", s.InChans)
	}
	if s.Classes < 1 {
		bad("classes %d: must be at least 1", s.Classes)
	}
	if s.StemWidth < 1 {
		bad("stem width %d: must be positive", s.StemWidth)
	}
	if s.HeadHidden < 1 {
		bad("head hidden width %d: must be positive", s.HeadHidden)
	}
	if s.Layout != "" && len(s.Layout) != 4 {
		bad("layout %q: want one block type per stage, 4 letters", s.Layout)
	}
	for i, t := range s.Blocks() {
		if s.Dims[i] < 4 {
			bad("stage %d width %d: must be at least 4", i, s.Dims[i])
		}
		if s.Depths[i] < 1 {
			bad("stage %d depth %d: must be at least 1", i, s.Depths[i])
		}
		switch {
		case t != MBConv && t != Transformer && len(s.Layout) == 4:
			bad("stage %d block type %q: want %q (MBConv) or %q (transformer)", i, s.Layout[i], byte(MBConv), byte(Transformer))
		case t == Transformer && s.Dims[i]%DimHead != 0:
			bad("stage %d width %d: must be a multiple of the head width %d", i, s.Dims[i], DimHead)
		}
	}
	if s.Dropout < 0 || s.Dropout >= 1 {
		bad("dropout %g: must be in [0, 1)", s.Dropout)
	}
	if s.DropPath < 0 || s.DropPath >= 1 {
		bad("drop_path %g: must be in [0, 1)", s.DropPath)
	}
	if len(errs) == 0 {
		return nil
	}
	name := s.Variant
	if name == "" {
		name = s.Name
	}
	return fmt.Errorf("model: invalid spec for variant %q: %w", name, errors.Join(errs...))
}

// Grids returns the spatial size (height, width) of the feature map after the
// stem (index 0) and after each of the four stages (indices 1 to 4). Every
// strided step maps a side n to (n-1)/2+1, as a 3x3 convolution with stride 2
// and padding 1 does.
func (s Spec) Grids() [5][2]int {
	var g [5][2]int
	h, w := (s.ImageH-1)/2+1, (s.ImageW-1)/2+1
	g[0] = [2]int{h, w}
	for i := 1; i < 5; i++ {
		h, w = (h-1)/2+1, (w-1)/2+1
		g[i] = [2]int{h, w}
	}
	return g
}

// MidWidth returns the expanded width of the MBConv blocks of a stage of
// width c: 4c rounded to a multiple of 8 as timm's make_divisible does.
func MidWidth(c int) int {
	v := 4 * c
	n := max(8, (v+4)/8*8)
	if 10*n < 9*v {
		n += 8
	}
	return n
}

// SEWidth returns the squeeze-and-excitation width of the MBConv blocks of a
// stage of width c.
func SEWidth(c int) int { return c / 4 }

// FLOPs returns the multiply-accumulate operations of one eval-mode forward
// pass of one image at the spec's size, the convention of the Astroformer and
// CoAtNet papers and of fvcore ("FLOPs" that are really MACs). It counts every
// convolution (k*k*c_in/groups per output value), every linear layer, the
// squeeze-and-excitation convolutions and the two matrix products of
// attention (q·k and attn·v, N*N*width each). Normalisation, activations,
// pooling, softmax, the relative-position bias, the SE gating product and
// residual additions are not counted; together they are a few percent.
func FLOPs(s Spec) int64 {
	g := s.Grids()
	c := int64(s.StemWidth)
	total := int64(g[0][0]) * int64(g[0][1]) * c * (int64(s.InChans) + c) * 9 // stem.conv1, stem.conv2
	for _, b := range s.Plan() {
		total += b.flops()
	}
	last := int64(s.Dims[3])
	return total + last*int64(s.HeadHidden) + int64(s.HeadHidden)*int64(s.Classes)
}
