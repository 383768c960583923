//go:build amd64 && !purego

package bf16

import "golang.org/x/sys/cpu"

// cpuBF16 is whether this CPU has AVX512_BF16, with the AVX-512 foundation
// and byte-and-word instructions (VPERMW) the assembly also uses, and the
// OS saves their registers.
var cpuBF16 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512BF16

// The assembly (kernel_amd64.s, written by gen.go): the micro-kernel and
// the packing of full panels of op(B).
var (
	kernel   = kernelAsm
	packRows = packBAsm
	convRow  = convertAsm
)

//go:noescape
func kernelAsm(kp int, a, b *uint32, c *float32, ldc int, alpha, beta float32)

// packBAsm packs kp pairs of rows (2q, 2q+1) of the row-major b (row
// stride ldb), 32 columns, into dst[32q:32q+32]: bfloat16 pairs, the low
// half from row 2q, rounded to nearest even by VCVTNE2PS2BF16.
//
//go:noescape
func packBAsm(dst *uint32, b *float32, ldb, kp int)

// convertAsm rounds src[:32·n32] to bfloat16 pairs in dst[:16·n32]: the
// low half of dst[i] from src[2i], the high half from src[2i+1].
//
//go:noescape
func convertAsm(dst *uint32, src *float32, n32 int)
