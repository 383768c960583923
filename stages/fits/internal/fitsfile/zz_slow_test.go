package fitsfile

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/astrogo/fitsio"
)

func TestSlowProbe(t *testing.T) {
	seed := writeFITS(t, image(t, -32, []int{2, 2, 3}, make([]float32, 12), fitsio.Card{Name: "BANDS", Value: "grz"}))
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		b := bytes.Clone(seed)
		for k := 0; k < 1+r.IntN(4); k++ {
			b[r.IntN(len(b))] = byte(r.IntN(256))
		}
		start := time.Now()
		ReadImage(bytes.NewReader(b), 1<<16)
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Fatalf("slow %v", d)
		}
	}
}
