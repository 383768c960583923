package h5

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestZZMutate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 2 * 3000 * 0 {
	}
	for _, name := range []string{"g10_default.h5", "g10_latest.h5", "g10_tiled.h5", "index_latest.h5"} {
		orig, _ := os.ReadFile(filepath.Join(testdata, name))
		for it := 0; it < 3000; it++ {
			b := append([]byte(nil), orig...)
			for k := 0; k < 1+r.IntN(4); k++ {
				// bias to metadata: first 4 KB or anywhere
				i := r.IntN(len(b))
				if r.IntN(2) == 0 {
					i = r.IntN(min(len(b), 4096))
				}
				b[i] = byte(r.Uint32())
			}
			t0 := time.Now()
			func() {
				defer func() {
					if e := recover(); e != nil {
						os.WriteFile("/tmp/panic.h5", b, 0o644)
						t.Fatalf("%s it %d: panic %v", name, it, e)
					}
				}()
				file, err := NewFile("fuzz.h5", bytes.NewReader(b), int64(len(b)))
				if err != nil {
					return
				}
				for _, m := range file.Members() {
					d, err := file.Dataset(m)
					if err != nil {
						continue
					}
					if len(d.Shape()) == 1 {
						d.Float64s()
						continue
					}
					rows := d.Shape()[0]
					if rows == 0 || uint64(d.RowBytes())*min(rows, 4) > 1<<20 {
						continue
					}
					n := min(rows, 4)
					d.ReadRows(make([]byte, n*uint64(d.RowBytes())), rows-n, n)
				}
			}()
			if el := time.Since(t0); el > 10*time.Second {
				os.WriteFile("/tmp/slow.h5", b, 0o644)
				t.Fatalf("%s it %d: %v", name, it, el)
				t.Logf("%s it %d: %v", name, it, el)
			}
		}
	}
}
