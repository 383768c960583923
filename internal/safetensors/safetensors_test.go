package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rawFile assembles a safetensors file from a header and a data section.
func rawFile(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestWriteReadRoundTrip(t *testing.T) {
	w := []float32{1, -2.5, float32(math.Inf(1)), 3e-39, 0, 7}
	tensors := []Tensor{
		F32Tensor("z.weight", []int{2, 3}, w),
		I64Tensor("a.count", []int{}, []int64{-42}),
		F32Tensor("empty", []int{0, 4}, nil),
	}
	meta := map[string]string{"variant": "nano", "note": `quotes " and <tags>`}
	var buf bytes.Buffer
	if err := Write(&buf, tensors, meta); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	if n := binary.LittleEndian.Uint64(raw); (8+n)%8 != 0 {
		t.Errorf("data section starts at %d, not 8-byte aligned", 8+n)
	}
	f, err := NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, ti := range f.Tensors() {
		names = append(names, ti.Name)
	}
	if want := []string{"a.count", "empty", "z.weight"}; !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	got, err := f.Float32("z.weight")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, w) {
		t.Errorf("z.weight = %v, want %v", got, w)
	}
	ti, _ := f.Tensor("z.weight")
	if !slices.Equal(ti.Shape, []int{2, 3}) || ti.DType != F32 {
		t.Errorf("z.weight info %+v", ti)
	}
	n, err := f.Int64("a.count")
	if err != nil || len(n) != 1 || n[0] != -42 {
		t.Errorf("a.count = %v, %v", n, err)
	}
	if ti, _ := f.Tensor("a.count"); len(ti.Shape) != 0 || ti.Len() != 1 {
		t.Errorf("scalar info %+v", ti)
	}
	if e, err := f.Float32("empty"); err != nil || len(e) != 0 {
		t.Errorf("empty = %v, %v", e, err)
	}
	if m := f.Metadata(); m["variant"] != "nano" || m["note"] != meta["note"] {
		t.Errorf("metadata %v", m)
	}
	if _, err := f.Float32("missing"); err == nil || !strings.Contains(err.Error(), `"missing"`) {
		t.Errorf("missing tensor: err %v", err)
	}
	if err := f.ReadFloat32("z.weight", make([]float32, 5)); err == nil {
		t.Error("ReadFloat32 into a short slice succeeded")
	}
}

// TestLargeTensorChunks crosses the chunk boundary of reading and writing.
func TestLargeTensorChunks(t *testing.T) {
	data := make([]float32, 3*chunkSize/4+3)
	for i := range data {
		data[i] = float32(i) * 0.5
	}
	path := filepath.Join(t.TempDir(), "big.safetensors")
	var buf bytes.Buffer
	if err := Write(&buf, []Tensor{F32Tensor("big", []int{len(data)}, data), I64Tensor("n", []int{2}, []int64{1, 2})}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.Float32("big")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, data) {
		t.Error("big tensor differs after a round trip")
	}
}

func TestConversions(t *testing.T) {
	var data bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&data, le, []uint16{0x3c00, 0xc000, 0x0001, 0x7c00, 0x3555}) // F16: 1, -2, 2^-24, +Inf, 0.33325195
	binary.Write(&data, le, []uint16{0x3f80, 0xc040})                         // BF16: 1, -3
	binary.Write(&data, le, []float64{0.1, -1e300})                           // F64
	binary.Write(&data, le, []int32{-7, 9})                                   // I32
	data.Write([]byte{0, 255})                                                // U8
	data.Write([]byte{0x80})                                                  // I8
	header := `{"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},` +
		`"b":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]},` +
		`"d":{"dtype":"F64","shape":[1,2],"data_offsets":[14,30]},` +
		`"i":{"dtype":"I32","shape":[2],"data_offsets":[30,38]},` +
		`"u":{"dtype":"U8","shape":[2],"data_offsets":[38,40]},` +
		`"s":{"dtype":"I8","shape":[],"data_offsets":[40,41]}}`
	raw := rawFile(header, data.Bytes())
	f, err := NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{
		"h": {1, -2, float32(math.Ldexp(1, -24)), float32(math.Inf(1)), 0.33325195},
		"b": {1, -3},
		"d": {0.1, float32(math.Inf(-1))},
		"i": {-7, 9},
		"u": {0, 255},
		"s": {-128},
	}
	for name, w := range want {
		got, err := f.Float32(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
	if ints, err := f.Int64("i"); err != nil || !slices.Equal(ints, []int64{-7, 9}) {
		t.Errorf("Int64(i) = %v, %v", ints, err)
	}
	if _, err := f.Int64("d"); err == nil {
		t.Error("Int64 of an F64 tensor succeeded")
	}
	if v := Float16ToFloat32(0x7e00); !math.IsNaN(float64(v)) {
		t.Errorf("F16 NaN converted to %v", v)
	}
	if v := Float16ToFloat32(0x8000); v != 0 || !math.Signbit(float64(v)) {
		t.Errorf("F16 -0 converted to %v", v)
	}
}

func TestMalformed(t *testing.T) {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "truncated: 3 bytes"},
		{"header past end", rawFile(ok, make([]byte, 8))[:20], "truncated: header length"},
		{"data truncated", rawFile(ok, make([]byte, 4)), "run past the end of the data"},
		{"not an object", rawFile(`[1,2]`, nil), "not a JSON object"},
		{"bad json", rawFile(`{"a":{"dtype":"F32",`, nil), "header JSON"},
		{"trailing", rawFile(`{} x`, nil), "trailing data"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), `unknown dtype "Q4"`},
		{"no dtype", rawFile(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "no dtype"},
		{"no shape", rawFile(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), "no shape"},
		{"offsets arity", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, make([]byte, 4)), "data_offsets must be"},
		{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 4)), "bad data_offsets"},
		{"size mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), "needs 12 bytes"},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), "negative dimension"},
		{"huge shape", rawFile(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}`, make([]byte, 4)), "too large"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "overlap"},
		{"duplicate", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), "duplicate"},
		{"metadata not strings", rawFile(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
	}
	for _, c := range cases {
		_, err := NewReader(bytes.NewReader(c.file), int64(len(c.file)))
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want ErrFormat containing %q", c.name, err, c.want)
		}
	}
}

func TestOpenNamesFileInErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name %s", err, path)
	}
}

func TestWriteRejects(t *testing.T) {
	cases := map[string][]Tensor{
		"elements":  {F32Tensor("a", []int{2, 2}, make([]float32, 3))},
		"duplicate": {F32Tensor("a", []int{1}, []float32{1}), I64Tensor("a", []int{1}, []int64{1})},
		"name":      {F32Tensor("__metadata__", []int{1}, []float32{1})},
		"dtype":     {{Name: "a", Shape: []int{1}}},
	}
	for name, ts := range cases {
		if err := Write(&bytes.Buffer{}, ts, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestReferenceWriter reads a file written by the reference Python writer
// (make_vectors.py's save_safetensors) when the test vectors are present.
func TestReferenceWriter(t *testing.T) {
	dir := os.Getenv("ASTROFORMER_VECTORS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "testdata", "astroformer")
	}
	f, err := Open(filepath.Join(dir, "tiny_64x64.vectors.safetensors"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("test vectors not found; set ASTROFORMER_VECTORS")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Metadata()["variant"] != "golden_tiny" {
		t.Errorf("metadata %v", f.Metadata())
	}
	labels, err := f.Int64("labels")
	if err != nil || len(labels) != 4 {
		t.Fatalf("labels %v, %v", labels, err)
	}
	for _, l := range labels {
		if l < 0 || l >= 10 {
			t.Errorf("label %d out of range", l)
		}
	}
	in, _ := f.Tensor("input")
	if in.DType != F32 || !slices.Equal(in.Shape, []int{4, 3, 64, 64}) {
		t.Errorf("input %+v", in)
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(`{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`), int64(8))
	f.Add([]byte(`{"a":{"dtype":"BF16","shape":[],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}}`), int64(2))
	f.Add([]byte(`{}      `), int64(0))
	f.Add([]byte(`{"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"a":{}}`), int64(4))
	f.Fuzz(func(t *testing.T, header []byte, dataSize int64) {
		if dataSize < 0 {
			dataSize = -dataSize
		}
		h, err := ParseHeader(header, dataSize)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		for i, ti := range h.Tensors {
			if i > 0 && h.Tensors[i-1].Name >= ti.Name {
				t.Fatalf("tensors not sorted: %q before %q", h.Tensors[i-1].Name, ti.Name)
			}
			if ti.Begin < 0 || ti.End > dataSize || ti.End-ti.Begin != int64(ti.Len()*ti.DType.Size()) {
				t.Fatalf("accepted bad entry %+v (data %d bytes)", ti, dataSize)
			}
		}
	})
}
