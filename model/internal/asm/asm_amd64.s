//go:build amd64 && !purego

#include "textflag.h"

// func GELUAffine8(dst, src *float32, n int, scale, shift float32, tab *[4]float64)
//
// dst[i] = gelu(src[i]·scale + shift) for i < n, n a positive multiple of
// 8, eight at a time, with the arithmetic of geluAffine's scalar loop in
// the same order (float32 z, float64 table interpolation, float32 result),
// so bit for bit the same. tab holds the cdf cubics of normalTable with a
// sentinel before (Φ = 0) and after (Φ = 1): piece j+1 is table interval j.
//
// Z1 x, Z2 pos, Z3 floor(pos), Z4 f, Y5 piece index ×4, Z6-Z9 c0-c3,
// Z10-Z13 constants 10, 32, -1, 640, Y14 scale, Y15 shift, Z16 zero,
// Y17 the 4s added to the index.
TEXT ·GELUAffine8(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y14
	VBROADCASTSS shift+28(FP), Y15
	MOVQ tab+32(FP), AX
	MOVQ $0x4024000000000000, R8 // 10
	VPBROADCASTQ R8, Z10
	MOVQ $0x4040000000000000, R8 // 32
	VPBROADCASTQ R8, Z11
	MOVQ $0xbff0000000000000, R8 // -1
	VPBROADCASTQ R8, Z12
	MOVQ $0x4084000000000000, R8 // 640
	VPBROADCASTQ R8, Z13
	VPXORQ Z16, Z16, Z16
	MOVL $4, R8
	VPBROADCASTD R8, Y17

loop:
	VMOVUPS (SI), Y1
	VMULPS Y14, Y1, Y1     // v·scale
	VADDPS Y15, Y1, Y1     // z
	VCVTPS2PD Y1, Z1       // x = float64(z)
	VADDPD Z10, Z1, Z2     // x + 10
	VMULPD Z11, Z2, Z2     // pos
	VMINPD Z13, Z2, Z2     // min(pos, 640); NaN gives 640, Φ = 1, x·1 = NaN
	VMAXPD Z12, Z2, Z2     // max(pos, -1)
	VRNDSCALEPD $9, Z2, Z3 // floor, no precision exception
	VSUBPD Z3, Z2, Z4      // f = pos - floor(pos)
	VCVTTPD2DQ Z3, Y5
	VPSLLD $2, Y5, Y5
	VPADDD Y17, Y5, Y5     // (floor(pos) + 1)·4: a piece is four float64
	KXNORW K0, K0, K1
	VGATHERDPD 0(AX)(Y5*8), K1, Z6
	KXNORW K0, K0, K1
	VGATHERDPD 8(AX)(Y5*8), K1, Z7
	KXNORW K0, K0, K1
	VGATHERDPD 16(AX)(Y5*8), K1, Z8
	KXNORW K0, K0, K1
	VGATHERDPD 24(AX)(Y5*8), K1, Z9
	VMULPD Z7, Z4, Z7      // f·c1
	VADDPD Z7, Z6, Z6      // c0 + f·c1
	VMULPD Z9, Z4, Z9      // f·c3
	VADDPD Z9, Z8, Z8      // c2 + f·c3
	VMULPD Z4, Z4, Z7      // f·f
	VMULPD Z8, Z7, Z8      // f·f·(c2 + f·c3)
	VADDPD Z8, Z6, Z6      // Φ
	VMULPD Z6, Z1, Z7      // x·Φ
	VCVTPD2PS Z7, Y7
	VCMPPD $4, Z16, Z6, K2 // Φ ≠ 0 (below the table gelu is +0, also for x = -∞)
	VMOVAPS.Z Y7, K2, Y7
	VMOVUPS Y7, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loop
	VZEROUPPER
	RET

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
