// Command astroformer-bench times the model the way shared/reference/torch_bench.py times the
// PyTorch reference, so that `make bench` can put the two side by side. It prints one JSON line
// with the same fields as torch_bench.py.
//
//	astroformer-bench -variant astroformer_nano -image 64 -batch 32 -mode train -threads 2
//
// -precision bf16 times the step (or -mode gemm the product) with the bfloat16 matrix product
// (see model.BF16); on a CPU without AVX512_BF16 it says so on standard error and times fp32.
// The JSON line's precision field is the precision that ran.
//
// A training step is forward, backward and one AdamW update; an inference step is an eval-mode
// forward pass. The figure is the median over -iters timed steps after -warmup untimed ones.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/pipeline"
)

type result struct {
	Impl         string  `json:"impl"`
	Mode         string  `json:"mode"`
	Variant      string  `json:"variant"`
	Image        int     `json:"image"`
	Batch        int     `json:"batch"`
	Threads      int     `json:"threads"`
	Params       int64   `json:"params"`
	SecPerStep   float64 `json:"sec_per_step"`   // the median of the timed steps
	ImagesPerSec float64 `json:"images_per_sec"` // from the median step
	// SustainedImagesPerSec is the images of all timed steps over their
	// total time: the rate a long run sustains, slow steps included, to
	// compare with a stage's end-to-end throughput.
	SustainedImagesPerSec float64 `json:"sustained_images_per_sec"`
	PeakRSSMiB            float64 `json:"peak_rss_mib"`
	// GFLOPPerImage is the model's floating-point work per image: 2·MACs
	// for inference, 6·MACs for a training step (forward, and a backward
	// pass of about twice its cost).
	GFLOPPerImage float64 `json:"gflop_per_image"`
	// Precision is the precision of the matrix products that ran: fp32,
	// or bf16 with -precision bf16 on a CPU that has it.
	Precision string `json:"precision"`
}

// gemmResult is the JSON line of -mode gemm.
type gemmResult struct {
	Impl    string  `json:"impl"`
	Mode    string  `json:"mode"`
	Threads int     `json:"threads"`
	Size    int     `json:"size"`
	GFLOPS  float64 `json:"gflops"`
	// Precision is the precision of the product timed (see result).
	Precision string `json:"precision"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "astroformer-bench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("astroformer-bench", flag.ContinueOnError)
	variant := fs.String("variant", model.DefaultVariant, "model variant")
	image := fs.Int("image", 64, "square input size in pixels")
	batch := fs.Int("batch", 32, "images per step")
	classes := fs.Int("classes", 10, "number of classes")
	mode := fs.String("mode", "train", `"train" (forward+backward+AdamW), "infer", or "gemm" (the fp32 matrix product alone: the machine's ceiling)`)
	threads := fs.Int("threads", 2, "GOMAXPROCS")
	warmup := fs.Int("warmup", 2, "untimed steps first")
	iters := fs.Int("iters", 5, "timed steps")
	precisionFlag := fs.String("precision", "fp32", `matrix-product precision: "fp32", or "bf16" (falls back to fp32 where the CPU lacks AVX512_BF16)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	precision, err := model.ParsePrecision(*precisionFlag)
	if err != nil {
		return fmt.Errorf("-precision: %w", err)
	}
	if precision == model.BF16 && !model.BF16Supported() {
		fmt.Fprintln(os.Stderr, "astroformer-bench: this CPU has no AVX512_BF16 (or this build no bf16 kernel): timing fp32 instead of bf16")
		precision = model.FP32
	}
	if *mode != "train" && *mode != "infer" && *mode != "gemm" {
		return fmt.Errorf("-mode %q: want train, infer or gemm", *mode)
	}
	if *iters < 1 || *warmup < 0 {
		return fmt.Errorf("-iters %d, -warmup %d: want at least one timed step and no negative warmup", *iters, *warmup)
	}
	runtime.GOMAXPROCS(*threads)
	if *mode == "gemm" {
		return gemm(*threads, max(*iters, 3), precision)
	}

	cfg, err := model.Lookup(*variant)
	if err != nil {
		return err
	}
	spec := model.Spec{Variant: cfg.Name, Config: cfg, ImageH: *image, ImageW: *image, InChans: 3, Classes: *classes}
	net, err := model.New(spec, 1)
	if err != nil {
		return err
	}
	if err := net.SetPrecision(precision); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, *batch*3**image**image)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	targets := make([]float32, *batch**classes)
	for i := range *batch {
		targets[i**classes+rng.IntN(*classes)] = 1
	}
	opt := model.NewAdamW(net.Params(), 1e-4, 0.05)
	step := func() error {
		if *mode == "infer" {
			_, err := net.Forward(x, *batch)
			return err
		}
		if _, err := net.TrainStep(x, targets, *batch, rng); err != nil {
			return err
		}
		opt.Update(net.Params())
		return nil
	}
	for range *warmup {
		if err := step(); err != nil {
			return err
		}
	}
	med, total, err := timeSteps(*iters, step)
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return json.NewEncoder(os.Stdout).Encode(result{
		Impl:                  "astroformer-" + pipeline.Version() + "+" + model.BLAS,
		Mode:                  *mode,
		Variant:               cfg.Name,
		Image:                 *image,
		Batch:                 *batch,
		Threads:               *threads,
		Params:                model.Count(spec),
		SecPerStep:            round(med, 4),
		ImagesPerSec:          round(float64(*batch)/med, 2),
		SustainedImagesPerSec: round(float64(*batch**iters)/total, 2),
		PeakRSSMiB:            round(float64(ru.Maxrss)/1024, 1),
		GFLOPPerImage:         round(flopsPerImage(spec, *mode)/1e9, 3),
		Precision:             string(precision),
	})
}

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

// timeSteps times n calls of step and returns their median duration and
// their total.
func timeSteps(n int, step func() error) (median, total float64, err error) {
	times := make([]float64, 0, n)
	for range n {
		start := time.Now()
		if err := step(); err != nil {
			return 0, 0, err
		}
		times = append(times, time.Since(start).Seconds())
		total += times[len(times)-1]
	}
	slices.Sort(times)
	median = times[len(times)/2]
	if len(times)%2 == 0 {
		median = (times[len(times)/2-1] + times[len(times)/2]) / 2
	}
	return median, total, nil
}

// flopsPerImage is the floating-point work of one image: model.FLOPs counts
// multiply-accumulates, 2 operations each; a training step costs about three
// forward passes.
func flopsPerImage(spec model.Spec, mode string) float64 {
	f := 2 * float64(model.FLOPs(spec))
	if mode == "train" {
		f *= 3
	}
	return f
}

// gemm prints the matrix-product rate of this build at precision p (fp32
// by default) on threads goroutines, after a warm-up: the ceiling the model
// rows are compared with.
func gemm(threads, reps int, p model.Precision) error {
	const n = 1024
	if _, err := model.GEMMFLOPSAt(p, n, 1); err != nil {
		return err
	}
	flops, err := model.GEMMFLOPSAt(p, n, reps)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(gemmResult{Impl: "astroformer-" + pipeline.Version() + "+" + model.BLAS,
		Mode: "gemm", Threads: threads, Size: n, GFLOPS: round(flops/1e9, 1), Precision: string(p)})
}
