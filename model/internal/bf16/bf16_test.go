package bf16

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func skipWithoutBF16(t testing.TB) {
	t.Helper()
	if !Supported() {
		t.Skip("no AVX512_BF16 on this CPU or build")
	}
}

// TestBF16GEMM checks the bfloat16 product against the float32 one on
// every transposition and on shapes with partial tiles and odd k: the
// difference must stay within what rounding both operands to 8
// significant bits allows (2·2⁻⁸ relative per product term, summed in
// absolute value).
func TestBF16GEMM(t *testing.T) {
	skipWithoutBF16(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var fp32 SGEMM = gonum.Implementation{}
	g := New(fp32)
	shapes := [][3]int{{8, 32, 16}, {64, 64, 64}, {13, 45, 31}, {7, 100, 9}, {33, 31, 2}, {40, 200, 257}, {96, 300, 128}}
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, beta := range []float32{0, 0.5} {
					a, b := randSlice(rng, m*k), randSlice(rng, k*n)
					lda, ldb := k, n
					if tA == blas.Trans {
						lda = m
					}
					if tB == blas.Trans {
						ldb = k
					}
					ldc := n + 3 // a padded C: columns past n must stay untouched
					c0 := randSlice(rng, m*ldc)
					want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
					fp32.Sgemm(tA, tB, m, n, k, 1.5, a, lda, b, ldb, beta, want, ldc)
					g.Sgemm(tA, tB, m, n, k, 1.5, a, lda, b, ldb, beta, got, ldc)
					// the bound: |alpha|·Σ|a||b|·2·2⁻⁸, plus float32 slack
					abs := make([]float32, m*ldc)
					absA, absB := absSlice(a), absSlice(b)
					fp32.Sgemm(tA, tB, m, n, k, 1.5, absA, lda, absB, ldb, 0, abs, ldc)
					for i := range m {
						for j := range ldc {
							x := i*ldc + j
							if j >= n {
								if got[x] != c0[x] {
									t.Fatalf("%v %c%c beta %g: C[%d][%d] past n changed", sh, tA, tB, beta, i, j)
								}
								continue
							}
							tol := 2*math.Pow(2, -8)*float64(abs[x]) + 1e-5
							if d := math.Abs(float64(got[x] - want[x])); d > tol {
								t.Fatalf("%v %c%c beta %g: C[%d][%d] = %g, fp32 %g (|diff| %g > %g)", sh, tA, tB, beta, i, j, got[x], want[x], d, tol)
							}
						}
					}
				}
			}
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func absSlice(s []float32) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(math.Abs(float64(v)))
	}
	return out
}

// TestBF16Rounding checks the rounding to bfloat16: to nearest, ties to
// even, NaN kept.
func TestBF16Rounding(t *testing.T) {
	for _, c := range []struct {
		in   uint32
		want uint32
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // tie, even below
		{0x3f818000, 0x3f82}, // tie, even above
		{0x3f808001, 0x3f81}, // above the tie
		{0x7f800000, 0x7f80}, // +Inf
		{0x7f800001, 0x7fc0}, // a NaN stays NaN
		{0x00000001, 0x0000}, // a subnormal becomes zero
		{0x807fffff, 0x8000}, // of its sign
	} {
		if got := Round(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("bf16(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
}

// BenchmarkGEMM compares the bfloat16 product with gonum's float32 one
// (the model's BLAS is measured by astroformer-bench -mode gemm).
// The assembly packing of op(B) and op(A) rounds as Round does, NaN, infinities,
// ties and subnormals included.
func TestPackRowsMatchesRound(t *testing.T) {
	skipWithoutBF16(t)
	rng := rand.New(rand.NewPCG(5, 6))
	special := []uint32{0x7fc00000, 0x7f800001, 0xff800000, 0x7f800000, 0x00000001, 0x807fffff, 0x3f808000, 0x3f818000, 0x7f7fffff, 0x80000000}
	const k, n = 9, 70 // two full panels, a partial one, an odd k
	b := make([]float32, k*n)
	for i := range b {
		u := rng.Uint32()
		if i%5 == 0 {
			u = special[rng.IntN(len(special))]
		}
		b[i] = math.Float32frombits(u)
	}
	kp, panels := (k+1)/2, (n+nr-1)/nr
	got, want := make([]uint32, panels*kp*nr), make([]uint32, panels*kp*nr)
	packB(got, false, n, k, b, n)
	savedRows, savedConv := packRows, convRow
	packRows, convRow = nil, nil
	packB(want, false, n, k, b, n)
	// and A: its rows converted 32 at a time
	const ma, ka = 9, 70
	gotA, wantA := make([]uint32, 2*mr*ka/2), make([]uint32, 2*mr*ka/2)
	packA(wantA, false, ma, ka, b[:ma*ka], ka)
	packRows, convRow = savedRows, savedConv
	packA(gotA, false, ma, ka, b[:ma*ka], ka)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("packed pair %d of B = %#08x, want %#08x", i, got[i], want[i])
		}
	}
	for i := range wantA {
		if gotA[i] != wantA[i] {
			t.Fatalf("packed pair %d of A = %#08x, want %#08x", i, gotA[i], wantA[i])
		}
	}
}

func BenchmarkGEMM(b *testing.B) {
	for _, p := range []string{"fp32", "bf16"} {
		b.Run(p, func(b *testing.B) {
			var g SGEMM = gonum.Implementation{}
			if p == "bf16" {
				skipWithoutBF16(b)
				g = New(g)
			}
			const n = 512
			rng := rand.New(rand.NewPCG(1, 2))
			x, y, z := randSlice(rng, n*n), randSlice(rng, n*n), make([]float32, n*n)
			b.ResetTimer()
			for b.Loop() {
				g.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, x, n, y, n, 0, z, n)
			}
			b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}
