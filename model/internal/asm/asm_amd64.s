//go:build amd64 && !purego

#include "textflag.h"

// LANES_K1 sets K1 to the first CX lanes (CX < 16), or jumps to done
// when CX is 0; AX is scratch.
#define LANES_K1(done) \
	TESTQ CX, CX; \
	JZ done; \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K1

// func MulAdd(dst, a, b *float32, n int)
//
// dst[i] += a[i]·b[i] for i < n, the product rounded before the sum (no
// fused multiply-add), sixteen at a time and the rest under a mask.
TEXT ·MulAdd(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	CMPQ CX, $16
	JLT tail

loop16:
	VMOVUPS (SI), Z0
	VMULPS (DX), Z0, Z0
	VADDPS (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	CMPQ CX, $16
	JGE loop16

tail:
	LANES_K1(done)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMULPS Z1, Z0, Z0
	VMOVUPS.Z (DI), K1, Z2
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, K1, (DI)

done:
	VZEROUPPER
	RET

// func Scale(dst, src *float32, n int, a float32)
//
// dst[i] = a·src[i] for i < n, sixteen at a time and the rest under a
// mask.
TEXT ·Scale(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Z3
	CMPQ CX, $16
	JLT stail

sloop16:
	VMULPS (SI), Z3, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	CMPQ CX, $16
	JGE sloop16

stail:
	LANES_K1(sdone)
	VMOVUPS.Z (SI), K1, Z0
	VMULPS Z0, Z3, Z0
	VMOVUPS Z0, K1, (DI)

sdone:
	VZEROUPPER
	RET

// func AddScaled(dst, src *float32, n int, a float32)
//
// dst[i] += a·src[i] for i < n, the product rounded before the sum,
// sixteen at a time and the rest under a mask.
TEXT ·AddScaled(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Z3
	CMPQ CX, $16
	JLT tail

loop16:
	VMULPS (SI), Z3, Z0
	VADDPS (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	CMPQ CX, $16
	JGE loop16

tail:
	LANES_K1(done)
	VMOVUPS.Z (SI), K1, Z0
	VMULPS Z0, Z3, Z0
	VMOVUPS.Z (DI), K1, Z2
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, K1, (DI)

done:
	VZEROUPPER
	RET

// GELU_OF_Z sets Z4 to gelu(z) for z in Z0: Φ(z) from the degree-7
// polynomial in t = z − ⌊z⌋ − ½ of piece ⌊z⌋ + 8, looked up in Z24-Z31 by
// VPERMPS, then z·Φ; 0 below −8, z from 8 up and for NaN. It uses Z1-Z5
// and K1-K3, and the constants Z20 −8, Z21 8, Z22 ½, Z23 the 8s added to ⌊z⌋.
#define GELU_OF_Z \
	VRNDSCALEPS $9, Z0, Z1; \
	VSUBPS Z1, Z0, Z2; \
	VSUBPS Z22, Z2, Z2; \
	VCVTTPS2DQ Z1, Z3; \
	VPADDD Z23, Z3, Z3; \
	VPERMPS Z31, Z3, Z4; \
	VPERMPS Z30, Z3, Z5; \
	VFMADD213PS Z5, Z2, Z4; \
	VPERMPS Z29, Z3, Z5; \
	VFMADD213PS Z5, Z2, Z4; \
	VPERMPS Z28, Z3, Z5; \
	VFMADD213PS Z5, Z2, Z4; \
	VPERMPS Z27, Z3, Z5; \
	VFMADD213PS Z5, Z2, Z4; \
	VPERMPS Z26, Z3, Z5; \
	VFMADD213PS Z5, Z2, Z4; \
	VPERMPS Z25, Z3, Z5; \
	VFMADD213PS Z5, Z2, Z4; \
	VPERMPS Z24, Z3, Z5; \
	VFMADD213PS Z5, Z2, Z4; \
	VMULPS Z4, Z0, Z4; \
	VCMPPS $1, Z20, Z0, K1; \
	VCMPPS $13, Z21, Z0, K2; \
	VCMPPS $3, Z0, Z0, K3; \
	KORW K3, K2, K2; \
	KNOTW K1, K1; \
	VMOVAPS.Z Z4, K1, Z4; \
	VMOVAPS Z0, K2, Z4

// GELU_CONSTANTS loads the polynomial coefficients at AX into Z24-Z31 and
// the constants of GELU_OF_Z into Z20-Z23 (R9 is scratch).
#define GELU_CONSTANTS \
	VMOVUPS 0(AX), Z24; \
	VMOVUPS 64(AX), Z25; \
	VMOVUPS 128(AX), Z26; \
	VMOVUPS 192(AX), Z27; \
	VMOVUPS 256(AX), Z28; \
	VMOVUPS 320(AX), Z29; \
	VMOVUPS 384(AX), Z30; \
	VMOVUPS 448(AX), Z31; \
	MOVL $0xc1000000, R9; \
	VPBROADCASTD R9, Z20; \
	MOVL $0x41000000, R9; \
	VPBROADCASTD R9, Z21; \
	MOVL $0x3f000000, R9; \
	VPBROADCASTD R9, Z22; \
	MOVL $8, R9; \
	VPBROADCASTD R9, Z23

// TAIL_MASK sets K4 to the lanes of the next sixteen values of a row with
// CX values left: all sixteen when CX ≥ 16 (jumping to whole), the first
// CX otherwise (then CX = 16), and jumps to done when CX is 0.
#define TAIL_MASK(whole, done) \
	CMPQ CX, $16; \
	JGE whole; \
	TESTQ CX, CX; \
	JZ done; \
	MOVL $1, R9; \
	SHLL CX, R9; \
	DECL R9; \
	KMOVW R9, K4; \
	MOVQ $16, CX

// func GELUPoly(dst, src *float32, hw, planes, dstStride, srcStride int, scale, shift float32, coef *[8][16]float32)
//
// dst[i] = gelu(z) for z = src[i]·scale + shift over planes planes of hw
// values, plane p starting p·dstStride values after the first in dst and
// p·srcStride in src, sixteen at a time and the rest of a plane under a
// mask (GELU_OF_Z; coef[k] holds the t^k coefficients of the 16 pieces
// on [−8, 8)).
//
// Z14 scale, Z15 shift; R8 hw, R10 planes left, R11 and BX the strides in
// bytes, R12 and R13 the source and destination in the plane, CX its
// values left.
TEXT ·GELUPoly(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ hw+16(FP), R8
	MOVQ planes+24(FP), R10
	MOVQ dstStride+32(FP), BX
	SHLQ $2, BX
	MOVQ srcStride+40(FP), R11
	SHLQ $2, R11
	VBROADCASTSS scale+48(FP), Z14
	VBROADCASTSS shift+52(FP), Z15
	MOVQ coef+56(FP), AX
	GELU_CONSTANTS
	TESTQ R10, R10
	JZ done

plane:
	MOVQ SI, R12
	MOVQ DI, R13
	MOVQ R8, CX
	KXNORW K0, K0, K4 // all sixteen lanes

next:
	TAIL_MASK(whole, planeDone)

whole:
	VMOVUPS.Z (R12), K4, Z0
	VMULPS Z14, Z0, Z0
	VADDPS Z15, Z0, Z0 // z
	GELU_OF_Z
	VMOVUPS Z4, K4, (R13)
	ADDQ $64, R12
	ADDQ $64, R13
	SUBQ $16, CX
	JMP next

planeDone:
	ADDQ R11, SI
	ADDQ BX, DI
	DECQ R10
	JNZ plane

done:
	VZEROUPPER
	RET

// func GELUPolyRows(dst, src *float32, n, rows, stride int, scale, shift *float32, coef *[8][16]float32)
//
// dst[i] = gelu(z) for z = src[i]·scale[j] + shift[j], j the position of
// i in its row, over rows rows of n values stride values apart: GELUPoly
// with a scale and shift per column (channels last).
//
// R8 n, R10 rows left, R11 the stride in bytes, R12 and R13 the source
// and destination in the row, BX and DX the scale and shift, CX the
// row's values left.
TEXT ·GELUPolyRows(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), R8
	MOVQ rows+24(FP), R10
	MOVQ stride+32(FP), R11
	SHLQ $2, R11
	MOVQ coef+56(FP), AX
	GELU_CONSTANTS
	TESTQ R10, R10
	JZ rdone

row:
	MOVQ SI, R12
	MOVQ DI, R13
	MOVQ scale+40(FP), BX
	MOVQ shift+48(FP), DX
	MOVQ R8, CX
	KXNORW K0, K0, K4

rnext:
	TAIL_MASK(rwhole, rowDone)

rwhole:
	VMOVUPS.Z (R12), K4, Z0
	VMOVUPS.Z (BX), K4, Z14
	VMOVUPS.Z (DX), K4, Z15
	VMULPS Z14, Z0, Z0
	VADDPS Z15, Z0, Z0 // z
	GELU_OF_Z
	VMOVUPS Z4, K4, (R13)
	ADDQ $64, R12
	ADDQ $64, R13
	ADDQ $64, BX
	ADDQ $64, DX
	SUBQ $16, CX
	JMP rnext

rowDone:
	ADDQ R11, SI
	ADDQ R11, DI
	DECQ R10
	JNZ row

rdone:
	VZEROUPPER
	RET

// Transpose16's steps: interleave rows r and r+1 by 32 bits (into t and
// t+1) and pairs by 64 bits, within 128-bit lanes; regroup the lanes of
// four such groups into columns m, m+4, m+8 and m+12 and store them.
#define INTERLEAVE32(R0, R1, T0, T1) \
	VUNPCKLPS R1, R0, T0; \
	VUNPCKHPS R1, R0, T1

#define INTERLEAVE64(T0, T2, U0, U1) \
	VUNPCKLPD T2, T0, U0; \
	VUNPCKHPD T2, T0, U1

#define STORE_COLUMN(Z, col) \
	MOVQ $col, AX; \
	IMULQ R8, AX; \
	VMOVUPS Z, (DI)(AX*1)

#define COLUMNS(G0, G1, G2, G3, m) \
	VSHUFF32X4 $0x88, G1, G0, Z16; \
	VSHUFF32X4 $0xdd, G1, G0, Z17; \
	VSHUFF32X4 $0x88, G3, G2, Z18; \
	VSHUFF32X4 $0xdd, G3, G2, Z19; \
	VSHUFF32X4 $0x88, Z18, Z16, Z20; \
	VSHUFF32X4 $0xdd, Z18, Z16, Z21; \
	VSHUFF32X4 $0x88, Z19, Z17, Z22; \
	VSHUFF32X4 $0xdd, Z19, Z17, Z23; \
	STORE_COLUMN(Z20, m); \
	STORE_COLUMN(Z21, m+8); \
	STORE_COLUMN(Z22, m+4); \
	STORE_COLUMN(Z23, m+12)

#define LOAD_ROW(Z) \
	VMOVUPS (SI), Z; \
	ADDQ R9, SI

// func Transpose16(dst *float32, dstStride int, src *float32, srcStride int)
//
// dst[j·dstStride + i] = src[i·srcStride + j] for i, j < 16 (strides in
// elements): the 16 rows are loaded into Z0-Z15, interleaved by 32 and
// 64 bits within 128-bit lanes (Z16-Z31, then back into Z0-Z15: Zm+4g
// holds columns 4k+m of rows 4g to 4g+3 in lane k), and their lanes
// regrouped by VSHUFF32X4 into the 16 columns.
TEXT ·Transpose16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	SHLQ $2, R9
	LOAD_ROW(Z0)
	LOAD_ROW(Z1)
	LOAD_ROW(Z2)
	LOAD_ROW(Z3)
	LOAD_ROW(Z4)
	LOAD_ROW(Z5)
	LOAD_ROW(Z6)
	LOAD_ROW(Z7)
	LOAD_ROW(Z8)
	LOAD_ROW(Z9)
	LOAD_ROW(Z10)
	LOAD_ROW(Z11)
	LOAD_ROW(Z12)
	LOAD_ROW(Z13)
	LOAD_ROW(Z14)
	LOAD_ROW(Z15)
	INTERLEAVE32(Z0, Z1, Z16, Z17)
	INTERLEAVE32(Z2, Z3, Z18, Z19)
	INTERLEAVE32(Z4, Z5, Z20, Z21)
	INTERLEAVE32(Z6, Z7, Z22, Z23)
	INTERLEAVE32(Z8, Z9, Z24, Z25)
	INTERLEAVE32(Z10, Z11, Z26, Z27)
	INTERLEAVE32(Z12, Z13, Z28, Z29)
	INTERLEAVE32(Z14, Z15, Z30, Z31)
	INTERLEAVE64(Z16, Z18, Z0, Z1)
	INTERLEAVE64(Z17, Z19, Z2, Z3)
	INTERLEAVE64(Z20, Z22, Z4, Z5)
	INTERLEAVE64(Z21, Z23, Z6, Z7)
	INTERLEAVE64(Z24, Z26, Z8, Z9)
	INTERLEAVE64(Z25, Z27, Z10, Z11)
	INTERLEAVE64(Z28, Z30, Z12, Z13)
	INTERLEAVE64(Z29, Z31, Z14, Z15)
	COLUMNS(Z0, Z4, Z8, Z12, 0)
	COLUMNS(Z1, Z5, Z9, Z13, 1)
	COLUMNS(Z2, Z6, Z10, Z14, 2)
	COLUMNS(Z3, Z7, Z11, Z15, 3)
	VZEROUPPER
	RET

// func ShiftedSums4(src *float32, n int, shift float64, acc *[8]float64)
//
// The four-lane sums of model.shiftedSums over n, a positive multiple of 4,
// values: lane k of acc[0:4] sums d = float64(src[i]) − shift and of
// acc[4:8] d·d (product rounded, then added) over i ≡ k (mod 4), in order.
TEXT ·ShiftedSums4(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSD shift+16(FP), Y5
	MOVQ acc+24(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1

shifted4:
	VCVTPS2PD (SI), Y2
	VSUBPD Y5, Y2, Y2
	VADDPD Y2, Y0, Y0
	VMULPD Y2, Y2, Y3
	VADDPD Y3, Y1, Y1
	ADDQ $16, SI
	SUBQ $4, CX
	JNZ shifted4
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VZEROUPPER
	RET

// func DzSums4(dz, src *float32, n int, mean, invstd float32, acc *[8]float64)
//
// The four-lane sums of model.dzSums over n, a positive multiple of 4,
// values: lane k of acc[0:4] sums float64(dz[i]) and of acc[4:8]
// float64(dz[i]·x̂) with x̂ = (src[i] − mean)·invstd, every float32
// operation rounded, over i ≡ k (mod 4), in order.
TEXT ·DzSums4(SB), NOSPLIT, $0-40
	MOVQ dz+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS mean+24(FP), X6
	VBROADCASTSS invstd+28(FP), X7
	MOVQ acc+32(FP), DX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1

dz4:
	VMOVUPS (DI), X2
	VMOVUPS (SI), X3
	VSUBPS X6, X3, X3
	VMULPS X7, X3, X3
	VMULPS X3, X2, X3
	VCVTPS2PD X2, Y4
	VADDPD Y4, Y0, Y0
	VCVTPS2PD X3, Y4
	VADDPD Y4, Y1, Y1
	ADDQ $16, DI
	ADDQ $16, SI
	SUBQ $4, CX
	JNZ dz4
	VMOVUPD Y0, (DX)
	VMOVUPD Y1, 32(DX)
	VZEROUPPER
	RET

// func DzSumsMul4(dz, gr, dg, src *float32, n int, mean, invstd float32, acc *[8]float64)
//
// DzSums4 of dz[i] = gr[i]·dg[i] (rounded), which it stores: the loop of
// model.dzSums with the GELU's derivative, in one pass.
TEXT ·DzSumsMul4(SB), NOSPLIT, $0-56
	MOVQ dz+0(FP), DI
	MOVQ gr+8(FP), R8
	MOVQ dg+16(FP), R9
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), CX
	VBROADCASTSS mean+40(FP), X6
	VBROADCASTSS invstd+44(FP), X7
	MOVQ acc+48(FP), DX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1

dzmul4:
	VMOVUPS (R8), X2
	VMULPS (R9), X2, X2
	VMOVUPS X2, (DI)
	VMOVUPS (SI), X3
	VSUBPS X6, X3, X3
	VMULPS X7, X3, X3
	VMULPS X3, X2, X3
	VCVTPS2PD X2, Y4
	VADDPD Y4, Y0, Y0
	VCVTPS2PD X3, Y4
	VADDPD Y4, Y1, Y1
	ADDQ $16, DI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, SI
	SUBQ $4, CX
	JNZ dzmul4
	VMOVUPD Y0, (DX)
	VMOVUPD Y1, 32(DX)
	VZEROUPPER
	RET

// SS_STEP adds the next four values at OFF to the four-lane sums of
// ShiftedSums4: S the shifted values, Q their squares (Y15 the shift).
#define SS_STEP(OFF, S, Q) \
	VCVTPS2PD OFF, Y8; \
	VSUBPD Y15, Y8, Y8; \
	VADDPD Y8, S, S; \
	VMULPD Y8, Y8, Y9; \
	VADDPD Y9, Q, Q

// func ShiftedSums4Planes(src *float32, n, planes, stride int, shift float64, acc *float64)
//
// ShiftedSums4 of each of planes planes of n values (n a positive multiple
// of 4), plane p at p·stride values, into acc[8p:8p+8]: four planes at a
// time, so that their sums' additions overlap, each lane of each plane
// still summing in order. R11, R12, R13 one, two and three strides in
// bytes, BX the plane's length in bytes.
TEXT ·ShiftedSums4Planes(SB), NOSPLIT, $0-48
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), R8
	MOVQ planes+16(FP), R10
	MOVQ stride+24(FP), R11
	SHLQ $2, R11
	LEAQ (R11)(R11*1), R12
	LEAQ (R12)(R11*1), R13
	MOVQ R8, BX
	SHLQ $2, BX
	VBROADCASTSD shift+32(FP), Y15
	MOVQ acc+40(FP), DI

ssquad:
	CMPQ R10, $4
	JLT ssone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ R8, CX

ssquadloop:
	SS_STEP((SI), Y0, Y1)
	SS_STEP((SI)(R11*1), Y2, Y3)
	SS_STEP((SI)(R12*1), Y4, Y5)
	SS_STEP((SI)(R13*1), Y6, Y7)
	ADDQ $16, SI
	SUBQ $4, CX
	JNZ ssquadloop
	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VMOVUPD Y4, 128(DI)
	VMOVUPD Y5, 160(DI)
	VMOVUPD Y6, 192(DI)
	VMOVUPD Y7, 224(DI)
	ADDQ $256, DI
	SUBQ BX, SI
	LEAQ (SI)(R12*2), SI
	SUBQ $4, R10
	JMP ssquad

ssone:
	TESTQ R10, R10
	JZ ssdone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	MOVQ R8, CX

ssoneloop:
	SS_STEP((SI), Y0, Y1)
	ADDQ $16, SI
	SUBQ $4, CX
	JNZ ssoneloop
	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	ADDQ $64, DI
	SUBQ BX, SI
	ADDQ R11, SI
	DECQ R10
	JMP ssone

ssdone:
	VZEROUPPER
	RET

// DZ_STEP is one step of DzSumsMul4 for the plane at index IDX (a byte
// offset register from the current position): dz = gr·dg, stored, added
// to S, and dz·x̂ to Q (X14 mean, X15 invstd).
#define DZ_STEP(IDX, S, Q) \
	VMOVUPS (R8)IDX, X8; \
	VMULPS (R9)IDX, X8, X8; \
	VMOVUPS X8, (DI)IDX; \
	VMOVUPS (SI)IDX, X9; \
	VSUBPS X14, X9, X9; \
	VMULPS X15, X9, X9; \
	VMULPS X9, X8, X9; \
	VCVTPS2PD X8, Y10; \
	VADDPD Y10, S, S; \
	VCVTPS2PD X9, Y11; \
	VADDPD Y11, Q, Q

// func DzSumsMul4Planes(dz, gr, dg, src *float32, n, planes, stride int, mean, invstd float32, acc *float64)
//
// DzSumsMul4 of each of planes planes of n values (n a positive multiple
// of 4), plane p at p·stride values in dz, gr, dg and src, into
// acc[8p:8p+8], four planes at a time like ShiftedSums4Planes. DX is 0
// (the first plane's index), R11-R13 one to three strides in bytes, BX
// the plane's length in bytes.
TEXT ·DzSumsMul4Planes(SB), NOSPLIT, $0-72
	MOVQ dz+0(FP), DI
	MOVQ gr+8(FP), R8
	MOVQ dg+16(FP), R9
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), BX
	SHLQ $2, BX
	MOVQ planes+40(FP), R10
	MOVQ stride+48(FP), R11
	SHLQ $2, R11
	LEAQ (R11)(R11*1), R12
	LEAQ (R12)(R11*1), R13
	VBROADCASTSS mean+56(FP), X14
	VBROADCASTSS invstd+60(FP), X15
	MOVQ acc+64(FP), AX
	XORQ DX, DX

dzquad:
	CMPQ R10, $4
	JLT dzone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ BX, CX

dzquadloop:
	DZ_STEP((DX*1), Y0, Y1)
	DZ_STEP((R11*1), Y2, Y3)
	DZ_STEP((R12*1), Y4, Y5)
	DZ_STEP((R13*1), Y6, Y7)
	ADDQ $16, DI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, SI
	SUBQ $16, CX
	JNZ dzquadloop
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	VMOVUPD Y3, 96(AX)
	VMOVUPD Y4, 128(AX)
	VMOVUPD Y5, 160(AX)
	VMOVUPD Y6, 192(AX)
	VMOVUPD Y7, 224(AX)
	ADDQ $256, AX
	SUBQ BX, DI
	SUBQ BX, R8
	SUBQ BX, R9
	SUBQ BX, SI
	LEAQ (DI)(R12*2), DI
	LEAQ (R8)(R12*2), R8
	LEAQ (R9)(R12*2), R9
	LEAQ (SI)(R12*2), SI
	SUBQ $4, R10
	JMP dzquad

dzone:
	TESTQ R10, R10
	JZ dzdone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	MOVQ BX, CX

dzoneloop:
	DZ_STEP((DX*1), Y0, Y1)
	ADDQ $16, DI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, SI
	SUBQ $16, CX
	JNZ dzoneloop
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	ADDQ $64, AX
	SUBQ BX, DI
	SUBQ BX, R8
	SUBQ BX, R9
	SUBQ BX, SI
	ADDQ R11, DI
	ADDQ R11, R8
	ADDQ R11, R9
	ADDQ R11, SI
	DECQ R10
	JMP dzone

dzdone:
	VZEROUPPER
	RET

// func NormBackDx(dx, src *float32, hw, planes, stride int, mean, invstd, a, m1, m2 float32)
//
// dx[i] = a·((dx[i] − m1) − ((src[i] − mean)·invstd)·m2), every operation
// rounded, over planes planes of hw values at stride values from each
// other: the second pass of model.batchNormBack, sixteen values at a time
// and then one by one. Z6-Z10 mean, invstd, a, m1, m2.
TEXT ·NormBackDx(SB), NOSPLIT, $0-60
	MOVQ dx+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ hw+16(FP), R10
	MOVQ planes+24(FP), R11
	MOVQ stride+32(FP), R12
	SHLQ $2, R12
	VBROADCASTSS mean+40(FP), Z6
	VBROADCASTSS invstd+44(FP), Z7
	VBROADCASTSS a+48(FP), Z8
	VBROADCASTSS m1+52(FP), Z9
	VBROADCASTSS m2+56(FP), Z10

nbplane:
	MOVQ DI, R8
	MOVQ SI, R9
	MOVQ R10, CX

nb16:
	CMPQ CX, $16
	JLT nb1
	VMOVUPS (R9), Z0
	VSUBPS Z6, Z0, Z0
	VMULPS Z7, Z0, Z0
	VMULPS Z10, Z0, Z0
	VMOVUPS (R8), Z1
	VSUBPS Z9, Z1, Z1
	VSUBPS Z0, Z1, Z1
	VMULPS Z8, Z1, Z1
	VMOVUPS Z1, (R8)
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JMP nb16

nb1:
	TESTQ CX, CX
	JZ nbnext
	VMOVSS (R9), X0
	VSUBSS X6, X0, X0
	VMULSS X7, X0, X0
	VMULSS X10, X0, X0
	VMOVSS (R8), X1
	VSUBSS X9, X1, X1
	VSUBSS X0, X1, X1
	VMULSS X8, X1, X1
	VMOVSS X1, (R8)
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ CX
	JMP nb1

nbnext:
	ADDQ R12, DI
	ADDQ R12, SI
	DECQ R11
	JNZ nbplane
	VZEROUPPER
	RET

// GELU_GRAD_OF_Z sets Z1 to gelu(z) and Z4 to gelu'(z) for z in Z0:
// Φ(z) and φ(z) from the degree-7 polynomials in t = z − ⌊z⌋ − ½ of
// piece ⌊z⌋ + 8, looked up by VPERMPS in Z24-Z31 (Φ) and Z8-Z15 (φ); then
// z·Φ and Φ + z·φ. Below −8 both are 0; from 8 up they are z and 1; for
// NaN both are NaN. It uses Z1-Z7 and K1-K3, K5, and the constants Z18
// ones, Z20 −8, Z21 8, Z22 ½, Z23 the 8s added to ⌊z⌋.
#define HORNER2(CP, CD) \
	VPERMPS CP, Z3, Z5; \
	VFMADD213PS Z5, Z2, Z4; \
	VPERMPS CD, Z3, Z7; \
	VFMADD213PS Z7, Z2, Z6

#define GELU_GRAD_OF_Z \
	VRNDSCALEPS $9, Z0, Z1; \
	VSUBPS Z1, Z0, Z2; \
	VSUBPS Z22, Z2, Z2; \
	VCVTTPS2DQ Z1, Z3; \
	VPADDD Z23, Z3, Z3; \
	VPERMPS Z31, Z3, Z4; \
	VPERMPS Z15, Z3, Z6; \
	HORNER2(Z30, Z14); \
	HORNER2(Z29, Z13); \
	HORNER2(Z28, Z12); \
	HORNER2(Z27, Z11); \
	HORNER2(Z26, Z10); \
	HORNER2(Z25, Z9); \
	HORNER2(Z24, Z8); \
	VMULPS Z4, Z0, Z1; \
	VFMADD231PS Z6, Z0, Z4; \
	VCMPPS $1, Z20, Z0, K1; \
	VCMPPS $13, Z21, Z0, K2; \
	VCMPPS $3, Z0, Z0, K3; \
	KORW K3, K2, K5; \
	KNOTW K1, K1; \
	VMOVAPS.Z Z1, K1, Z1; \
	VMOVAPS.Z Z4, K1, Z4; \
	VMOVAPS Z0, K5, Z1; \
	VMOVAPS Z18, K2, Z4; \
	VMOVAPS Z0, K3, Z4

// func GELUPolyGrad(dst, grad, src *float32, hw, planes, stride int, scale, shift float32, coef *[16][16]float32)
//
// dst[i] = gelu(z) and grad[i] = gelu'(z) for z = src[i]·scale + shift
// over planes planes of hw values, plane p starting p·stride values after
// the first in dst, grad and src, sixteen at a time and the rest of a
// plane under a mask (GELU_GRAD_OF_Z; coef[k] holds the t^k coefficients
// of Φ's 16 pieces on [−8, 8), coef[8+k] those of φ).
//
// Z16 scale, Z17 shift; R8 hw, R10 planes left, R11 the stride in bytes,
// R12, R13 and R14 the source, destination and derivative in the plane,
// CX its values left.
TEXT ·GELUPolyGrad(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ grad+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ hw+24(FP), R8
	MOVQ planes+32(FP), R10
	MOVQ stride+40(FP), R11
	SHLQ $2, R11
	VBROADCASTSS scale+48(FP), Z16
	VBROADCASTSS shift+52(FP), Z17
	MOVQ coef+56(FP), AX
	GELU_CONSTANTS
	VMOVUPS 512(AX), Z8
	VMOVUPS 576(AX), Z9
	VMOVUPS 640(AX), Z10
	VMOVUPS 704(AX), Z11
	VMOVUPS 768(AX), Z12
	VMOVUPS 832(AX), Z13
	VMOVUPS 896(AX), Z14
	VMOVUPS 960(AX), Z15
	MOVL $0x3f800000, R9
	VPBROADCASTD R9, Z18
	TESTQ R10, R10
	JZ gdone

gplane:
	MOVQ SI, R12
	MOVQ DI, R13
	MOVQ DX, R14
	MOVQ R8, CX
	KXNORW K0, K0, K4

gnext:
	TAIL_MASK(gwhole, gplaneDone)

gwhole:
	VMOVUPS.Z (R12), K4, Z0
	VMULPS Z16, Z0, Z0
	VADDPS Z17, Z0, Z0 // z
	GELU_GRAD_OF_Z
	VMOVUPS Z1, K4, (R13)
	VMOVUPS Z4, K4, (R14)
	ADDQ $64, R12
	ADDQ $64, R13
	ADDQ $64, R14
	SUBQ $16, CX
	JMP gnext

gplaneDone:
	ADDQ R11, SI
	ADDQ R11, DI
	ADDQ R11, DX
	DECQ R10
	JNZ gplane

gdone:
	VZEROUPPER
	RET

// func AdamW8(p, grad, m, v *float32, n int, b1, b2, decay float32, step, bc2Sqrt, eps float64)
//
// model.AdamW's update of n values, n a positive multiple of 8, eight at a
// time with the loop's arithmetic in the same order, so bit for bit the
// same: m = b1·m + (1−b1)·g and v = b2·v + ((1−b2)·g)·g in float32, then
// p = float32(float64(p·decay) − step·float64(m) / (√float64(v)/bc2Sqrt + eps)).
TEXT ·AdamW8(SB), NOSPLIT, $0-80
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), BX
	MOVQ n+32(FP), CX
	VBROADCASTSS b1+40(FP), Y10
	VBROADCASTSS b2+44(FP), Y11
	VBROADCASTSS decay+48(FP), Y12
	VBROADCASTSD step+56(FP), Z13
	VBROADCASTSD bc2Sqrt+64(FP), Z14
	VBROADCASTSD eps+72(FP), Z15
	MOVL $0x3f800000, R8 // 1
	VPBROADCASTD R8, Y9
	VSUBPS Y10, Y9, Y8   // 1 − b1
	VSUBPS Y11, Y9, Y9   // 1 − b2

adamw8:
	VMOVUPS (SI), Y0       // g
	VMULPS (DX), Y10, Y1   // b1·m
	VMULPS Y0, Y8, Y2      // (1−b1)·g
	VADDPS Y2, Y1, Y1      // m
	VMOVUPS Y1, (DX)
	VMULPS (BX), Y11, Y2   // b2·v
	VMULPS Y0, Y9, Y3      // (1−b2)·g
	VMULPS Y0, Y3, Y3      // ·g
	VADDPS Y3, Y2, Y2      // v
	VMOVUPS Y2, (BX)
	VCVTPS2PD Y2, Z2
	VSQRTPD Z2, Z2
	VDIVPD Z14, Z2, Z2
	VADDPD Z15, Z2, Z2     // denom
	VCVTPS2PD Y1, Z1
	VMULPD Z13, Z1, Z1     // step·m
	VDIVPD Z2, Z1, Z1      // / denom
	VMULPS (DI), Y12, Y3   // p·decay
	VCVTPS2PD Y3, Z3
	VSUBPD Z1, Z3, Z3
	VCVTPD2PS Z3, Y3
	VMOVUPS Y3, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, BX
	SUBQ $8, CX
	JNZ adamw8
	VZEROUPPER
	RET
