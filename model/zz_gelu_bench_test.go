package model

import "testing"

func BenchmarkGELUElem(b *testing.B) {
	x := make([]float32, 4096)
	y := make([]float32, 4096)
	for i := range x { x[i] = float32(i-2048) / 500 }
	b.ResetTimer()
	for range b.N {
		for i, v := range x { y[i] = gelu(v) }
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4096), "ns/elem")
}
func BenchmarkGELUGradElem(b *testing.B) {
	x := make([]float32, 4096)
	y := make([]float32, 4096)
	for i := range x { x[i] = float32(i-2048) / 500 }
	b.ResetTimer()
	for range b.N {
		for i, v := range x { y[i] = geluGrad(v) }
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4096), "ns/elem")
}
