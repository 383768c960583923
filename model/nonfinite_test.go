package model

import (
	"errors"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tt := range []struct {
		x            []float32
		count, first int
	}{
		{nil, 0, -1},
		{[]float32{0, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}, 0, -1},
		{[]float32{1, nan, 2, -inf, inf}, 3, 1},
		{[]float32{-inf}, 1, 0},
	} {
		if count, first := NonFinite(tt.x); count != tt.count || first != tt.first {
			t.Errorf("NonFinite(%v) = %d, %d; want %d, %d", tt.x, count, first, tt.count, tt.first)
		}
	}
}

// TestCheckpointNonFiniteRefused saves checkpoints with a NaN in a weight
// and an Inf in a batch-norm buffer and checks that every way of loading
// them refuses them, naming the file and the tensor.
func TestCheckpointNonFiniteRefused(t *testing.T) {
	s := goldenSpec(t, 32, 32, 3)
	for _, tt := range []struct {
		what  string
		set   func(n *Net) string // corrupts n, returns the tensor's name
		index int
		value float32
	}{
		{"NaN weight", func(n *Net) string {
			p := n.Params()[len(n.Params())/2]
			p.Data[5] = float32(math.NaN())
			p.Data[7] = float32(math.NaN())
			return p.Name
		}, 5, float32(math.NaN())},
		{"Inf running_var", func(n *Net) string {
			for _, b := range n.Buffers() {
				if b.Kind == RunningVar {
					b.Data[len(b.Data)-1] = float32(math.Inf(1))
					return b.Name
				}
			}
			t.Fatal("no running_var buffer")
			return ""
		}, -1, float32(math.Inf(1))},
	} {
		t.Run(tt.what, func(t *testing.T) {
			n := newNet(t, s, 1)
			name := tt.set(n)
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			if err := Save(path, n, Meta{}); err != nil {
				t.Fatal(err)
			}
			wantCount, wantFirst := NonFinite(tensorData(t, n, name))
			if tt.index >= 0 && wantFirst != tt.index {
				t.Fatalf("corrupted %s at %d, NonFinite finds %d", name, tt.index, wantFirst)
			}
			check := func(how string, err error) {
				t.Helper()
				var nf *NonFiniteError
				if !errors.As(err, &nf) {
					t.Fatalf("%s: error %v, want a *NonFiniteError", how, err)
				}
				if nf.File != path || nf.Tensor != name || nf.Count != wantCount || nf.First != wantFirst ||
					nf.Value != tt.value && !(math.IsNaN(float64(nf.Value)) && math.IsNaN(float64(tt.value))) {
					t.Errorf("%s: %+v, want %s %s, %d value(s) from %d", how, *nf, path, name, wantCount, wantFirst)
				}
				for _, part := range []string{path, name, strconv.Itoa(wantFirst), "non-finite"} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("%s: error %q does not mention %q", how, err, part)
					}
				}
			}
			_, _, err := Load(path, LoadOptions{})
			check("Load", err)
			_, _, err = Load(path, LoadOptions{Partial: true})
			check("partial Load", err)
			into := newNet(t, s, 2)
			_, _, err = LoadInto(path, into, LoadOptions{Partial: true})
			check("LoadInto", err)
			sd, meta := openCheckpoint(t, path)
			if _, err := InferSpec(sd, meta); err != nil {
				t.Fatal(err) // the shapes are fine; only the values are not
			}
			_, err = sd.Apply(into.Params(), into.Buffers(), LoadOptions{})
			check("Apply", err)

			// Skipping the tensor loads the rest.
			skip := LoadOptions{Skip: func(n string) bool { return n == name }}
			if _, _, err := Load(path, skip); err != nil {
				t.Errorf("Load skipping %s: %v", name, err)
			}
		})
	}
}

// tensorData returns the values of n's parameter or buffer called name.
func tensorData(t *testing.T, n *Net, name string) []float32 {
	t.Helper()
	for _, p := range n.Params() {
		if p.Name == name {
			return p.Data
		}
	}
	for _, b := range n.Buffers() {
		if b.Name == name {
			return b.Data
		}
	}
	t.Fatalf("no tensor %s", name)
	return nil
}
