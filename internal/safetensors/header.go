// Package safetensors reads and writes the safetensors tensor file format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header mapping tensor names to dtype, shape and byte range,
// then the raw little-endian tensor data.
//
// Reading is on demand: Open and NewReader parse and check the header only,
// and each tensor is read through an io.ReaderAt when asked for, so a large
// checkpoint is never held in memory at once.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// MaxHeaderSize bounds the JSON header, as the reference implementation does.
const MaxHeaderSize = 100 << 20

// MetadataKey is the reserved header entry holding string metadata.
const MetadataKey = "__metadata__"

// ErrFormat is wrapped by every error that reports a malformed file.
var ErrFormat = errors.New("malformed safetensors data")

// DType is a tensor element type as spelled in the header.
type DType string

// Element types. Every one can be read; F32 and I64 can be written.
const (
	BOOL DType = "BOOL"
	U8   DType = "U8"
	I8   DType = "I8"
	I16  DType = "I16"
	U16  DType = "U16"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I32  DType = "I32"
	U32  DType = "U32"
	F32  DType = "F32"
	F64  DType = "F64"
	I64  DType = "I64"
	U64  DType = "U64"
)

// Size returns the size of one element in bytes, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case BOOL, U8, I8:
		return 1
	case I16, U16, F16, BF16:
		return 2
	case I32, U32, F32:
		return 4
	case I64, U64, F64:
		return 8
	}
	return 0
}

// TensorInfo is one tensor entry of the header.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int // [] for a scalar
	// Begin and End are the byte range of the data, relative to the start of
	// the data section (just after the header).
	Begin, End int64
}

// Len returns the number of elements (1 for a scalar).
func (t TensorInfo) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Header is a parsed and checked header.
type Header struct {
	Tensors  []TensorInfo // sorted by name
	Metadata map[string]string
}

type entry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// ParseHeader parses the JSON header of a file whose data section has
// dataSize bytes, and checks every entry: known dtype, non-negative shape,
// byte range inside the data section and consistent with dtype and shape, no
// two tensors sharing bytes, no duplicate names. Gaps between tensors are
// allowed.
func ParseHeader(header []byte, dataSize int64) (*Header, error) {
	if len(header) > MaxHeaderSize {
		return nil, formatErr("header of %d bytes exceeds the limit of %d", len(header), MaxHeaderSize)
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, formatErr("header is not a JSON object")
	}
	h := &Header{}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, formatErr("header JSON: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, formatErr("header JSON: object key %v is not a string", tok)
		}
		if seen[name] {
			return nil, formatErr("duplicate header entry %q", name)
		}
		seen[name] = true
		if name == MetadataKey {
			if err := dec.Decode(&h.Metadata); err != nil {
				return nil, formatErr("%s must map strings to strings: %v", MetadataKey, err)
			}
			continue
		}
		var e entry
		if err := dec.Decode(&e); err != nil {
			return nil, formatErr("header JSON: tensor %q: %v", name, err)
		}
		t, err := e.check(name, dataSize)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, t)
	}
	if _, err := dec.Token(); err != nil {
		return nil, formatErr("header JSON: %v", err)
	}
	if rest := header[dec.InputOffset():]; len(bytes.TrimRight(rest, " \t\r\n")) != 0 {
		return nil, formatErr("header has %d bytes of trailing data after the JSON object", len(rest))
	}
	if err := checkOverlaps(h.Tensors); err != nil {
		return nil, err
	}
	slices.SortFunc(h.Tensors, func(a, b TensorInfo) int { return strings.Compare(a.Name, b.Name) })
	return h, nil
}

func (e entry) check(name string, dataSize int64) (TensorInfo, error) {
	switch {
	case name == "":
		return TensorInfo{}, formatErr("tensor with an empty name")
	case e.DType == nil:
		return TensorInfo{}, formatErr("tensor %q: no dtype", name)
	case e.Shape == nil:
		return TensorInfo{}, formatErr("tensor %q: no shape", name)
	case e.DataOffsets == nil || len(*e.DataOffsets) != 2:
		return TensorInfo{}, formatErr("tensor %q: data_offsets must be [begin, end]", name)
	}
	t := TensorInfo{Name: name, DType: DType(*e.DType)}
	size := t.DType.Size()
	if size == 0 {
		return TensorInfo{}, formatErr("tensor %q: unknown dtype %q", name, *e.DType)
	}
	n := int64(1)
	t.Shape = make([]int, len(*e.Shape))
	for i, d := range *e.Shape {
		if d < 0 {
			return TensorInfo{}, formatErr("tensor %q: negative dimension in shape %v", name, *e.Shape)
		}
		if d != 0 && n > math.MaxInt64/int64(size)/d {
			return TensorInfo{}, formatErr("tensor %q: shape %v is too large", name, *e.Shape)
		}
		n *= d
		t.Shape[i] = int(d)
	}
	t.Begin, t.End = (*e.DataOffsets)[0], (*e.DataOffsets)[1]
	switch {
	case t.Begin < 0 || t.End < t.Begin:
		return TensorInfo{}, formatErr("tensor %q: bad data_offsets [%d, %d]", name, t.Begin, t.End)
	case t.End > dataSize:
		return TensorInfo{}, formatErr("tensor %q: data_offsets [%d, %d] run past the end of the data (%d bytes): file truncated?",
			name, t.Begin, t.End, dataSize)
	case t.End-t.Begin != n*int64(size):
		return TensorInfo{}, formatErr("tensor %q: %s shape %v needs %d bytes, data_offsets [%d, %d] hold %d",
			name, t.DType, t.Shape, n*int64(size), t.Begin, t.End, t.End-t.Begin)
	}
	return t, nil
}

func checkOverlaps(ts []TensorInfo) error {
	byOffset := slices.Clone(ts)
	slices.SortFunc(byOffset, func(a, b TensorInfo) int {
		if a.Begin != b.Begin {
			return cmpInt64(a.Begin, b.Begin)
		}
		return cmpInt64(a.End, b.End)
	})
	var prev *TensorInfo
	for i := range byOffset {
		t := &byOffset[i]
		if t.Begin == t.End {
			continue
		}
		if prev != nil && t.Begin < prev.End {
			return formatErr("tensors %q [%d, %d] and %q [%d, %d] overlap",
				prev.Name, prev.Begin, prev.End, t.Name, t.Begin, t.End)
		}
		prev = t
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readHeader reads and parses the header of a file of the given size. It
// returns the header and the offset of the data section.
func readHeader(r io.ReaderAt, size int64) (*Header, int64, error) {
	if size < 8 {
		return nil, 0, formatErr("truncated: %d bytes, need at least 8 for the header length", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, 0, fmt.Errorf("safetensors: reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, 0, formatErr("header length %d exceeds the limit of %d", n, MaxHeaderSize)
	}
	if int64(n) > size-8 {
		return nil, 0, formatErr("truncated: header length %d, but only %d bytes follow", n, size-8)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, 8); err != nil {
		return nil, 0, fmt.Errorf("safetensors: reading header: %w", err)
	}
	start := 8 + int64(n)
	h, err := ParseHeader(buf, size-start)
	if err != nil {
		return nil, 0, err
	}
	return h, start, nil
}
