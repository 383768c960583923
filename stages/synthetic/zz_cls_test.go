package synthetic

import (
	"fmt"
	"testing"
)

func BenchmarkZZClass(b *testing.B) {
	for c := range NumClasses {
		w := make([]float64, NumClasses)
		w[c] = 1
		b.Run(fmt.Sprint(c), func(b *testing.B) {
			r, _ := NewRenderer(Options{Seed: 1, Weights: w})
			var obj Object
			i := int64(0)
			for b.Loop() {
				r.Render(i, &obj)
				i++
			}
		})
	}
}
