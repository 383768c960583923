package synthetic

import "testing"

var sink float32

func BenchmarkExpf(b *testing.B) {
	x := float32(-3)
	var s float32
	for b.Loop() {
		s += expf(x)
		x += 1e-6
	}
	sink = s
}
func BenchmarkMulAdd(b *testing.B) {
	x := float32(-3)
	var s float32
	for b.Loop() {
		s += x * 1.0001
		x += 1e-6
	}
	sink = s
}
