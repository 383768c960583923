package model

import (
	"errors"
	"math"
	"testing"
)

// SetPrecision switches a Net between FP32 and BF16 (refusing BF16 where
// the CPU lacks it); back in FP32 it computes what it did before, bit for
// bit, and BF16 logits stay close to FP32's.
func TestSetPrecision(t *testing.T) {
	n := newNet(t, mustSpec(t, DefaultVariant, 32, 32, 4), 1)
	x := make([]float32, 2*3*32*32)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	want, err := n.Forward(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	want = append([]float32(nil), want...)
	if err := n.SetPrecision("fp16"); err == nil {
		t.Error("SetPrecision(fp16) = nil, want an error")
	}
	err = n.SetPrecision(BF16)
	if !BF16Supported() {
		if !errors.Is(err, ErrNoBF16) || n.Precision() != FP32 {
			t.Fatalf("SetPrecision(BF16) without AVX512_BF16 = %v, precision %s; want ErrNoBF16, fp32", err, n.Precision())
		}
		return
	}
	if err != nil || n.Precision() != BF16 {
		t.Fatalf("SetPrecision(BF16) = %v, precision %s", err, n.Precision())
	}
	got, err := n.Forward(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	var maxDiff float64
	for i := range want {
		maxDiff = max(maxDiff, math.Abs(float64(got[i]-want[i])))
	}
	if maxDiff == 0 || maxDiff > 0.05 {
		t.Errorf("largest logit difference bf16 - fp32 = %g, want in (0, 0.05]", maxDiff)
	}
	if err := n.SetPrecision(FP32); err != nil {
		t.Fatal(err)
	}
	back, err := n.Forward(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if back[i] != want[i] {
			t.Fatalf("logit %d back in fp32 = %g, was %g", i, back[i], want[i])
		}
	}
}
