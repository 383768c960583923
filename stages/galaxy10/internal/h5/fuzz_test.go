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
	for _, name := range []string{"g10_default.h5", "g10_latest.h5", "g10_tiled.h5", "index_latest.h5",
		"g10_appended_gzip.h5", "index_unlimited.h5"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := NewFile("fuzz.h5", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		readAll(file)
	})
}

// unlimitedFixtures are the files whose chunk indexes FuzzUnlimitedIndexes
// damages: extensible arrays (filtered and not) and version 2 B-trees.
var unlimitedFixtures = []string{"g10_appended.h5", "g10_appended_gzip.h5", "index_unlimited.h5"}

// FuzzUnlimitedIndexes overwrites bytes of a fixture inside its extensible
// arrays and version 2 B-trees and reads it with metadata checksums off, so
// that the damage reaches the index parsers instead of stopping at the
// checksums. Seeds damage every block signature and the fields after it.
func FuzzUnlimitedIndexes(f *testing.F) {
	files := make([][]byte, len(unlimitedFixtures))
	for i, name := range unlimitedFixtures {
		files[i] = readFixture(f, name)
		for _, sig := range []string{"EAHD", "EAIB", "EASB", "EADB", "BTHD", "BTIN", "BTLF"} {
			for at, n := 0, 0; n < 3; n++ {
				k := bytes.Index(files[i][at:], []byte(sig))
				if k < 0 {
					break
				}
				at += k + 4
				for _, skip := range []uint32{0, 2, 6, 14} {
					f.Add(uint8(i), uint32(at)+skip, []byte{0xff, 0x7f, 0x00, 0x01})
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, file uint8, at uint32, patch []byte) {
		b := bytes.Clone(files[int(file)%len(files)])
		if len(patch) > 64 {
			patch = patch[:64]
		}
		copy(b[int(at)%len(b):], patch)
		h, err := newFile(&File{name: "fuzz.h5", r: bytes.NewReader(b), size: int64(len(b)), noChecksums: true})
		if err != nil {
			return
		}
		readAll(h)
	})
}

func readFixture(f *testing.F, name string) []byte {
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// readAll reads every dataset of file: one-dimensional ones whole, the
// last rows of others, ignoring errors.
func readAll(file *File) {
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
}
