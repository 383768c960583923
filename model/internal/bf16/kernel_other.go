//go:build !amd64 || purego

package bf16

// No bfloat16 assembly in this build: Supported is false.
var (
	cpuBF16  = false
	kernel   func(kp int, a, b *uint32, c *float32, ldc int, alpha, beta float32)
	packRows func(dst *uint32, b *float32, ldb, kp int)
	convRow  func(dst *uint32, src *float32, n32 int)
)
