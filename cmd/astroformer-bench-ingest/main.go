// Command astroformer-bench-ingest measures the galaxy10 source stage on a
// synthetic file with the layout of Galaxy10 DECals.
//
// It writes (or reuses, with --file) an HDF5 file of --rows images of
// --size×--size×3 uint8, gzip-compressed one chunk per image as h5py writes
// them, using stages/galaxy10/testdata/make_fixtures.py (needs python3 with
// numpy and h5py). It then
//
//  1. runs the galaxy10 stage on it into a temporary workdir (HDF5 decode,
//     validation, Parquet write) and reports images/s, MB/s of pixels and
//     peak RSS (VmHWM) of this process;
//  2. decodes the images alone with galaxy10.File.Images;
//  3. times h5py reading the same images one by one, and prints the ratio.
//
// Besides wall-clock rates it prints the CPU time per image (user+system,
// from getrusage), which stays meaningful on a machine shared with other
// work, where wall-clock rates mostly measure the load.
//
// Run from the repository root:
//
//	go run ./cmd/astroformer-bench-ingest --rows 2000
//
// It is a benchmark, not a test: numbers depend on the machine and its load.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/galaxy10"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "astroformer-bench-ingest:", err)
		os.Exit(1)
	}
}

func run() error {
	rows := flag.Int("rows", 2000, "images in the generated file")
	size := flag.Int("size", 256, "image height and width in pixels")
	file := flag.String("file", "", "use this Galaxy10-layout `FILE` instead of generating one")
	workers := flag.Int("workers", 0, "decoding goroutines; 0: GOMAXPROCS")
	python := flag.String("python", "/usr/bin/python3", "python with numpy and h5py, to generate the file and time h5py")
	script := flag.String("script", filepath.Join("stages", "galaxy10", "testdata", "make_fixtures.py"), "the fixture `SCRIPT`")
	keep := flag.Bool("keep", false, "keep the temporary folder (generated file and tables)")
	flag.Parse()

	tmp, err := os.MkdirTemp("", "astroformer-bench-ingest-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Println("temporary folder:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	path := *file
	if path == "" {
		path = filepath.Join(tmp, "bench.h5")
		if err := generate(*python, *script, path, *rows, *size); err != nil {
			return err
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	f, err := galaxy10.Open(path)
	if err != nil {
		return err
	}
	n := f.Len()
	h, w, c := f.ImageSize()
	layout := f.Layout()
	pixelMB := float64(n) * float64(h*w*c) / 1e6
	fmt.Printf("file: %s, %d rows of %d×%d×%d, %.1f MB on disk (%.2f of raw), images %s\n",
		path, n, h, w, c, float64(st.Size())/1e6, float64(st.Size())/1e6/pixelMB, layout)
	fmt.Printf("GOMAXPROCS %d, NumCPU %d, %s\n", runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version())

	perImage := func(cpu time.Duration) string {
		return fmt.Sprintf("%.2f ms CPU/image", cpu.Seconds()*1e3/float64(n))
	}

	// 1. The stage, end to end.
	c0 := cpuTime()
	ingest, err := runStage(path, filepath.Join(tmp, "work"), *workers)
	if err != nil {
		return err
	}
	ingestCPU := cpuTime() - c0
	hwm := peakRSS()
	fmt.Printf("ingest (stage): %s, %.0f images/s, %.1f MB/s of pixels, %.1f MB/s of file, %s, peak RSS %.0f MB\n",
		ingest.Round(time.Millisecond), float64(n)/ingest.Seconds(), pixelMB/ingest.Seconds(),
		float64(st.Size())/1e6/ingest.Seconds(), perImage(ingestCPU), float64(hwm)/(1<<20))

	// 2. Decoding alone.
	c0, t0 := cpuTime(), time.Now()
	err = f.Images(context.Background(), 0, n, max(*workers, runtime.GOMAXPROCS(0)), func(int64, []byte) error { return nil })
	decode, decodeCPU := time.Since(t0), cpuTime()-c0
	f.Close()
	if err != nil {
		return err
	}
	fmt.Printf("decode only:    %s, %.0f images/s, %.1f MB/s of pixels, %s\n",
		decode.Round(time.Millisecond), float64(n)/decode.Seconds(), pixelMB/decode.Seconds(), perImage(decodeCPU))

	// 3. h5py on the same file.
	compareH5py(*python, path, n, [2]time.Duration{ingest, decode}, [2]time.Duration{ingestCPU, decodeCPU})
	return nil
}

// compareH5py times h5py reading the file at path, image by image, and
// prints its rate against those of the ingest stage and of decoding alone
// (wall and CPU times, in that order).
func compareH5py(python, path string, n int64, wall, cpu [2]time.Duration) {
	py, pyCPU, err := h5pyRead(python, path)
	if err != nil {
		fmt.Printf("h5py: not timed: %v\n", err)
		return
	}
	fmt.Printf("h5py read:      %s, %.0f images/s (one image per read, one thread), %.2f ms CPU/image\n",
		py.Round(time.Millisecond), float64(n)/py.Seconds(), pyCPU.Seconds()*1e3/float64(n))
	fmt.Printf("ratio to h5py reading: wall-clock rate ingest %.2f×, decode %.2f×; CPU per image ingest %.2f×, decode %.2f×\n",
		py.Seconds()/wall[0].Seconds(), py.Seconds()/wall[1].Seconds(),
		cpu[0].Seconds()/pyCPU.Seconds(), cpu[1].Seconds()/pyCPU.Seconds())
}

// cpuTime returns the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runStage runs the galaxy10 stage on path into workdir and returns its
// duration.
func runStage(path, workdir string, workers int) (time.Duration, error) {
	src := fmt.Sprintf("path = %q\noutput = \"cutouts\"\nworkers = %d\n", path, workers)
	body, diags := hclsyntax.ParseConfig([]byte(src), "bench.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return 0, diags
	}
	stage, diags := galaxy10.Decode("galaxy10", body.Body, nil)
	if diags.HasErrors() {
		return 0, diags
	}
	env := &pipeline.Env{
		Log:         hclog.New(&hclog.LoggerOptions{Name: "bench", Level: hclog.Warn}),
		Workdir:     workdir,
		Fingerprint: "bench",
		Stage:       stage.Name(),
		Kind:        stage.Kind(),
		Producer:    "bench",
	}
	t0 := time.Now()
	if err := stage.Run(context.Background(), env); err != nil {
		return 0, err
	}
	d := time.Since(t0)
	for _, line := range env.Summary() {
		fmt.Println("  " + line)
	}
	return d, nil
}

// peakRSS returns the peak resident set size of this process in bytes
// (VmHWM of /proc/self/status), or 0 where that is not available.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// h5pyRead times h5py reading every image of path one by one, in wall
// clock and CPU time, measured inside python to exclude its start-up.
func h5pyRead(python, path string) (wall, cpu time.Duration, err error) {
	const snippet = `
import sys, time, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["images"]
    t, c = time.perf_counter(), time.process_time()
    for i in range(d.shape[0]):
        d[i]
    print(time.perf_counter() - t, time.process_time() - c)
`
	out, err := exec.Command(python, "-c", snippet, path).Output()
	if err != nil {
		return 0, 0, err
	}
	var w, c float64
	if _, err := fmt.Sscan(string(out), &w, &c); err != nil {
		return 0, 0, fmt.Errorf("h5py timing output %q: %w", out, err)
	}
	return time.Duration(w * float64(time.Second)), time.Duration(c * float64(time.Second)), nil
}

// generate writes a Galaxy10-layout file of rows images of size×size×3 to
// path with the fixture script.
func generate(python, script, path string, rows, size int) error {
	fmt.Printf("generating %d images of %d×%d×3 with %s …\n", rows, size, size, script)
	t0 := time.Now()
	gen := exec.Command(python, script, "bench", "--rows", strconv.Itoa(rows), "--size", strconv.Itoa(size), "--out", path)
	gen.Stdout, gen.Stderr = os.Stdout, os.Stderr
	if err := gen.Run(); err != nil {
		return fmt.Errorf("generating the file: %w", err)
	}
	fmt.Printf("generated in %s\n", time.Since(t0).Round(time.Millisecond))
	return nil
}
