package model

import (
	"errors"
	"fmt"

	"github.com/astroformer/astroformer/model/internal/bf16"
)

// Precision is the arithmetic of a Net's matrix products.
type Precision string

const (
	// FP32 multiplies in single precision: the default, and what training
	// uses.
	FP32 Precision = "fp32"
	// BF16 rounds both operands of every matrix product to bfloat16 (8
	// significant bits) and accumulates in single precision, with the
	// AVX512_BF16 instruction VDPBF16PS (package model/internal/bf16); the
	// smallest products stay in float32, and so does everything else:
	// normalisation, activations, softmax, the depthwise convolution, the
	// weights and the optimiser. Prediction uses it (precision = "bf16"),
	// and so can training, where it speeds astroformer_0 up 1.1x (1.5x
	// against OpenBLAS's AVX2 kernels) but cost the demo 1 to 2.5 points of
	// top-1 (BENCHMARKS.md).
	BF16 Precision = "bf16"
)

// Precisions returns the precisions ParsePrecision accepts.
func Precisions() []string { return []string{string(FP32), string(BF16)} }

// ParsePrecision parses "fp32" or "bf16"; "" is FP32.
func ParsePrecision(s string) (Precision, error) {
	switch Precision(s) {
	case "", FP32:
		return FP32, nil
	case BF16:
		return BF16, nil
	}
	return "", fmt.Errorf("model: precision %q: want one of %q", s, Precisions())
}

// ErrNoBF16 is SetPrecision's error where this CPU (or this build) has no
// bfloat16 matrix product.
var ErrNoBF16 = errors.New("model: bf16 needs a CPU with AVX512_BF16 (amd64, built without purego)")

// BF16Supported reports whether this CPU and build run BF16 products.
func BF16Supported() bool { return bf16.Supported() }

// SetPrecision sets the precision of the Net's matrix products from the
// next forward pass on (compiled graphs are dropped). BF16 returns
// ErrNoBF16 where BF16Supported is false, and leaves the Net as it was.
func (n *Net) SetPrecision(p Precision) error {
	switch p {
	case FP32:
		if _, ok := n.gemm.(*bf16.GEMM); !ok {
			return nil
		}
		n.gemm = newGEMM()
	case BF16:
		if !BF16Supported() {
			return ErrNoBF16
		}
		if _, ok := n.gemm.(*bf16.GEMM); ok {
			return nil
		}
		n.gemm = bf16.New(newGEMM())
	default:
		_, err := ParsePrecision(string(p))
		return err
	}
	n.closeGraphs()
	return nil
}

// Precision returns the precision of the Net's matrix products.
func (n *Net) Precision() Precision {
	if _, ok := n.gemm.(*bf16.GEMM); ok {
		return BF16
	}
	return FP32
}
