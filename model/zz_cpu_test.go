package model

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

func procCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(0, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func TestZZStepCPU(t *testing.T) {
	b := &testing.B{}
	n, x, targets := benchNet(b)
	opt := NewAdamW(n.Params(), 1e-4, 0.05)
	n.TrainStep(x, targets, benchBatch, nil)
	n.Forward(x, benchBatch)
	for range 2 {
		c0, t0 := procCPU(), time.Now()
		n.TrainStep(x, targets, benchBatch, nil)
		opt.Update(n.Params())
		fmt.Printf("train: cpu %.3fs wall %.3fs\n", procCPU()-c0, time.Since(t0).Seconds())
	}
	for range 2 {
		c0, t0 := procCPU(), time.Now()
		n.Forward(x, benchBatch)
		fmt.Printf("infer: cpu %.3fs wall %.3fs\n", procCPU()-c0, time.Since(t0).Seconds())
	}
}
