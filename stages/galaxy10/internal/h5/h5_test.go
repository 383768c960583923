package h5

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const testdata = "../../testdata"

// expected mirrors testdata/expected.json, written by make_fixtures.py.
type expected struct {
	Files                   []string
	Height, Width, Channels int
	Rows                    []struct {
		Index        int
		Label        int
		RA, Dec      *float64
		Redshift     *float64
		Pxscale      float64
		PixelsSHA256 string `json:"pixels_sha256"`
	}
}

func loadExpected(t *testing.T) expected { return loadExpectedFile(t, "expected.json") }

// loadExpectedFile reads expected values written by make_fixtures.py.
func loadExpectedFile(t *testing.T, name string) expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// open opens the fixture name, until the end of the test.
func open(t *testing.T, name string) *File {
	t.Helper()
	return openFile(t, filepath.Join(testdata, name))
}

// openFile opens the file at path, until the end of the test.
func openFile(t *testing.T, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func dataset(t *testing.T, f *File, name string) *Dataset {
	t.Helper()
	d, err := f.Dataset(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sameFloat(got float64, want *float64) bool {
	if want == nil {
		return math.IsNaN(got)
	}
	return got == *want
}

func TestGalaxy10Fixtures(t *testing.T) {
	checkGalaxy10Fixtures(t, loadExpected(t))
}

// checkGalaxy10Fixtures reads every file of e through the h5 package and
// compares it with e row by row.
func checkGalaxy10Fixtures(t *testing.T, e expected) {
	for _, name := range e.Files {
		t.Run(name, func(t *testing.T) {
			f := open(t, name)
			images := dataset(t, f, "images")
			n := uint64(len(e.Rows))
			want := []uint64{n, uint64(e.Height), uint64(e.Width), uint64(e.Channels)}
			if got := images.Shape(); !equal(got, want) {
				t.Fatalf("images shape %v, want %v", got, want)
			}
			if typ := images.Type(); typ != (Datatype{Class: Integer, Size: 1}) {
				t.Fatalf("images type %v, want uint8", typ)
			}
			rb := images.RowBytes()
			// Read in groupings that start and end inside chunks.
			for _, step := range []uint64{1, 3, 5, 7, n} {
				for start := uint64(0); start < n; start += step {
					count := min(step, n-start)
					buf := make([]byte, int(count)*rb)
					if err := images.ReadRows(buf, start, count); err != nil {
						t.Fatalf("rows [%d, %d): %v", start, start+count, err)
					}
					for i := range count {
						sum := sha256.Sum256(buf[int(i)*rb : int(i+1)*rb])
						if got, want := hex.EncodeToString(sum[:]), e.Rows[start+i].PixelsSHA256; got != want {
							t.Fatalf("step %d: row %d pixels sha256 %s, want %s", step, start+i, got, want)
						}
					}
				}
			}
			labels, err := dataset(t, f, "ans").Int64s()
			if err != nil {
				t.Fatal(err)
			}
			cols := map[string][]float64{}
			for _, c := range []string{"ra", "dec", "redshift", "pxscale"} {
				if cols[c], err = dataset(t, f, c).Float64s(); err != nil {
					t.Fatal(err)
				}
			}
			for i, r := range e.Rows {
				if labels[i] != int64(r.Label) {
					t.Errorf("row %d label %d, want %d", i, labels[i], r.Label)
				}
				if !sameFloat(cols["ra"][i], r.RA) || !sameFloat(cols["dec"][i], r.Dec) ||
					!sameFloat(cols["redshift"][i], r.Redshift) || cols["pxscale"][i] != r.Pxscale {
					t.Errorf("row %d: ra %v dec %v redshift %v pxscale %v, want %v %v %v %v", i,
						cols["ra"][i], cols["dec"][i], cols["redshift"][i], cols["pxscale"][i],
						r.RA, r.Dec, r.Redshift, r.Pxscale)
				}
			}
		})
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestChunkIndexesAndFilters(t *testing.T) {
	for file, names := range map[string][]string{
		"index_v0.h5":     {"btree_arange", "be_int32_arange"},
		"index_latest.h5": {"paged_arange", "paged_gzip_arange", "single_arange", "implicit_arange"},
	} {
		f := open(t, file)
		for _, name := range names {
			d := dataset(t, f, name)
			got, err := d.Float64s()
			if err != nil {
				t.Fatalf("%s %s: %v", file, name, err)
			}
			if len(got) == 0 {
				t.Fatalf("%s %s: empty", file, name)
			}
			for i, v := range got {
				if v != float64(i) {
					t.Fatalf("%s %s (%s, %s): element %d is %v", file, name, d.Type(), d.Layout(), i, v)
				}
			}
		}
	}
}

func TestInt64sRefusesFloats(t *testing.T) {
	f := open(t, "g10_default.h5")
	if _, err := dataset(t, f, "ra").Int64s(); err == nil {
		t.Fatal("Int64s of a float64 dataset succeeded")
	}
}

func TestSparseChunkIsAnError(t *testing.T) {
	d := dataset(t, open(t, "index_v0.h5"), "sparse")
	buf := make([]byte, 2)
	if err := d.ReadRows(buf, 0, 2); err != nil || buf[0] != 1 || buf[1] != 2 {
		t.Fatalf("written chunk: %v %v", buf, err)
	}
	err := d.ReadRows(buf[:1], 5, 1)
	if err == nil || !strings.Contains(err.Error(), "never written") {
		t.Fatalf("unwritten chunk: err = %v", err)
	}
}

func TestRowRangeChecked(t *testing.T) {
	d := dataset(t, open(t, "g10_default.h5"), "images")
	if err := d.ReadRows(make([]byte, d.RowBytes()), 12, 1); err == nil {
		t.Error("row 12 of 12 read")
	}
	if err := d.ReadRows(make([]byte, 5), 0, 1); err == nil {
		t.Error("short buffer accepted")
	}
}

func TestMissingDataset(t *testing.T) {
	_, err := open(t, "g10_default.h5").Dataset("labels")
	if err == nil || !strings.Contains(err.Error(), "ans") {
		t.Fatalf("err = %v, want one listing the members", err)
	}
}

// copyFixture copies a fixture into a temporary folder, passing its bytes
// through edit.
func copyFixture(t *testing.T, name string, edit func([]byte) []byte) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func asError(t *testing.T, err error, path string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *Error", err, err)
	}
	if e.File != path || !strings.Contains(err.Error(), path) {
		t.Fatalf("error does not name the file %s: %v", path, err)
	}
	return e
}

func TestTruncatedFile(t *testing.T) {
	for _, name := range []string{"g10_default.h5", "g10_latest.h5", "g10_appended.h5"} {
		for _, keep := range []int{100, 4000, 20000} {
			path := copyFixture(t, name, func(b []byte) []byte { return b[:keep] })
			_, err := Open(path)
			e := asError(t, err, path)
			if !strings.Contains(err.Error(), "truncated") || e.Offset < 0 {
				t.Errorf("%s cut at %d: %v", name, keep, err)
			}
		}
	}
}

func TestNotHDF5(t *testing.T) {
	path := copyFixture(t, "expected.json", func(b []byte) []byte { return b })
	_, err := Open(path)
	if e := asError(t, err, path); !strings.Contains(e.Error(), "not an HDF5 file") {
		t.Fatal(err)
	}
}

func TestCorruptChunk(t *testing.T) {
	for _, name := range []string{"g10_default.h5", "g10_latest.h5"} {
		d := dataset(t, open(t, name), "images")
		ref := d.chunks[6]
		path := copyFixture(t, name, func(b []byte) []byte {
			for i := ref.addr + ref.size/2; i < ref.addr+ref.size/2+16; i++ {
				b[i] ^= 0x5a
			}
			return b
		})
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		bad := dataset(t, f, "images")
		err = bad.ReadRows(make([]byte, 12*bad.RowBytes()), 0, 12)
		e := asError(t, err, path)
		if !strings.Contains(e.Object, "images chunk at (6, 0, 0, 0)") || e.Offset != int64(ref.addr) {
			t.Errorf("%s: %v", name, err)
		}
		// Other rows still read.
		if err := bad.ReadRows(make([]byte, bad.RowBytes()), 5, 1); err != nil {
			t.Errorf("%s: row 5: %v", name, err)
		}
	}
}

func TestCorruptIndexChecksum(t *testing.T) {
	d := dataset(t, open(t, "g10_latest.h5"), "images")
	at := d.index.addr + 10
	path := copyFixture(t, "g10_latest.h5", func(b []byte) []byte { b[at] ^= 1; return b })
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = f.Dataset("images")
	if e := asError(t, err, path); !strings.Contains(e.Error(), "checksum") {
		t.Fatal(err)
	}
}

func TestConcurrentReads(t *testing.T) {
	e := loadExpected(t)
	d := dataset(t, open(t, "g10_tiled.h5"), "images")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for r := range uint64(len(e.Rows)) {
				row := (r + uint64(w)) % uint64(len(e.Rows))
				buf := make([]byte, d.RowBytes())
				if err := d.ReadRows(buf, row, 1); err != nil {
					errs <- err
					return
				}
				sum := sha256.Sum256(buf)
				if hex.EncodeToString(sum[:]) != e.Rows[row].PixelsSHA256 {
					errs <- errors.New("pixels differ under concurrency")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestLookup3(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint32
	}{
		{"", 0xdeadbeef},
		{"Four score and seven years ago", 0x17770551},
	} {
		if got := lookup3([]byte(c.in)); got != c.want {
			t.Errorf("lookup3(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

func TestUnshuffle(t *testing.T) {
	src := []byte{1, 3, 5, 2, 4, 6, 9}
	dst := make([]byte, len(src))
	unshuffle(src, dst, 2)
	if want := []byte{1, 2, 3, 4, 5, 6, 9}; string(dst) != string(want) {
		t.Fatalf("unshuffle = %v, want %v", dst, want)
	}
}
