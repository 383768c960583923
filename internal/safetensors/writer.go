package safetensors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Tensor is a tensor to write. Build one with F32Tensor or I64Tensor.
type Tensor struct {
	Name  string
	Shape []int
	dtype DType
	f32   []float32
	i64   []int64
}

// F32Tensor returns a float32 tensor to write. data is not copied.
func F32Tensor(name string, shape []int, data []float32) Tensor {
	return Tensor{Name: name, Shape: shape, dtype: F32, f32: data}
}

// I64Tensor returns an int64 tensor to write. data is not copied.
func I64Tensor(name string, shape []int, data []int64) Tensor {
	return Tensor{Name: name, Shape: shape, dtype: I64, i64: data}
}

// DType returns the element type of t.
func (t Tensor) DType() DType { return t.dtype }

func (t Tensor) len() int {
	if t.dtype == F32 {
		return len(t.f32)
	}
	return len(t.i64)
}

// Write writes tensors and metadata to w in safetensors format: tensors
// ordered by name and stored contiguously in that order, header padded with
// spaces to a multiple of 8 bytes so that the data section is aligned.
// Tensor data is encoded in bounded chunks. metadata may be nil.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	sorted := slices.Clone(tensors)
	slices.SortFunc(sorted, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	for i, t := range sorted {
		if err := t.check(); err != nil {
			return err
		}
		if i > 0 && sorted[i-1].Name == t.Name {
			return fmt.Errorf("safetensors: write: duplicate tensor %q", t.Name)
		}
	}
	header, err := encodeHeader(sorted, metadata)
	if err != nil {
		return err
	}
	var lenBuf [8]byte
	le.PutUint64(lenBuf[:], uint64(len(header)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	chunk := make([]byte, 0, chunkSize)
	flush := func() error {
		_, err := w.Write(chunk)
		chunk = chunk[:0]
		return err
	}
	for _, t := range sorted {
		for i := range t.len() {
			if len(chunk)+8 > cap(chunk) {
				if err := flush(); err != nil {
					return fmt.Errorf("safetensors: write: tensor %q: %w", t.Name, err)
				}
			}
			if t.dtype == F32 {
				chunk = le.AppendUint32(chunk, math.Float32bits(t.f32[i]))
			} else {
				chunk = le.AppendUint64(chunk, uint64(t.i64[i]))
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

func (t Tensor) check() error {
	if t.Name == "" || t.Name == MetadataKey {
		return fmt.Errorf("safetensors: write: invalid tensor name %q", t.Name)
	}
	if t.dtype != F32 && t.dtype != I64 {
		return fmt.Errorf("safetensors: write: tensor %q: dtype %q cannot be written (build tensors with F32Tensor or I64Tensor)", t.Name, t.dtype)
	}
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("safetensors: write: tensor %q: negative dimension in shape %v", t.Name, t.Shape)
		}
		n *= d
	}
	if n != t.len() {
		return fmt.Errorf("safetensors: write: tensor %q: shape %v has %d elements, data has %d", t.Name, t.Shape, n, t.len())
	}
	return nil
}

// encodeHeader returns the JSON header: __metadata__ first, then the tensors
// in the given order, padded with spaces to a multiple of 8 bytes.
func encodeHeader(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata) // keys sorted
		if err != nil {
			return nil, fmt.Errorf("safetensors: write: metadata: %w", err)
		}
		b.WriteString(`"` + MetadataKey + `":`)
		b.Write(m)
	}
	var offset int64
	for i, t := range tensors {
		if i > 0 || len(metadata) > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(t.Name)
		if err != nil {
			return nil, fmt.Errorf("safetensors: write: tensor name %q: %w", t.Name, err)
		}
		size := int64(t.len()) * int64(t.dtype.Size())
		b.Write(name)
		b.WriteString(`:{"dtype":"` + string(t.dtype) + `","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, offset, offset+size)
		offset += size
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), nil
}
