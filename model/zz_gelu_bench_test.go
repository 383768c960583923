package model

import (
	"math"
	"runtime"
	"syscall"
	"testing"
	"fmt"
)

func threadCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return float64(ru.Utime.Nano()+ru.Stime.Nano())
}

func TestZZGeluCPU(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	x := make([]float32, 4096)
	y := make([]float32, 4096)
	for i := range x { x[i] = float32(i-2048) / 500 }
	for _, c := range []struct{name string; f func(float32) float32}{
		{"gelu", gelu}, {"geluGrad", geluGrad},
		{"erf64", func(v float32) float32 { return float32(math.Erf(float64(v))) }},
		{"exp64", func(v float32) float32 { return float32(math.Exp(float64(v))) }},
		
		{"copy", func(v float32) float32 { return v*2 }},
	} {
		t0 := threadCPU()
		for range 500 { for i, v := range x { y[i] = c.f(v) } }
		fmt.Printf("%-10s %.2f ns/elem (cpu)\n", c.name, (threadCPU()-t0)/(500*4096))
	}
}
