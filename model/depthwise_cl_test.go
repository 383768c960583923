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
		k := &depthwise{batch: tc.batch, c: tc.c, stride: tc.stride, h: tc.h, w: tc.w, ho: (tc.h-1)/tc.stride + 1, wo: (tc.w-1)/tc.stride + 1, cl: &channelsLast{}}
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

// TestNormSums checks shiftedSums and dzSums (in assembly on CPUs that
// have it) against their definition, four float64 accumulators over the
// elements in turn, bit for bit, for every length up to 40.
func TestNormSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for n := range 41 {
		src, gr := make([]float32, n), make([]float32, n)
		for i := range src {
			src[i], gr[i] = float32(rng.NormFloat64()*3+1), float32(rng.NormFloat64())
		}
		const shift, mean, invstd = 0.75, float32(0.9), float32(1.3)
		s, q, sd, qd := fourSums(src, gr, shift, mean, invstd)
		gotS, gotQ := shiftedSums(src, shift)
		if wantS, wantQ := (s[0]+s[1])+(s[2]+s[3]), (q[0]+q[1])+(q[2]+q[3]); gotS != wantS || gotQ != wantQ {
			t.Errorf("n %d: shiftedSums %v %v, want %v %v", n, gotS, gotQ, wantS, wantQ)
		}
		dst := make([]float32, n)
		gotSD, gotQD := dzSums(dst, gr, nil, src, mean, invstd)
		if wantS, wantQ := (sd[0]+sd[1])+(sd[2]+sd[3]), (qd[0]+qd[1])+(qd[2]+qd[3]); gotSD != wantS || gotQD != wantQ || !slices.Equal(dst, gr) {
			t.Errorf("n %d: dzSums %v %v, want %v %v", n, gotSD, gotQD, wantS, wantQ)
		}
	}
}

// fourSums is the accumulation TestNormSums expects: whole groups of four
// values lane by lane, then the rest into lane 0.
func fourSums(src, gr []float32, shift float64, mean, invstd float32) (s, q, sd, qd [4]float64) {
	for i, v := range src {
		k := i % 4
		if i >= len(src)&^3 {
			k = 0
		}
		d := float64(v) - shift
		s[k] += d
		q[k] += float64(d * d)
		sd[k] += float64(gr[i])
		qd[k] += float64(gr[i] * ((v - mean) * invstd))
	}
	return s, q, sd, qd
}

// TestDepthwiseBackRows compares the depthwise convolution's gradients,
// plane by plane and (where the assembly runs) channels last, with the
// loop they are defined by, bit for bit, for both strides; batches of 4
// and more share out whole samples among the goroutines.
func TestDepthwiseBackRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, tc := range []struct{ batch, c, h, w, stride int }{{2, 3, 7, 9, 1}, {2, 4, 8, 8, 2}, {1, 2, 20, 37, 1}, {1, 2, 3, 1, 2}, {2, 3, 9, 7, 2}, {1, 2, 5, 5, 2}, {1, 1, 2, 2, 2}, {1, 2, 6, 3, 2}, {5, 19, 6, 7, 1}, {6, 33, 9, 8, 2}} {
		k := &depthwise{batch: tc.batch, c: tc.c, stride: tc.stride, h: tc.h, w: tc.w, ho: (tc.h-1)/tc.stride + 1, wo: (tc.w-1)/tc.stride + 1, cl: &channelsLast{}}
		k.dw = make([]float32, tc.c*9)
		x := make([]float32, tc.batch*tc.c*tc.h*tc.w)
		w := make([]float32, tc.c*9)
		dy := make([]float32, tc.batch*tc.c*k.ho*k.wo)
		for _, v := range [][]float32{x, w, dy} {
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
		}
		back := &depthwiseBack{k}
		ways := map[string]func(dx []float32){"planes": func(dx []float32) { back.backPlanes(dx, dy, x, w) }}
		if asm.Available {
			ways["channels last"] = func(dx []float32) { back.backChannelsLast(dx, dy, x, w) }
		}

		wantDX, wantDW := make([]float32, len(x)), make([]float32, len(w))
		ip, op := k.h*k.w, k.ho*k.wo
		for c := range k.c {
			var dw [9]float64
			for n := range k.batch {
				var dwn [9]float64 // each sample's sums apart, then added in sample order
				p := n*k.c + c
				g, src, dst := dy[p*op:(p+1)*op], x[p*ip:(p+1)*ip], wantDX[p*ip:(p+1)*ip]
				for oh := range k.ho {
					for kh := range 3 {
						ih := oh*k.stride + kh - 1
						if ih < 0 || ih >= k.h {
							continue
						}
						for kw := range 3 {
							var s float32
							for ow := range k.wo {
								iw := ow*k.stride + kw - 1
								if iw < 0 || iw >= k.w {
									continue
								}
								s += float32(g[oh*k.wo+ow] * src[ih*k.w+iw])
								dst[ih*k.w+iw] += float32(w[c*9+kh*3+kw] * g[oh*k.wo+ow])
							}
							dwn[kh*3+kw] += float64(s)
						}
					}
				}
				for i, v := range dwn {
					dw[i] += v
				}
			}
			for i, v := range dw {
				wantDW[c*9+i] = float32(v)
			}
		}
		for name, way := range ways {
			dx := make([]float32, len(x))
			clear(k.dw)
			way(dx)
			if !slices.Equal(dx, wantDX) || !slices.Equal(k.dw, wantDW) {
				t.Errorf("%+v, %s: gradients differ from the loop's", tc, name)
			}
		}
	}
}

// TestIm2col compares im2col and col2im with their per-element
// definitions, for both strides and odd sizes.
func TestIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, tc := range []struct{ cin, h, w, stride int }{{2, 7, 9, 1}, {3, 8, 8, 2}, {1, 5, 3, 2}, {2, 1, 1, 1}, {1, 6, 2, 1}, {1, 1, 1, 2}, {2, 3, 1, 2}} {
		k := &conv3x3{cin: tc.cin, stride: tc.stride, h: tc.h, w: tc.w, ho: (tc.h-1)/tc.stride + 1, wo: (tc.w-1)/tc.stride + 1}
		hw := k.ho * k.wo
		x := make([]float32, tc.cin*tc.h*tc.w)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		col := make([]float32, tc.cin*9*hw)
		for i := range col {
			col[i] = 99 // im2col writes every value
		}
		k.im2col(col, x)
		dx := make([]float32, len(x))
		k.col2im(dx, col)
		wantDX := make([]float32, len(x))
		for c := range tc.cin {
			for kh := range 3 {
				for kw := range 3 {
					for oh := range k.ho {
						for ow := range k.wo {
							ih, iw := oh*k.stride+kh-1, ow*k.stride+kw-1
							var want float32
							if ih >= 0 && ih < k.h && iw >= 0 && iw < k.w {
								want = x[(c*k.h+ih)*k.w+iw]
								wantDX[(c*k.h+ih)*k.w+iw] += want
							}
							if got := col[(c*9+kh*3+kw)*hw+oh*k.wo+ow]; got != want {
								t.Fatalf("%+v: col[%d,%d,%d][%d,%d] = %g, want %g", tc, c, kh, kw, oh, ow, got, want)
							}
						}
					}
				}
			}
		}
		if !slices.Equal(dx, wantDX) {
			t.Errorf("%+v: col2im differs from its definition", tc)
		}
	}
}
