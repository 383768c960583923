package synthetic

import (
	"context"
	"testing"
)

// BenchmarkRender measures one 64×64 cutout on one goroutine.
func BenchmarkRender(b *testing.B) {
	r, err := NewRenderer(Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var obj Object
	i := int64(0)
	for b.Loop() {
		r.Render(i, &obj)
		i++
	}
}

// BenchmarkRenderBatch measures 1024 64×64 cutouts on GOMAXPROCS goroutines.
func BenchmarkRenderBatch(b *testing.B) {
	objs := make([]Object, 1024)
	for b.Loop() {
		if err := RenderBatch(context.Background(), Options{Seed: 1}, 0, 0, objs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(objs))/b.Elapsed().Seconds(), "cutouts/s")
}
