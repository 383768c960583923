//go:build amd64 && !purego

#include "textflag.h"

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
	TESTQ CX, CX
	JZ done
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMULPS Z1, Z0, Z0
	VMOVUPS.Z (DI), K1, Z2
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, K1, (DI)

done:
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
	TESTQ CX, CX
	JZ done
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMULPS Z0, Z3, Z0
	VMOVUPS.Z (DI), K1, Z2
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, K1, (DI)

done:
	VZEROUPPER
	RET

// func GELUPoly(dst, src *float32, n int, scale, shift float32, coef *[8][16]float32)
//
// dst[i] = gelu(z) for z = src[i]·scale + shift, i < n, sixteen at a time
// and the rest under a mask: Φ(z) from the degree-7 polynomial in
// t = z − ⌊z⌋ − ½ of piece ⌊z⌋ + 8 (coef[k] holds the t^k coefficients of
// the 16 pieces on [−8, 8)), looked up in registers by VPERMPS, then z·Φ;
// 0 below −8, z from 8 up and for NaN.
//
// Z24-Z31 coefficients; Z20 −8, Z21 8, Z22 ½, Z23 the 8s added to ⌊z⌋;
// Y/Z14 scale, Z15 shift.
TEXT ·GELUPoly(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS scale+24(FP), Z14
	VBROADCASTSS shift+28(FP), Z15
	MOVQ coef+32(FP), AX
	VMOVUPS 0(AX), Z24
	VMOVUPS 64(AX), Z25
	VMOVUPS 128(AX), Z26
	VMOVUPS 192(AX), Z27
	VMOVUPS 256(AX), Z28
	VMOVUPS 320(AX), Z29
	VMOVUPS 384(AX), Z30
	VMOVUPS 448(AX), Z31
	MOVL $0xc1000000, R8 // −8
	VPBROADCASTD R8, Z20
	MOVL $0x41000000, R8 // 8
	VPBROADCASTD R8, Z21
	MOVL $0x3f000000, R8 // ½
	VPBROADCASTD R8, Z22
	MOVL $8, R8
	VPBROADCASTD R8, Z23
	KXNORW K0, K0, K4 // all sixteen lanes

next:
	CMPQ CX, $16
	JGE whole
	TESTQ CX, CX
	JZ done
	MOVL $1, R9
	SHLL CX, R9
	DECL R9
	KMOVW R9, K4
	MOVQ $16, CX

whole:
	VMOVUPS.Z (SI), K4, Z0
	VMULPS Z14, Z0, Z0
	VADDPS Z15, Z0, Z0     // z
	VRNDSCALEPS $9, Z0, Z1 // ⌊z⌋
	VSUBPS Z1, Z0, Z2
	VSUBPS Z22, Z2, Z2     // t
	VCVTTPS2DQ Z1, Z3
	VPADDD Z23, Z3, Z3     // piece (only its low 4 bits are used)
	VPERMPS Z31, Z3, Z4    // Horner from t^7
	VPERMPS Z30, Z3, Z5
	VFMADD213PS Z5, Z2, Z4
	VPERMPS Z29, Z3, Z5
	VFMADD213PS Z5, Z2, Z4
	VPERMPS Z28, Z3, Z5
	VFMADD213PS Z5, Z2, Z4
	VPERMPS Z27, Z3, Z5
	VFMADD213PS Z5, Z2, Z4
	VPERMPS Z26, Z3, Z5
	VFMADD213PS Z5, Z2, Z4
	VPERMPS Z25, Z3, Z5
	VFMADD213PS Z5, Z2, Z4
	VPERMPS Z24, Z3, Z5
	VFMADD213PS Z5, Z2, Z4 // Φ
	VMULPS Z4, Z0, Z4      // z·Φ
	VCMPPS $1, Z20, Z0, K1  // z < −8
	VCMPPS $13, Z21, Z0, K2 // z ≥ 8
	VCMPPS $3, Z0, Z0, K3   // NaN
	KORW K3, K2, K2
	KNOTW K1, K1
	VMOVAPS.Z Z4, K1, Z4
	VMOVAPS Z0, K2, Z4
	VMOVUPS Z4, K4, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP next

done:
	VZEROUPPER
	RET
