//go:build amd64 && !purego

package bf16

import "golang.org/x/sys/cpu"

// cpuBF16 is whether this CPU has AVX512_BF16 (with the AVX-512 foundation
// the kernel's other instructions need) and the OS saves its registers.
var cpuBF16 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16

// bf16Kernel is the assembly micro-kernel (kernel_amd64.s).
var kernel = kernelAsm

//go:noescape
func kernelAsm(kp int, a, b *uint32, c *float32, ldc int, alpha, beta float32)
