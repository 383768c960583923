package cifar

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// The CIFAR-100 binary format: each record is one coarse label byte, one
// fine label byte and 32×32 pixels stored as three planes, red, green then
// blue, each row-major from the top-left pixel.
const (
	Side       = 32
	Channels   = 3
	PixelBytes = Side * Side * Channels
	RecordSize = 2 + PixelBytes // 3074
)

// Record is one decoded image of a CIFAR-100 binary file.
type Record struct {
	Coarse, Fine uint8
	Pixels       []byte // Side×Side×Channels, HWC
}

// DecodeRecord decodes one RecordSize-byte record, converting its planar
// pixels to HWC order.
func DecodeRecord(b []byte) (Record, error) {
	if len(b) != RecordSize {
		return Record{}, fmt.Errorf("cifar: record of %d bytes, expected %d", len(b), RecordSize)
	}
	return Record{Coarse: b[0], Fine: b[1], Pixels: PlanarToHWC(b[2:], Side*Side, Channels)}, nil
}

// PlanarToHWC interleaves c planes of n pixels each (CHW order) into HWC
// order. It panics if len(planar) != n·c.
func PlanarToHWC(planar []byte, n, c int) []byte {
	if len(planar) != n*c {
		panic(fmt.Sprintf("cifar: %d bytes for %d planes of %d pixels", len(planar), c, n))
	}
	out := make([]byte, n*c)
	for k := range c {
		plane := planar[k*n : (k+1)*n]
		for i, v := range plane {
			out[i*c+k] = v
		}
	}
	return out
}

// RecordFile is an open CIFAR binary file whose records can be read
// concurrently.
type RecordFile struct {
	f    *os.File
	name string
	n    int64
}

// OpenRecords opens a CIFAR binary file and checks that it holds a whole
// number of records: a file whose size is not a multiple of RecordSize is
// an error naming the file and the offset of the truncated record.
func OpenRecords(path string) (*RecordFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	size := st.Size()
	if rem := size % RecordSize; rem != 0 {
		f.Close()
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of %d-byte records: the record at byte %d is truncated (%d of %d bytes)",
			path, size, RecordSize, size-rem, rem, RecordSize)
	}
	if size == 0 {
		f.Close()
		return nil, fmt.Errorf("%s: empty file, expected %d-byte records", path, RecordSize)
	}
	return &RecordFile{f: f, name: path, n: size / RecordSize}, nil
}

// Len returns the number of records.
func (r *RecordFile) Len() int64 { return r.n }

// Record reads and decodes record i.
func (r *RecordFile) Record(i int64) (Record, error) {
	if i < 0 || i >= r.n {
		return Record{}, fmt.Errorf("%s: record %d out of range [0, %d)", r.name, i, r.n)
	}
	buf := make([]byte, RecordSize)
	if _, err := r.f.ReadAt(buf, i*RecordSize); err != nil {
		return Record{}, fmt.Errorf("%s: record %d at byte %d: %w", r.name, i, i*RecordSize, err)
	}
	return DecodeRecord(buf)
}

// Close closes the file.
func (r *RecordFile) Close() error { return r.f.Close() }

// ReadLabelNames reads a label names file (fine_label_names.txt or
// coarse_label_names.txt): one name per line, label order, surrounding
// spaces and blank lines ignored. Duplicate names are an error.
func ReadLabelNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := readLabelNames(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return names, nil
}

func readLabelNames(r io.Reader) ([]string, error) {
	var names []string
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		name := strings.TrimSpace(sc.Text())
		if name == "" {
			continue
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("line %d: name %q already on line %d", line, name, prev)
		}
		seen[name] = line
		names = append(names, name)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("no label names")
	}
	return names, nil
}
