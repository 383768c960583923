package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// touchStage writes an empty committed artifact; it can also fail or
// simulate Ctrl-C.
type touchStage struct {
	name   string
	cfg    touchConfig
	cancel context.CancelFunc
}

type touchConfig struct {
	Input     string `hcl:"input,optional"`
	Output    string `hcl:"output"`
	Fail      bool   `hcl:"fail,optional"`
	Interrupt bool   `hcl:"interrupt,optional"`
}

func (s *touchStage) Name() string { return s.name }
func (s *touchStage) Kind() string { return "touch" }
func (s *touchStage) Inputs() []string {
	if s.cfg.Input == "" {
		return nil
	}
	return []string{s.cfg.Input}
}
func (s *touchStage) Outputs() []string { return []string{s.cfg.Output} }
func (s *touchStage) Params() any       { return s.cfg }

func (s *touchStage) Run(ctx context.Context, env *pipeline.Env) error {
	staging, err := artifact.Stage(env.Path(s.cfg.Output))
	if err != nil {
		return err
	}
	defer artifact.Discard(staging)
	switch {
	case s.cfg.Fail:
		return os.ErrPermission
	case s.cfg.Interrupt:
		s.cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	m := env.Manifest(s.cfg.Output)
	m.Format = "astroformer.test/1"
	if err := artifact.WriteManifest(staging, &m); err != nil {
		return err
	}
	env.Summarize("touched %s", s.cfg.Output)
	return artifact.Commit(staging, env.Path(s.cfg.Output))
}

// testCLI returns a cli whose registry knows the touch kind, and the
// context to run it with; an interrupting stage cancels that context.
func testCLI() (*cli, *bytes.Buffer, *bytes.Buffer, context.Context) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	reg := pipeline.Registry{"touch": func(name string, body hcl.Body, ectx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
		s := &touchStage{name: name, cancel: cancel}
		return s, gohcl.DecodeBody(body, ectx, &s.cfg)
	}}
	return &cli{stdout: &stdout, stderr: &stderr, registry: reg}, &stdout, &stderr, ctx
}

// runCLI runs the command line args and returns the exit status, the
// standard output and the standard error.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	status := run(args, &stdout, &stderr)
	return status, stdout.String(), stderr.String()
}

// runOK runs the command line args and returns its standard output; a
// status other than exitOK stops the test.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	status, stdout, stderr := runCLI(t, args...)
	if status != exitOK {
		t.Fatalf("%q: status %d, stderr:\n%s", args, status, stderr)
	}
	return stdout
}

// checkOutput checks that out contains every one of wants.
func checkOutput(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// readPNG decodes the PNG file at path.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func writeJob(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "job.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		status int
		stderr string
	}{
		{nil, exitUsage, "Usage:"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"run"}, exitUsage, "want one job file, got 0 arguments"},
		{[]string{"run", "a.hcl", "b.hcl"}, exitUsage, "want one job file, got 2 arguments"},
		{[]string{"run", "--bogus", "a.hcl"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"run", "a.hcl", "--log-level", "loud"}, exitUsage, `invalid --log-level "loud"`},
		{[]string{"run", "absent.hcl"}, exitUsage, "Cannot read job file"},
		{[]string{"inspect"}, exitUsage, "want one table folder"},
		{[]string{"inspect", "t", "--per-class", "-1"}, exitUsage, "--per-class must be 0 or more"},
		{[]string{"version", "extra"}, exitUsage, "takes no arguments"},
		{[]string{"run", "-h"}, exitOK, "Usage: astroformer run JOB.hcl [flags]"},
	} {
		var stdout, stderr bytes.Buffer
		status := run(tt.args, &stdout, &stderr)
		if status != tt.status || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("run %q: status %d, stderr:\n%s\nwant status %d and %q", tt.args, status, stderr.String(), tt.status, tt.stderr)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if status := run([]string{"help"}, &stdout, &stderr); status != exitOK || !strings.Contains(stdout.String(), "  inspect    describe a table") {
		t.Errorf("help: status %d, stdout:\n%s", status, stdout.String())
	}
	stdout.Reset()
	if status := run([]string{"version"}, &stdout, &stderr); status != exitOK ||
		!strings.HasPrefix(stdout.String(), "astroformer "+pipeline.Version()+" (go") {
		t.Errorf("version: status %d, stdout %q", status, stdout.String())
	}
}

const twoStages = `job "t" {
  stage "touch" "first" { output = "a" }
  stage "touch" "second" {
    input  = "a"
    output = "b"
  }
}
`

func TestRun(t *testing.T) {
	job := writeJob(t, twoStages)
	workdir := t.TempDir()

	c, stdout, stderr, ctx := testCLI()
	if status := c.main(ctx, []string{"run", job, "--workdir", workdir}); status != exitOK {
		t.Fatalf("first run: status %d, stderr:\n%s", status, stderr)
	}
	if !strings.Contains(stdout.String(), "2 ran") || !strings.Contains(stdout.String(), "touched b") {
		t.Errorf("first run report:\n%s", stdout)
	}
	if !strings.Contains(stderr.String(), "[INFO]  astroformer.first: running:") {
		t.Errorf("text log lacks the stage start:\n%s", stderr)
	}

	c, stdout, stderr, ctx = testCLI()
	if status := c.main(ctx, []string{"run", "--log-json", "--workdir", workdir, job}); status != exitOK {
		t.Fatalf("second run: status %d, stderr:\n%s", status, stderr)
	}
	if !strings.Contains(stdout.String(), "2 skipped") {
		t.Errorf("second run report:\n%s", stdout)
	}
	var skipped int
	for line := range strings.Lines(stderr.String()) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("--log-json wrote a line that is not JSON: %q", line)
		}
		if entry["@message"] == "skipped: up to date" {
			skipped++
		}
	}
	if skipped != 2 {
		t.Errorf("%d stages logged as skipped, want 2:\n%s", skipped, stderr)
	}

	c, stdout, stderr, ctx = testCLI()
	if status := c.main(ctx, []string{"run", job, "--workdir", workdir, "--force", "second"}); status != exitOK ||
		!strings.Contains(stdout.String(), "1 ran, 1 skipped") {
		t.Errorf("--force second: status %d, report:\n%s%s", status, stdout, stderr)
	}

	c, _, stderr, ctx = testCLI()
	if status := c.main(ctx, []string{"run", job, "--workdir", workdir, "--force", "secnd"}); status != exitUsage ||
		!strings.Contains(stderr.String(), `--force secnd: job "t" has no such stage (stages: first, second)`) {
		t.Errorf("--force with an unknown stage: status %d, stderr:\n%s", status, stderr)
	}
}

func TestRunJobErrors(t *testing.T) {
	job := writeJob(t, `job "t" {
  stage "touch" "first" { output = "a" }
  stage "tuoch" "second" { output = "b" }
}
`)
	c, _, stderr, ctx := testCLI()
	if status := c.main(ctx, []string{"run", job, "--workdir", t.TempDir()}); status != exitUsage {
		t.Errorf("status %d, want %d", status, exitUsage)
	}
	want := job + `:3:9: error: Unknown stage kind
  3 |   stage "tuoch" "second" { output = "b" }
    |         ^^^^^^^
  There is no stage kind "tuoch". Did you mean "touch"? Known kinds: touch.
`
	if stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
}

func TestRunFailureAndInterrupt(t *testing.T) {
	workdir := t.TempDir()
	failing := writeJob(t, strings.Replace(twoStages, `output = "b"`, "output = \"b\"\n    fail = true", 1))
	c, stdout, stderr, ctx := testCLI()
	if status := c.main(ctx, []string{"run", failing, "--workdir", workdir}); status != exitFailure {
		t.Errorf("failing stage: status %d, want %d", status, exitFailure)
	}
	if !strings.Contains(stderr.String(), `astroformer: stage "second" (touch): permission denied`) ||
		!strings.Contains(stdout.String(), "1 ran, 1 failed") {
		t.Errorf("failing stage: stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}

	interrupted := writeJob(t, strings.Replace(twoStages, `output = "b"`, "output = \"b\"\n    interrupt = true", 1))
	c, stdout, stderr, ctx = testCLI()
	if status := c.main(ctx, []string{"run", interrupted, "--workdir", workdir}); status != exitInterrupted {
		t.Errorf("interrupted: status %d, want %d", status, exitInterrupted)
	}
	if !strings.Contains(stderr.String(), `interrupted during stage "second"`) || !strings.Contains(stdout.String(), "1 interrupted") {
		t.Errorf("interrupted: stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(workdir, "b")); !os.IsNotExist(err) {
		t.Errorf("the interrupted stage committed its output (stat: %v)", err)
	}
}

// writeCutouts writes a small cutouts table: classes a and b with 3 and 2
// rows, one unlabelled row, 4×6 RGB pixels.
func writeCutouts(t *testing.T, dir string) {
	t.Helper()
	type row struct {
		label int16
		name  string
		split string
	}
	rows := []row{{0, "a", "train"}, {1, "b", "train"}, {0, "a", "val"}, {-1, "", ""}, {0, "a", "test"}, {1, "b", "test"}}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schemas.Cutouts())
	defer b.Release()
	for i, r := range rows {
		for f, field := range b.Schema().Fields() {
			fb := b.Field(f)
			switch field.Name {
			case "object_id":
				fb.(*array.StringBuilder).Append(string(rune('p' + i)))
			case "label":
				if r.label < 0 {
					fb.AppendNull()
				} else {
					fb.(*array.Int16Builder).Append(r.label)
				}
			case "label_name":
				if r.name == "" {
					fb.AppendNull()
				} else {
					fb.(*array.StringBuilder).Append(r.name)
				}
			case "split":
				fb.(*array.StringBuilder).Append(r.split)
			case "height":
				fb.(*array.Int32Builder).Append(4)
			case "width":
				fb.(*array.Int32Builder).Append(6)
			case "channels":
				fb.(*array.Int32Builder).Append(3)
			case "pixels":
				fb.(*array.BinaryBuilder).Append(bytes.Repeat([]byte{byte(40 * i)}, 4*6*3))
			case "bands", "source":
				fb.(*array.StringBuilder).Append("x")
			default:
				if !field.Nullable {
					t.Fatalf("test does not fill required column %s", field.Name)
				}
				fb.AppendNull()
			}
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	tabletest.Write(t, dir, rec.Schema(), table.Options{Manifest: artifact.Manifest{
		Name: filepath.Base(dir), Stage: "survey", Kind: "synthetic", Fingerprint: "f", Producer: "test",
	}}, rec)
}

func TestInspect(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cutouts")
	writeCutouts(t, dir)
	checkOutput(t, runOK(t, "inspect", dir, "--per-class", "2"),
		"table "+dir+"\n",
		"  stage        survey (synthetic)\n",
		"  rows         6 in 1 parts,",
		"schema (19 columns):\n",
		"  ra                float64              null  deg           right ascension, ICRS\n",
		"\n  class         train  val  test  (none)  total\n",
		"\n  a                 1    1     1       0      3\n",
		"\n  b                 1    0     1       0      2\n",
		"\n  (unlabelled)      0    0     0       1      1\n",
		"\n  total             2    1     2       1      6\n",
		"contact sheet: "+dir+"_sheet.png (5 cutouts)\n",
	)
	img := readPNG(t, dir+"_sheet.png")
	// Three class rows, two cells each, after the label column.
	wantW := (sheetMaxLabel+1)*7 + 2*sheetGap + 2*(sheetCell+sheetGap)
	wantH := sheetGap + 3*(sheetCell+sheetGap)
	if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Errorf("sheet is %v, want %dx%d", b, wantW, wantH)
	}
	// Row b, second cell, holds object 5 (grey 200), scaled to 96×64 and centred.
	labelW := (sheetMaxLabel+1)*7 + 2*sheetGap
	x := labelW + (sheetCell + sheetGap) + sheetCell/2
	y := sheetGap + (sheetCell + sheetGap) + sheetCell/2
	if r, g, b, _ := img.At(x, y).RGBA(); r>>8 != 200 || g>>8 != 200 || b>>8 != 200 {
		t.Errorf("pixel at %d,%d = %d,%d,%d, want 200,200,200", x, y, r>>8, g>>8, b>>8)
	}
}

func TestInspectErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if status := run([]string{"inspect", filepath.Join(t.TempDir(), "absent")}, &stdout, &stderr); status != exitFailure ||
		!strings.Contains(stderr.String(), "not a committed artifact") {
		t.Errorf("absent table: status %d, stderr:\n%s", status, stderr.String())
	}

	// A table without pixels: fine without --sheet, a failure with it.
	dir := filepath.Join(t.TempDir(), "ids")
	schema := arrow.NewSchema([]arrow.Field{{Name: "object_id", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b.Field(0).(*array.StringBuilder).Append("x")
	tabletest.Write(t, dir, schema, table.Options{Manifest: artifact.Manifest{Name: "ids", Fingerprint: "f"}}, b.NewRecord())
	stderr.Reset()
	if status := run([]string{"inspect", dir}, &stdout, &stderr); status != exitOK {
		t.Errorf("table without pixels: status %d, stderr:\n%s", status, stderr.String())
	}
	sheet := filepath.Join(t.TempDir(), "s.png")
	if status := run([]string{"inspect", dir, "--sheet", sheet}, &stdout, &stderr); status != exitFailure ||
		!strings.Contains(stderr.String(), "cannot draw a contact sheet: no column label_name, height, width, channels, pixels") {
		t.Errorf("--sheet without pixels: status %d, stderr:\n%s", status, stderr.String())
	}
}
