package fits

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/stages/internal/imageops"
	"github.com/astroformer/astroformer/stages/internal/source"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
)

// writeCube writes a w×h×planes float32 cube with BANDS = 'grz' (for three
// planes) directly, without fitsio: fast enough for large test images.
func writeCube(t testing.TB, path string, w, h, planes int) {
	t.Helper()
	var hdr string
	for _, c := range []string{"SIMPLE  =                    T", "BITPIX  =                  -32", "NAXIS   =                    3",
		fmt.Sprintf("NAXIS1  = %20d", w), fmt.Sprintf("NAXIS2  = %20d", h), fmt.Sprintf("NAXIS3  = %20d", planes),
		"BANDS   = 'grz'", "END"} {
		hdr += card(c)
	}
	hdr += strings.Repeat(" ", (2880-len(hdr)%2880)%2880)
	n := w * h * planes
	b := make([]byte, len(hdr), len(hdr)+4*n+2880)
	copy(b, hdr)
	for i := range n {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(float32(i%977)*1e-3-0.2))
	}
	b = append(b, make([]byte, (2880-len(b)%2880)%2880)...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// allocated returns the bytes allocated while converting the one cutout
// of path with sc.
func allocated(t *testing.T, s *stage, path string, sc *scratch) float64 {
	t.Helper()
	units, _, single, err := listUnits(path)
	if err != nil {
		t.Fatal(err)
	}
	st := &stats{log: hclog.NewNullLogger()}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := s.cutout(&units[0], st, single, sc)
	runtime.ReadMemStats(&after)
	if r.Err != nil || r.Reject != "" {
		t.Fatalf("cutout: %v %s", r.Err, r.Reject)
	}
	return float64(after.TotalAlloc - before.TotalAlloc)
}

// TestCutoutAllocation bounds the memory allocated to convert one large
// cube: the fluxes once, as float32, and the RGB pixels (a quarter of the
// fluxes for three bands), with no full-size copies of the data; a worker's
// second cutout reuses the flux buffer. Before the data was streamed into
// one buffer, a cutout allocated 5.0 times its data.
func TestCutoutAllocation(t *testing.T) {
	const side = 2000
	path := filepath.Join(t.TempDir(), "big.fits")
	writeCube(t, path, side, side, 3)
	data := float64(4 * side * side * 3)
	for _, tc := range []struct {
		src        string
		cold, warm float64 // bounds, × the data
	}{
		{"", 1.3, 0.3},              // RGB of 2000×2000
		{"size = 1000\n", 1.3, 0.1}, // RGB of 1000×1000: resized in place
		{"size = 1500\n", 1.3, 0.2},
		{"size = 3000\n", 1.3 + 2.25*1.25, 2.25 * 1.25}, // enlarged planes and RGB: 2.25× the data each
	} {
		s := sourcetest.MustDecode(t, Decode, tc.src+`path = "`+path+`"
output = "cutouts"`).(*stage)
		sc := new(scratch)
		if got := allocated(t, s, path, sc) / data; got > tc.cold {
			t.Errorf("%q: first cutout allocated %.2f× its data, want at most %.1f×", tc.src, got, tc.cold)
		}
		if got := allocated(t, s, path, sc) / data; got > tc.warm {
			t.Errorf("%q: second cutout allocated %.2f× its data, want at most %.1f×", tc.src, got, tc.warm)
		}
	}
}

// TestResizeArea checks that the row-at-a-time resize gives the results
// of imageops.ResizeAreaFloat, bit for bit, down and up.
func TestResizeArea(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range [][2]int{{8, 8}, {9, 8}, {16, 8}, {17, 5}, {100, 37}, {100, 99}, {64, 63}, {37, 100}, {8, 24}, {3, 1}} {
		side, size := tc[0], tc[1]
		src := make([]float32, side*side)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		want := imageops.ResizeAreaFloat(src, side, side, size, size)
		got := make([]float32, size*size)
		resizeArea(got, src, side, size, shares(side, size), make([]float64, size))
		if size < side { // in place, as the stage does
			got = slices.Clone(src)
			resizeArea(got[:size*size], got, side, size, shares(side, size), make([]float64, size))
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%d→%d: value %d is %v, want %v", side, size, i, got[i], want[i])
			}
		}
	}
}

func TestChooseWorkers(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		cpus              int
		budget, perWorker int64
		want              int
	}{
		{8, 0, gib, 8},         // no budget known
		{8, 16 * gib, 0, 8},    // no estimate
		{8, 16 * gib, gib, 8},  // enough for one per CPU
		{8, 4 * gib, gib, 4},   // the budget holds four
		{8, 4*gib - 1, gib, 3}, // rounded down
		{8, gib / 2, gib, 1},   // at least one
		{2, 7 * 1 << 20, 5 << 20, 1},
		{0, gib, 1, 1},
	} {
		if got := chooseWorkers(tc.cpus, tc.budget, tc.perWorker); got != tc.want {
			t.Errorf("chooseWorkers(%d, %d, %d) = %d, want %d", tc.cpus, tc.budget, tc.perWorker, got, tc.want)
		}
	}
}

func TestCutoutCost(t *testing.T) {
	s := &stage{p: &params{}}
	// 16000×16000 float32, one band: the fluxes, 1 GiB, and the RGB pixels.
	if got, want := s.cutoutCost(16000, 16000, 1, 1), int64(4+3)*16000*16000+scratchBytes; got != want {
		t.Errorf("cost %d, want %d", got, want)
	}
	s.p.Size, s.p.KeepRaw = 256, true
	if got, want := s.cutoutCost(1000, 1000, 1, 3), int64(4*3*1000*1000+(3+4*3)*256*256+8*256+scratchBytes); got != want {
		t.Errorf("cost with size and keep_raw %d, want %d", got, want)
	}
	s.p.Size = 2000 // enlarged: the planes of 2000×2000
	if got, want := s.cutoutCost(1000, 1000, 1, 3), int64(4*3*1000*1000+(4*3+3+4*3)*2000*2000+8*2000+scratchBytes); got != want {
		t.Errorf("cost enlarged %d, want %d", got, want)
	}
}

// TestWorkerCount checks the worker count chosen under a memory budget and
// its log line.
func TestWorkerCount(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	dir := t.TempDir()
	writeCube(t, filepath.Join(dir, "a.fits"), 64, 64, 3)
	writeCube(t, filepath.Join(dir, "b.fits"), 128, 100, 3)
	units, _, _, err := listUnits(dir)
	if err != nil {
		t.Fatal(err)
	}
	cost := (&stage{p: &params{}}).cutoutCost(128, 100, 3, 1)
	for _, tc := range []struct {
		src  string
		want int
	}{
		{fmt.Sprintf("memory = \"%d\"", 3*cost+cost/2), 3},
		{`memory = "1KiB"`, 1},
		{`memory = "1TiB"`, 8},
		{"memory = \"1KiB\"\nworkers = 5", 5},
	} {
		s := sourcetest.MustDecode(t, Decode, tc.src+"\npath = \""+dir+"\"\noutput = \"c\"").(*stage)
		var log bytes.Buffer
		got := s.workerCount(units, hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Info}))
		if got != tc.want {
			t.Errorf("%q: %d workers, want %d\n%s", tc.src, got, tc.want, log.String())
		}
		if s.p.Workers == 0 && (!strings.Contains(log.String(), fmt.Sprintf("workers=%d", tc.want)) ||
			!strings.Contains(log.String(), "b.fits (128×100 pixels × 3 planes × 1 files, BITPIX -32)") ||
			!strings.Contains(log.String(), `budget from="the memory attribute"`)) {
			t.Errorf("%q: log %s", tc.src, log.String())
		}
	}
}

func TestMemoryBudget(t *testing.T) {
	if n, from := source.MemoryBudget(5 << 30); n != 5<<30 || from != "the memory attribute" {
		t.Errorf("explicit: %d from %s", n, from)
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(3 << 30))
	if n, from := source.MemoryBudget(0); n != 3<<30 || from != "GOMEMLIMIT" {
		t.Errorf("GOMEMLIMIT: %d from %s", n, from)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	if n, from := source.MemoryBudget(0); runtime.GOOS == "linux" && (n <= 0 || !strings.Contains(from, "MemAvailable")) {
		t.Errorf("without a limit: %d from %s", n, from)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"4GiB": 4 << 30, "512 MB": 512e6, "1.5GiB": 3 << 29, "100": 100, "2kib": 2048, " 1 TB ": 1e12, "7B": 7,
	} {
		if got, err := source.ParseBytes(in); got != want || err != nil {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"": "no number", "GiB": "no number", "lots": "no number", "-1GiB": "no number", "1.2.3": "no number",
		"4 GB/s": `unknown unit "GB/s"`, "1e9": `unknown unit "e9"`, "0": "less than one byte", "0.1": "less than one byte",
		"9EiB": "unknown unit", "9000000000000000000000": "more than",
	} {
		if _, err := source.ParseBytes(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseBytes(%q): %v, want %q", in, err, msg)
		}
	}
	if got := source.FormatBytes(3 << 29); got != "1.5 GiB" {
		t.Errorf("FormatBytes: %s", got)
	}
}

// TestDecodeMemory checks the memory attribute and where its diagnostic
// points.
func TestDecodeMemory(t *testing.T) {
	for src, want := range map[string]int64{`memory = "4GiB"`: 4 << 30, "memory = 1000000": 1e6, "": 0} {
		s := sourcetest.MustDecode(t, Decode, "path = \"p\"\noutput = \"c\"\n"+src).(*stage)
		if s.memory != want {
			t.Errorf("%q: memory %d, want %d", src, s.memory, want)
		}
	}
	_, diags := sourcetest.Decode(t, Decode, "path = \"p\"\noutput = \"c\"\nmemory = \"4 gigs\"")
	if len(diags) != 1 || diags[0].Summary != "Invalid memory" || diags[0].Subject == nil ||
		diags[0].Subject.Start.Line != 3 || diags[0].Subject.Start.Column != 10 ||
		!strings.Contains(diags[0].Detail, `memory is "4 gigs": unknown unit "gigs"`) {
		t.Errorf("diagnostics %v", diags)
	}
}
