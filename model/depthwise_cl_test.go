package model

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/astroformer/astroformer/model/internal/asm"
)

// TestDepthwiseChannelsLast compares the channels-last depthwise
// convolution with the plane-by-plane one: the same values bit for bit, for
// both strides, odd sizes and channel counts that are not a multiple of 16.
func TestDepthwiseChannelsLast(t *testing.T) {
	if !asm.Available {
		t.Skip("no assembly kernels on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(2, 2))
	for _, tc := range []struct{ batch, c, h, w, stride int }{
		{2, 17, 7, 9, 1}, {3, 32, 8, 8, 2}, {1, 5, 5, 3, 2}, {2, 130, 16, 16, 1}, {1, 48, 1, 1, 1},
	} {
		k := &depthwise{batch: tc.batch, c: tc.c, stride: tc.stride, h: tc.h, w: tc.w, ho: (tc.h-1)/tc.stride + 1, wo: (tc.w-1)/tc.stride + 1}
		x := make([]float32, tc.batch*tc.c*tc.h*tc.w)
		w := make([]float32, tc.c*9)
		for _, v := range [][]float32{x, w} {
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
		}
		want := make([]float32, tc.batch*tc.c*k.ho*k.wo)
		got := make([]float32, len(want))
		for i := range got {
			got[i] = float32(i) // forward overwrites every value
		}
		k.forwardPlanes(want, x, w)
		k.forwardChannelsLast(got, x, w)
		if !slices.Equal(got, want) {
			t.Errorf("%+v: channels-last output differs", tc)
		}
	}
}

func TestTranspose(t *testing.T) {
	for _, shape := range [][2]int{{1, 1}, {16, 16}, {17, 33}, {40, 7}, {384, 256}} {
		rows, cols := shape[0], shape[1]
		src := make([]float32, rows*cols)
		for i := range src {
			src[i] = float32(i)
		}
		dst := make([]float32, rows*cols)
		transpose(dst, src, rows, cols)
		for r := range rows {
			for c := range cols {
				if dst[c*rows+r] != src[r*cols+c] {
					t.Fatalf("%dx%d: dst[%d][%d] = %g, want %g", rows, cols, c, r, dst[c*rows+r], src[r*cols+c])
				}
			}
		}
	}
}
