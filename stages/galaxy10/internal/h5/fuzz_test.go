package h5

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen feeds damaged fixtures to the reader: whatever the bytes, it must
// return data or an error, never panic, hang or allocate without bound.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"g10_default.h5", "g10_latest.h5", "g10_tiled.h5", "index_latest.h5"} {
		b, err := os.ReadFile(filepath.Join(testdata, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := NewFile("fuzz.h5", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, name := range file.Members() {
			d, err := file.Dataset(name)
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
	})
}
