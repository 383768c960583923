package evaluate

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/astroformer/astroformer/schemas"
)

func TestPerfBig(t *testing.T) {
	work := t.TempDir()
	classes := schemas.Galaxy10Classes()
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 200000
	rows := make([]row, n)
	for i := range rows {
		p := make([]float32, 10)
		var s float32
		for c := range p { p[c] = rng.Float32(); s += p[c] }
		label := rng.IntN(10)
		p[label] += s * rng.Float32()
		s = 0
		for c := range p { s += p[c] }
		for c := range p { p[c] /= s }
		rows[i] = row{label: label, split: "test", probs: p}
	}
	writeCatalog(t, filepath.Join(work, "catalog"), classes, false, rows, nil)
	rows = nil
	runtime.GC()
	s, _ := decode(t, "input = \"catalog\"\noutput = \"report\"")
	env := newEnv(work)
	var ms runtime.MemStats
	t0 := time.Now()
	if err := s.Run(context.Background(), env); err != nil { t.Fatal(err) }
	runtime.ReadMemStats(&ms)
	t.Logf("%d rows in %v; %s; heap sys %d MiB", n, time.Since(t0), env.Summary()[0], ms.HeapSys>>20)
}
