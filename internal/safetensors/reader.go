package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
)

// chunkSize bounds the scratch memory used to convert a tensor while reading.
const chunkSize = 64 << 10

// File is an open safetensors file whose header has been read and checked.
// Tensor data is read on demand. The methods of a File may be called
// concurrently.
type File struct {
	r      io.ReaderAt
	closer io.Closer
	path   string // for error messages; "" when read from a ReaderAt
	start  int64  // offset of the data section
	header *Header
	index  map[string]int
}

// Open opens the named file and reads its header.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	file, err := NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	file.closer, file.path = f, path
	return file, nil
}

// NewReader reads the header of the safetensors data of the given size held
// by r. The File reads tensors from r until r is no longer needed; Close does
// not close r.
func NewReader(r io.ReaderAt, size int64) (*File, error) {
	h, start, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(h.Tensors))
	for i, t := range h.Tensors {
		index[t.Name] = i
	}
	return &File{r: r, start: start, header: h, index: index}, nil
}

// Close closes the file opened by Open.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// Metadata returns a copy of the header's __metadata__ map (nil if absent).
func (f *File) Metadata() map[string]string { return maps.Clone(f.header.Metadata) }

// Tensors returns the header entries sorted by name.
func (f *File) Tensors() []TensorInfo { return slices.Clone(f.header.Tensors) }

// Tensor returns the header entry of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.header.Tensors[i], true
}

func (f *File) errorf(format string, args ...any) error {
	if f.path != "" {
		return fmt.Errorf("safetensors: %s: "+format, append([]any{f.path}, args...)...)
	}
	return fmt.Errorf("safetensors: "+format, args...)
}

func (f *File) lookup(name string) (TensorInfo, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return TensorInfo{}, f.errorf("no tensor %q", name)
	}
	return t, nil
}

// ReadRaw returns the bytes of the named tensor as stored (little-endian).
func (f *File) ReadRaw(name string) ([]byte, error) {
	t, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, t.End-t.Begin)
	if err := f.readAt(t, buf, t.Begin); err != nil {
		return nil, err
	}
	return buf, nil
}

func (f *File) readAt(t TensorInfo, buf []byte, off int64) error {
	if _, err := f.r.ReadAt(buf, f.start+off); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return f.errorf("tensor %q: reading %d bytes at data offset %d: %w", t.Name, len(buf), off, err)
	}
	return nil
}

// each reads tensor t in chunks and passes every chunk, a whole number of
// elements, to fn together with the index of its first element.
func (f *File) each(t TensorInfo, fn func(first int, b []byte)) error {
	size := int64(t.DType.Size())
	step := chunkSize / size * size
	buf := make([]byte, min(step, t.End-t.Begin))
	for off := t.Begin; off < t.End; off += step {
		b := buf[:min(step, t.End-off)]
		if err := f.readAt(t, b, off); err != nil {
			return err
		}
		fn(int((off-t.Begin)/size), b)
	}
	return nil
}

// Float32 reads the named tensor, converting any numeric dtype to float32.
func (f *File) Float32(name string) ([]float32, error) {
	t, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	dst := make([]float32, t.Len())
	return dst, f.readFloat32(t, dst)
}

// ReadFloat32 reads the named tensor into dst, which must have exactly one
// element per tensor element, converting any numeric dtype to float32.
func (f *File) ReadFloat32(name string, dst []float32) error {
	t, err := f.lookup(name)
	if err != nil {
		return err
	}
	return f.readFloat32(t, dst)
}

func (f *File) readFloat32(t TensorInfo, dst []float32) error {
	if len(dst) != t.Len() {
		return f.errorf("tensor %q: has %d elements, destination holds %d", t.Name, t.Len(), len(dst))
	}
	conv := toFloat32(t.DType)
	if conv == nil {
		return f.errorf("tensor %q: cannot convert %s to float32", t.Name, t.DType)
	}
	size := t.DType.Size()
	return f.each(t, func(first int, b []byte) {
		for i := 0; i < len(b); i += size {
			dst[first+i/size] = conv(b[i:])
		}
	})
}

// Int64 reads the named tensor, which must have an integer or BOOL dtype;
// U64 values above math.MaxInt64 wrap around.
func (f *File) Int64(name string) ([]int64, error) {
	t, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	conv := toInt64(t.DType)
	if conv == nil {
		return nil, f.errorf("tensor %q: cannot read %s as int64", t.Name, t.DType)
	}
	dst := make([]int64, t.Len())
	size := t.DType.Size()
	err = f.each(t, func(first int, b []byte) {
		for i := 0; i < len(b); i += size {
			dst[first+i/size] = conv(b[i:])
		}
	})
	return dst, err
}

var le = binary.LittleEndian

func toFloat32(d DType) func([]byte) float32 {
	switch d {
	case F32:
		return func(b []byte) float32 { return math.Float32frombits(le.Uint32(b)) }
	case F64:
		return func(b []byte) float32 { return float32(math.Float64frombits(le.Uint64(b))) }
	case F16:
		return func(b []byte) float32 { return Float16ToFloat32(le.Uint16(b)) }
	case BF16:
		return func(b []byte) float32 { return math.Float32frombits(uint32(le.Uint16(b)) << 16) }
	}
	if conv := toInt64(d); conv != nil {
		return func(b []byte) float32 { return float32(conv(b)) }
	}
	return nil
}

func toInt64(d DType) func([]byte) int64 {
	switch d {
	case BOOL, U8:
		return func(b []byte) int64 { return int64(b[0]) }
	case I8:
		return func(b []byte) int64 { return int64(int8(b[0])) }
	case I16:
		return func(b []byte) int64 { return int64(int16(le.Uint16(b))) }
	case U16:
		return func(b []byte) int64 { return int64(le.Uint16(b)) }
	case I32:
		return func(b []byte) int64 { return int64(int32(le.Uint32(b))) }
	case U32:
		return func(b []byte) int64 { return int64(le.Uint32(b)) }
	case I64:
		return func(b []byte) int64 { return int64(le.Uint64(b)) }
	case U64:
		return func(b []byte) int64 { return int64(le.Uint64(b)) }
	}
	return nil
}

// Float16ToFloat32 converts an IEEE 754 half-precision value to float32,
// exactly (every half is representable), including subnormals, infinities
// and NaNs.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac * 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
