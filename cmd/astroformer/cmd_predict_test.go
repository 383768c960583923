package main

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/model/modeltest"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/predict"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// predictFixture renders 24 synthetic 32×32 cutouts with the run command
// and saves an untrained golden_tiny checkpoint for them; it returns the
// workdir and the checkpoint path.
func predictFixture(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	job := writeJob(t, `job "p" {
  workdir = "`+dir+`"
  stage "synthetic" "survey" {
    output = "cutouts"
    count  = 24
    size   = 32
  }
}
`)
	runOK(t, "run", job)
	cfg := modeltest.GoldenTiny()
	net, err := model.New(model.Spec{Variant: cfg.Name, Config: cfg, ImageH: 32, ImageW: 32, InChans: 3, Classes: 10}, 3)
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "tiny.safetensors")
	if err := model.Save(ckpt, net, model.Meta{ClassNames: schemas.Galaxy10Classes()}); err != nil {
		t.Fatal(err)
	}
	return dir, ckpt
}

func sameTables(t *testing.T, what string, a, b arrow.Table) {
	t.Helper()
	if a.NumRows() != b.NumRows() || a.NumCols() != b.NumCols() {
		t.Fatalf("%s: %d×%d vs %d×%d", what, a.NumRows(), a.NumCols(), b.NumRows(), b.NumCols())
	}
	for c := range int(a.NumCols()) {
		x, err := array.Concatenate(a.Column(c).Data().Chunks(), memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		y, err := array.Concatenate(b.Column(c).Data().Chunks(), memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		// OpenBLAS picks kernels by matrix size, so rows predicted in batches
		// of other sizes may differ in the last bits; gonum's BLAS does not.
		fx, okX := x.(*array.Float32)
		fy, okY := y.(*array.Float32)
		if model.BLAS != "gonum" && okX && okY {
			if !array.ApproxEqual(fx, fy, array.WithAbsTolerance(1e-5)) {
				t.Errorf("%s: column %s differs by more than 1e-5", what, a.Schema().Field(c).Name)
			}
			continue
		}
		if !array.Equal(x, y) {
			t.Errorf("%s: column %s differs", what, a.Schema().Field(c).Name)
		}
	}
}

func TestPredictCommand(t *testing.T) {
	dir, ckpt := predictFixture(t)
	cutouts, out := filepath.Join(dir, "cutouts"), filepath.Join(dir, "catalog")
	stdout := runOK(t, "predict", "--model", ckpt, "--input", cutouts, "--output", out,
		"--tta", "2", "--batch", "5", "--healpix-order", "2", "--shard", "off")
	if !strings.Contains(stdout, "predicted 24 cutouts into "+out) || !strings.Contains(stdout, "HATS layout "+out+"_hats: 24 rows") {
		t.Errorf("predict report:\n%s", stdout)
	}
	tb, err := table.OpenAs(out, schemas.Catalog(schemas.Galaxy10Classes(), true))
	if err != nil {
		t.Fatal(err)
	}
	if md := tb.Manifest().Metadata; md[catalog.MetaJob] != "cli" || md[catalog.MetaTTAViews] != "2" || md[catalog.MetaModelVariant] != "golden_tiny" {
		t.Errorf("catalog metadata %v", md)
	}
	if _, err := os.Stat(filepath.Join(out+"_hats", "properties")); err != nil {
		t.Error(err)
	}
	whole := tabletest.ReadTable(t, out)
	defer whole.Release()

	// The same catalog as an Arrow IPC stream on standard output.
	stdout = runOK(t, "predict", "--model", ckpt, "--input", cutouts, "--format", "arrow", "--tta", "2", "--shard", "off")
	r, err := ipc.NewReader(strings.NewReader(stdout))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	if v, ok := r.Schema().Metadata().GetValue(catalog.MetaClassNames); !ok || json.Unmarshal([]byte(v), &names) != nil || !slices.Equal(names, schemas.Galaxy10Classes()) {
		t.Errorf("IPC schema metadata %s = %q", catalog.MetaClassNames, v)
	}
	streamed := array.NewTableFromRecords(r.Schema(), tabletest.Records(t, r))
	defer streamed.Release()
	sameTables(t, "Arrow stream vs table", streamed, whole)
	r.Release()

	// Two shards, one from --shard and one from the Kubernetes variables,
	// merged: the same rows as the unsharded run, and its HATS layout.
	sharded := filepath.Join(dir, "sharded")
	runOK(t, "predict", "--model", ckpt, "--input", cutouts, "--output", sharded, "--tta", "2", "--healpix-order", "2", "--shard", "0/2")
	if status, stdout, _ := runCLI(t, "catalog", "merge", sharded); status != exitFailure {
		t.Errorf("merge with a shard missing: status %d, stdout %s", status, stdout)
	}
	t.Setenv(catalog.EnvK8sIndex, "1")
	t.Setenv(catalog.EnvShards, "2")
	status, stdout, stderr := runCLI(t, "predict", "--model", ckpt, "--input", cutouts, "--output", sharded, "--tta", "2", "--healpix-order", "2", "--batch", "7")
	if status != exitOK || !strings.Contains(stdout, "shard 1/2 done") {
		t.Fatalf("shard from JOB_COMPLETION_INDEX: status %d\n%s%s", status, stdout, stderr)
	}
	status, stdout, stderr = runCLI(t, "catalog", "merge", sharded)
	if status != exitOK || !strings.Contains(stdout, "merged 2 shards into "+sharded+": 24 rows") || !strings.Contains(stdout, "HATS layout "+sharded+"_hats") {
		t.Fatalf("merge: status %d\n%s%s", status, stdout, stderr)
	}
	merged := tabletest.ReadTable(t, sharded)
	defer merged.Release()
	sameTables(t, "merged shards vs unsharded run", merged, whole)
}

func TestPredictUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"predict", "--input", "c", "--output", "o"}, exitUsage, "--model is required"},
		{[]string{"predict", "--model", "m", "--output", "o"}, exitUsage, "--input is required"},
		{[]string{"predict", "--model", "m", "--input", "c"}, exitUsage, "--output is required"},
		{[]string{"predict", "--model", "m", "--input", "c", "--format", "arrow", "--output", "o"}, exitUsage, "drop --output"},
		{[]string{"predict", "--model", "m", "--input", "c", "--output", "o", "--tta", "9"}, exitUsage, "--tta 9"},
		{[]string{"predict", "--model", "m", "--input", "c", "--output", "o", "--shard", "8/8"}, exitUsage, "shard 8/8"},
		{[]string{"predict", "--model", "m", "--input", "c", "--output", "o", "--shards", "4"}, exitUsage, "without a shard index"},
		{[]string{"predict", "--model", "m", "--input", "c", "--output", "o", "extra"}, exitUsage, "takes no arguments"},
		{[]string{"predict", "--model", "m", "--input", "absent", "--output", "o", "--shard", "off"}, exitFailure, "absent"},
		{[]string{"catalog"}, exitUsage, "missing subcommand"},
		{[]string{"catalog", "split"}, exitUsage, `unknown subcommand "split"`},
		{[]string{"catalog", "merge"}, exitUsage, "want one catalog folder"},
		{[]string{"catalog", "merge", filepath.Join(t.TempDir(), "none")}, exitFailure, "no shards folder"},
	} {
		status, _, stderr := runCLI(t, tt.args...)
		if status != tt.status || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%q: status %d, stderr:\n%s\nwant status %d and %q", tt.args, status, stderr, tt.status, tt.stderr)
		}
	}
}

// TestPredictTakeover checks --takeover-wait: a staging folder left by a
// process on another host is refused while that owner is fresh, and taken
// over, with its content, once the owner has been silent for artifact.Lease.
func TestPredictTakeover(t *testing.T) {
	dir, ckpt := predictFixture(t)
	cutouts, out := filepath.Join(dir, "cutouts"), filepath.Join(dir, "catalog")

	// Make the staging folder the command will want, as a task on another
	// node would have left it.
	f := predictFlags{model: ckpt, input: cutouts, output: out, tta: 1, healpixOrder: -1}
	in, err := table.OpenAs(cutouts, schemas.Cutouts())
	if err != nil {
		t.Fatal(err)
	}
	m, err := predict.LoadModel(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := predict.NewPredictor(m, predict.Options{TTA: 1})
	if err != nil {
		t.Fatal(err)
	}
	header, err := predictManifest(&f, in, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := table.CreateResumable(out, pred.Schema(), table.Options{Manifest: header}); err != nil {
		t.Fatal(err)
	}
	staging, _ := filepath.Glob(filepath.Join(dir, ".catalog.staging-resume-*"))
	if len(staging) != 1 {
		t.Fatalf("staging folders %v", staging)
	}
	remote := func(silent time.Duration) {
		owner := filepath.Join(staging[0], ".owner")
		if err := os.WriteFile(owner, []byte(`{"pid":4242,"host":"node-elsewhere"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-silent)
		os.Chtimes(owner, when, when)
	}
	args := []string{"predict", "--model", ckpt, "--input", cutouts, "--output", out, "--shard", "off"}

	remote(time.Minute)
	status, _, stderr := runCLI(t, args...)
	if status != exitFailure || !strings.Contains(stderr, "in use by process 4242 on node-elsewhere (last heard from 1m0s ago)") {
		t.Fatalf("fresh remote owner, no --takeover-wait: status %d\n%s", status, stderr)
	}
	status, _, stderr = runCLI(t, append(args, "--takeover-wait", "2s")...)
	if status != exitFailure || !strings.Contains(stderr, "--takeover-wait is 2s") {
		t.Fatalf("fresh remote owner, --takeover-wait 2s: status %d\n%s", status, stderr)
	}

	remote(artifact.Lease - 2*time.Second)
	status, stdout, stderr := runCLI(t, append(args, "--takeover-wait", "1m")...)
	if status != exitOK || !strings.Contains(stdout, "predicted 24 cutouts into "+out) {
		t.Fatalf("owner about to go silent, --takeover-wait 1m: status %d\n%s%s", status, stdout, stderr)
	}
	if !strings.Contains(stderr, "waiting for it to go silent") {
		t.Errorf("no log line about the wait:\n%s", stderr)
	}
}

// TestPredictNonFinite checks that the predict command fails, and writes no
// catalog, for a checkpoint holding a NaN weight and for one whose finite
// weights overflow to infinite logits.
func TestPredictNonFinite(t *testing.T) {
	dir, ckpt := predictFixture(t)
	cutouts := filepath.Join(dir, "cutouts")
	net, meta, err := model.Load(ckpt, model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var head *model.Param
	for _, p := range net.Params() {
		if p.Name == "head.fc.weight" {
			head = p
		}
	}
	save := func(name string) string {
		path := filepath.Join(dir, name)
		if err := model.Save(path, net, meta); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := slices.Clone(head.Data)
	head.Data[3] = float32(math.NaN())
	nan := save("nan.safetensors")
	for i, v := range good {
		head.Data[i] = float32(math.Copysign(math.MaxFloat32, float64(v)))
	}
	overflow := save("overflow.safetensors")

	cut := tabletest.ReadTable(t, cutouts)
	defer cut.Release()
	first := cut.Column(0).Data().Chunk(0).(*array.String).Value(0)
	for _, tt := range []struct {
		model  string
		format []string
		want   []string
	}{
		{nan, nil, []string{"model: load " + nan, "tensor head.fc.weight has 1 non-finite value(s), the first (NaN) at flat index 3"}},
		{overflow, nil, []string{"returned NaN or infinite logits for 24 of the 24 cutouts of rows 0 to 23: object " + strconv.Quote(first) + " (row 0)", "and 14 more"}},
		{overflow, []string{"--format", "arrow"}, []string{"infinite logits", "the Arrow stream on standard output is incomplete"}},
	} {
		out := filepath.Join(t.TempDir(), "catalog")
		args := []string{"predict", "--model", tt.model, "--input", cutouts, "--shard", "off"}
		if tt.format != nil {
			args = append(args, tt.format...)
		} else {
			args = append(args, "--output", out)
		}
		status, _, stderr := runCLI(t, args...)
		if status != exitFailure {
			t.Errorf("%q: status %d, want %d\n%s", args, status, exitFailure, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: stderr does not say %q:\n%s", args, w, stderr)
			}
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: %s exists after the failure (%v)", args, out, err)
		}
	}
}
