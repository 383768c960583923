package synthetic

import (
	"fmt"
	"testing"
)

func TestZZFeatures(t *testing.T) {
	objs := render(t, Options{Seed: 3, Weights: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}, 0, 0, 400)
	sum := make([][]float64, NumClasses)
	cnt := make([]float64, NumClasses)
	for _, o := range objs {
		f := measure(o.Pixels, 64)
		v := []float64{f.axisRatio, f.size, f.asymmetry, f.blueness, f.concentration}
		if sum[o.Class] == nil {
			sum[o.Class] = make([]float64, 5)
		}
		for k := range v {
			sum[o.Class][k] += v[k]
		}
		cnt[o.Class]++
	}
	for c := range sum {
		fmt.Printf("%d:", c)
		for k := range sum[c] {
			fmt.Printf(" %6.3f", sum[c][k]/cnt[c])
		}
		fmt.Println()
	}
}
