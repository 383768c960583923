// Package bf16 is the bfloat16 matrix product of the model's BF16
// precision: both operands rounded to bfloat16 (8 significant bits) and
// packed into panels of pairs, multiplied tile by tile by an assembly
// micro-kernel with the AVX512_BF16 instruction VDPBF16PS, accumulating in
// float32. It lives in its own package because the model package uses cgo
// in the openblas build, and a cgo package cannot hold Go assembly.
package bf16

import (
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
)

// Supported reports whether this CPU and build run the bfloat16 product:
// amd64 without the purego tag, and a CPU with AVX512_BF16.
func Supported() bool { return kernel != nil && cpuBF16 }

// SGEMM is the single-precision product GEMM falls back on.
type SGEMM interface {
	Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// The tile of the micro-kernel (see blas_bf16_gen.go).
const (
	mr = 8
	nr = 32
)

// GEMM is C = alpha·op(A)·op(B) + beta·C on row-major matrices in
// bfloat16: op(A) and op(B) are packed into panels of bfloat16 pairs (two
// consecutive k of a row of A, or of a column of B, in one uint32), which
// the micro-kernel multiplies tile by tile. Products too small to gain
// from it go to the float32 FP32. Use it only where Supported. It is safe
// for concurrent use.
type GEMM struct {
	fp32 SGEMM
	pool sync.Pool // *scratch
}

type scratch struct {
	a, b []uint32
	tile [mr * nr]float32
}

// New returns the bfloat16 GEMM falling back on fp32.
func New(fp32 SGEMM) *GEMM {
	return &GEMM{fp32: fp32, pool: sync.Pool{New: func() any { return new(scratch) }}}
}

// minWork is the m·n·k below which a product stays in fp32: packing
// and the padded tiles would cost more than the faster kernel saves.
const minWork = 4096

// parallelWork is the m·n·k above which one product is split over
// goroutines by column panels.
const parallelWork = 1 << 21

// Sgemm computes C = alpha·op(A)·op(B) + beta·C (beta 0: C is not read).
func (g *GEMM) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k < 2 || m*n*k < minWork {
		g.fp32.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	s := g.pool.Get().(*scratch)
	defer g.pool.Put(s)
	kp := (k + 1) / 2
	mp, np := (m+mr-1)/mr, (n+nr-1)/nr
	s.a = growU32(s.a, mp*kp*mr)
	packA(s.a, tA == blas.Trans, m, k, a, lda)
	// Each goroutine packs one panel of op(B) at a time into its own
	// scratch and multiplies every panel of A with it while it is in cache.
	panels := func(w *scratch, lo, hi int) {
		w.b = growU32(w.b, kp*nr)
		bp := w.b
		for jp := lo; jp < hi; jp++ {
			j0 := jp * nr
			packBPanel(bp, tB == blas.Trans, n, k, b, ldb, jp)
			for ip := range mp {
				i0 := ip * mr
				ap := s.a[ip*kp*mr:]
				if i0+mr <= m && j0+nr <= n {
					kernel(kp, &ap[0], &bp[0], &c[i0*ldc+j0], ldc, alpha, beta)
					continue
				}
				kernel(kp, &ap[0], &bp[0], &w.tile[0], nr, alpha, 0)
				for i := i0; i < min(m, i0+mr); i++ {
					row := c[i*ldc+j0 : i*ldc+min(n, j0+nr)]
					t := w.tile[(i-i0)*nr:]
					if beta == 0 {
						copy(row, t[:len(row)])
					} else {
						for j := range row {
							row[j] = t[j] + beta*row[j]
						}
					}
				}
			}
		}
	}
	w := 1
	if m*n*k >= parallelWork {
		w = min(np, runtime.GOMAXPROCS(0))
	}
	if w <= 1 {
		panels(s, 0, np)
		return
	}
	var wg sync.WaitGroup
	for i := range w {
		wg.Go(func() {
			ws := s
			if i > 0 {
				ws = g.pool.Get().(*scratch)
				defer g.pool.Put(ws)
			}
			panels(ws, i*np/w, (i+1)*np/w)
		})
	}
	wg.Wait()
}

func growU32(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n)
	}
	return s[:n]
}

// Round rounds f to bfloat16 as VCVTNE2PS2BF16 does, and returns its 16
// bits: to nearest, ties to even; a NaN stays a (quiet) NaN; a subnormal
// becomes a zero of its sign (VDPBF16PS would read it as zero anyway).
func Round(f float32) uint32 {
	u := math.Float32bits(f)
	switch {
	case u&0x7fffffff > 0x7f800000:
		return u>>16 | 0x40
	case u&0x7f800000 == 0:
		return u >> 16 & 0x8000
	}
	return (u + 0x7fff + (u>>16)&1) >> 16
}

// packA packs the m×k matrix op(A) (A itself, or with at the transpose of
// the stored a) into panels of mr rows: each row its pairs of columns
// (2q, 2q+1) in order, kp of them, the rows of a panel one after the
// other; rows past m and the column past an odd k are zero.
func packA(dst []uint32, at bool, m, k int, a []float32, lda int) {
	kp := (k + 1) / 2
	for i := range (m + mr - 1) / mr * mr {
		out := dst[i*kp : (i+1)*kp]
		switch {
		case i >= m:
			clear(out)
		case !at:
			row := a[i*lda : i*lda+k]
			q0 := 0
			if n32 := k / 32; convRow != nil && n32 > 0 {
				convRow(&out[0], &row[0], n32)
				q0 = 16 * n32
			}
			for q := q0; q < k/2; q++ {
				out[q] = Round(row[2*q]) | Round(row[2*q+1])<<16
			}
			if k%2 == 1 {
				out[kp-1] = Round(row[k-1])
			}
		default:
			for q := range k / 2 {
				out[q] = Round(a[2*q*lda+i]) | Round(a[(2*q+1)*lda+i])<<16
			}
			if k%2 == 1 {
				out[kp-1] = Round(a[(k-1)*lda+i])
			}
		}
	}
}

// packB packs the k×n matrix op(B) into panels of nr columns (see
// packBPanel), one after the other.
func packB(dst []uint32, bt bool, n, k int, b []float32, ldb int) {
	kp := (k + 1) / 2
	for jp := range (n + nr - 1) / nr {
		packBPanel(dst[jp*kp*nr:(jp+1)*kp*nr], bt, n, k, b, ldb, jp)
	}
}

// packBPanel packs panel jp of the k×n matrix op(B), its columns jp·nr to
// jp·nr+nr-1, into panel: for each pair of rows (2q, 2q+1), the pairs of
// its columns in order; columns past n and the row past an odd k are zero.
func packBPanel(panel []uint32, bt bool, n, k int, b []float32, ldb int, jp int) {
	kp := (k + 1) / 2
	panel = panel[:kp*nr]
	j0 := jp * nr
	cols := min(nr, n-j0)
	if cols < nr {
		clear(panel)
	}
	q0 := 0
	if !bt && cols == nr && packRows != nil && k >= 2 {
		// rows 0 to 2(k/2)-1, columns j0 to j0+nr-1, in the assembly
		_ = b[(2*(k/2)-1)*ldb+j0+nr-1]
		q0 = k / 2
		packRows(&panel[0], &b[j0], ldb, q0)
	}
	if bt { // op(B)[r][j] = b[j*ldb+r]: a column of op(B) is a stored row
		for c := range cols {
			col := b[(j0+c)*ldb : (j0+c)*ldb+k]
			for q := range k / 2 {
				panel[q*nr+c] = Round(col[2*q]) | Round(col[2*q+1])<<16
			}
			if k%2 == 1 {
				panel[(kp-1)*nr+c] = Round(col[k-1])
			}
		}
		return
	}
	for q := q0; q < kp; q++ {
		out := panel[q*nr : q*nr+cols]
		r0 := b[2*q*ldb+j0 : 2*q*ldb+j0+cols]
		if 2*q+1 == k {
			for c, v := range r0 {
				out[c] = Round(v)
			}
			continue
		}
		r1 := b[(2*q+1)*ldb+j0 : (2*q+1)*ldb+j0+cols]
		for c, v := range r0 {
			out[c] = Round(v) | Round(r1[c])<<16
		}
	}
}
