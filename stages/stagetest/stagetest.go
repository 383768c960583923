// Package stagetest checks that a stage kind keeps the contract of
// pipeline.Stage, as testing/fstest checks a file system: Conformance
// decodes a kind's blocks and runs its stages in a test's workdir.
//
// The checks are these. An invalid attribute, or an unknown one, gives an
// error diagnostic whose subject lies in that attribute; every error of an
// empty block has a subject. Decoding a block twice gives the
// same canonical params JSON, inputs and outputs. A run whose context is
// cancelled before it starts, part-way or once its work is done but not
// yet committed returns context.Canceled, commits none of the stage's
// outputs and leaves its inputs and sources as they were. A run
// interrupted part-way and then run again produces the same rows, and the
// same files, as one uninterrupted run, and so does a run killed there
// (a child process of the test that exits without running its deferred
// calls) and run again; neither rerun leaves a staging folder or other
// state behind.
//
// The runs are interrupted from the stage's progress bars: the Env's
// progress group (progress.Observe) cancels the context when a bar
// reaches a count, so no kind needs a hook of its own.
package stagetest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/internal/progress"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
	"github.com/astroformer/astroformer/table"
)

// Kind describes a stage kind to Conformance.
type Kind struct {
	// Factory decodes the kind's blocks: the registry's, or a wrapper of
	// it that sets a test hook (a tiny network, say) on the stage.
	Factory pipeline.Factory
	// Block is the body of a valid block whose stage runs in seconds on
	// the inputs Setup makes. It is decoded with the variable workdir,
	// the workdir's absolute path, so that a source can read
	// "${workdir}/images".
	Block string
	// Bad is the body of a block with one invalid attribute, BadAttr.
	Bad, BadAttr string
	// Setup, when not nil, writes the stage's inputs and source files
	// into workdir, the same ones each time it is called.
	Setup func(t testing.TB, workdir string)
	// Interrupt is the progress count (of any of the stage's bars) at
	// which the interrupted run is cancelled, and the killed run killed
	// (default 1). For a kind that keeps its work in chunks, parts or
	// checkpoints, a count past the end of the first one lets the rerun
	// resume from it.
	Interrupt int64
	// Resumes says that a run interrupted or killed at Interrupt keeps
	// the work it completed, files in a staging folder or other hidden
	// folder of the workdir (see artifact.StageResumable and
	// train.StateDir), for the rerun to resume from.
	Resumes bool
	// Volatile reports the items of the outputs that may differ between
	// two runs, such as timings, which are left out of the comparison of
	// runs: the rows of a table (as Rows gives them); the files of another
	// output as "<name> <SHA-256>", but a checkpoint (.safetensors) as one
	// item per tensor, "<name> <tensor> <SHA-256>", one per provenance
	// entry, "<name> provenance <key>=<value>", and "<name> meta <JSON>"
	// for the rest of its metadata. Nil means none.
	Volatile func(output, item string) bool
}

// Conformance runs the checks of the package comment on k, each as a
// subtest, in one workdir that k.Setup fills once. The kill check runs
// the test binary (os.Args[0]) again with -test.run naming t, so t must
// be a test or subtest that -test.run can select alone; in that child
// process Conformance runs only the stage to kill.
func Conformance(t *testing.T, k Kind) {
	if dir := os.Getenv(killDir); dir != "" {
		killChild(t, k, dir)
		return
	}
	name := t.Name()
	t.Run("diagnostics", func(t *testing.T) { checkDiagnostics(t, k) })
	dir := workdir(t, k)
	t.Run("params", func(t *testing.T) { checkParams(t, k, dir) })
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		checkCancelled(t, k, dir, ctx, nil)
	})
	t.Run("resume", func(t *testing.T) { checkResume(t, k, dir, name) })
}

// workdir returns a new workdir with k's inputs.
func workdir(t testing.TB, k Kind) string {
	t.Helper()
	dir, err := filepath.Abs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if k.Setup != nil {
		k.Setup(t, dir)
	}
	return dir
}

// decode decodes src with k.Factory and the variable workdir set to dir.
func decode(t testing.TB, k Kind, src, dir string) (pipeline.Stage, hcl.Diagnostics) {
	t.Helper()
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"workdir": cty.StringVal(dir)}}
	return k.Factory("conformance", decltest.Body(t, src), ctx)
}

// mustDecode is decode that fails the test on error diagnostics.
func mustDecode(t testing.TB, k Kind, dir string) pipeline.Stage {
	t.Helper()
	s, diags := decode(t, k, k.Block, dir)
	if diags.HasErrors() || s == nil {
		t.Fatalf("decode Block: %s", diags)
	}
	return s
}

// checkDiagnostics checks that k.Bad gives an error whose subject lies in
// the attribute k.BadAttr, and so does k.Block with an unknown attribute;
// and that every error of an empty block, which lacks at least an output,
// has a subject.
func checkDiagnostics(t *testing.T, k Kind) {
	pointsInto(t, k, k.Bad, k.BadAttr)
	pointsInto(t, k, k.Block+"\nno_such_attribute = 1\n", "no_such_attribute")
	pointsInto(t, k, "", "")
}

// pointsInto checks that src gives errors, each with a subject, one of
// them in the attribute attr (unless attr is empty).
func pointsInto(t *testing.T, k Kind, src, attr string) {
	t.Helper()
	var want hcl.Range
	if attr != "" {
		a, ok := decltest.Body(t, src).(*hclsyntax.Body).Attributes[attr]
		if !ok {
			t.Fatalf("%q sets no attribute %q", src, attr)
		}
		want = a.SrcRange
	}
	s, diags := decode(t, k, src, t.TempDir())
	if !diags.HasErrors() || s != nil {
		t.Fatalf("%q decoded to %v with %v; want errors and no stage", src, s, diags)
	}
	found := attr == ""
	for _, d := range diags.Errs() {
		var diag *hcl.Diagnostic
		if !errors.As(d, &diag) || diag.Subject == nil || diag.Subject.Filename == "" {
			t.Errorf("%q: error without a subject: %v", src, d)
			continue
		}
		r := diag.Subject
		found = found || r.Filename == want.Filename && r.Start.Byte >= want.Start.Byte && r.End.Byte <= want.End.Byte
	}
	if !found {
		t.Errorf("no error points into %s at %s: %s", attr, want, diags)
	}
}

// checkParams checks that decoding k.Block in dir twice gives the same
// stage.
func checkParams(t *testing.T, k Kind, dir string) {
	a, b := mustDecode(t, k, dir), mustDecode(t, k, dir)
	pa, err := pipeline.CanonicalJSON(a.Params())
	if err != nil {
		t.Fatal(err)
	}
	pb, err := pipeline.CanonicalJSON(b.Params())
	if err != nil {
		t.Fatal(err)
	}
	if string(pa) != string(pb) {
		t.Errorf("params differ between two decodings:\n%s\n%s", pa, pb)
	}
	if !slices.Equal(a.Inputs(), b.Inputs()) || !slices.Equal(a.Outputs(), b.Outputs()) {
		t.Errorf("inputs %q, outputs %q, then inputs %q, outputs %q", a.Inputs(), a.Outputs(), b.Inputs(), b.Outputs())
	}
	if a.Name() != "conformance" || len(a.Outputs()) == 0 {
		t.Errorf("stage %q with outputs %q", a.Name(), a.Outputs())
	}
}

// checkCancelled runs k's stage in dir with ctx, which is cancelled or
// will be during the run (by g's observer), and checks that the run fails
// with context.Canceled, commits none of its outputs and leaves its inputs
// and sources as they were.
func checkCancelled(t *testing.T, k Kind, dir string, ctx context.Context, g *progress.Group) {
	t.Helper()
	s := mustDecode(t, k, dir)
	before := snapshot(t, dir, s)
	err := s.Run(ctx, newEnv(t, dir, s, g))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run returned %v, want context.Canceled", err)
	}
	for _, out := range s.Outputs() {
		if _, err := artifact.ReadManifest(filepath.Join(dir, out)); err == nil {
			t.Errorf("cancelled run committed %s", out)
		}
	}
	if after := snapshot(t, dir, s); !maps.Equal(before, after) {
		t.Errorf("cancelled run changed its inputs: %v, then %v", before, after)
	}
}

// checkResume compares the outputs of an uninterrupted run in dir with
// those of a run interrupted at progress k.Interrupt and run again, and
// with those of a run killed there (see kill) and run again; then checks a
// run cancelled after its last progress, before it commits. name is the
// test that called Conformance.
func checkResume(t *testing.T, k Kind, dir, name string) {
	s := mustDecode(t, k, dir)
	before := hidden(t, dir)
	var last atomic.Int64
	runWith(t, s, dir, progress.Observe(func(_ string, n int64) { last.Store(max(last.Load(), n)) }))
	r := rerun{k: k, dir: dir, outputs: s.Outputs(), want: contents(t, k, dir, s.Outputs()), clean: hidden(t, dir)}
	if left := added(before, r.clean); len(left) > 0 {
		t.Errorf("a run left %q behind", left)
	}
	r.remove(t)
	interrupt(t, k, dir, max(k.Interrupt, 1))
	r.check(t, "an interrupted run")

	r.remove(t)
	kill(t, dir, name, max(k.Interrupt, 1))
	for _, out := range r.outputs {
		if _, err := artifact.ReadManifest(filepath.Join(dir, out)); err == nil {
			t.Errorf("killed run committed %s", out)
		}
	}
	r.check(t, "a killed run")

	// Cancelled once the work is done, before the outputs are committed.
	r.remove(t)
	interrupt(t, k, dir, last.Load())
}

// rerun checks the run that follows an interrupted one.
type rerun struct {
	k       Kind
	dir     string
	outputs []string
	want    map[string][]string // contents of the outputs of an uninterrupted run
	clean   []string            // hidden paths after an uninterrupted run
}

// remove removes the outputs.
func (r *rerun) remove(t *testing.T) {
	t.Helper()
	for _, out := range r.outputs {
		if err := os.RemoveAll(filepath.Join(r.dir, out)); err != nil {
			t.Fatal(err)
		}
	}
}

// check checks the work kept by what (an interrupted run), runs the stage
// again and compares its outputs with those of an uninterrupted run.
func (r *rerun) check(t *testing.T, what string) {
	t.Helper()
	if r.k.Resumes && kept(added(r.clean, hidden(t, r.dir))) == 0 {
		t.Errorf("%s kept no work to resume from", what)
	}
	runWith(t, mustDecode(t, r.k, r.dir), r.dir, nil)
	if left := added(r.clean, hidden(t, r.dir)); len(left) > 0 {
		t.Errorf("the run after %s left %q behind", what, left)
	}
	got := contents(t, r.k, r.dir, r.outputs)
	for _, out := range r.outputs {
		if !slices.Equal(got[out], r.want[out]) {
			t.Errorf("%s after %s differs from an uninterrupted run's (%d and %d items) at\n%s",
				out, what, len(got[out]), len(r.want[out]), firstDiff(got[out], r.want[out]))
		}
	}
}

// Environment variables of the child process of kill.
const (
	killDir = "STAGETEST_KILL_WORKDIR"
	killAt  = "STAGETEST_KILL_AT"
	killed  = 17 // its exit status once it reached the count
)

// kill runs the test name again in a child process that, through
// Conformance, runs the stage of dir (see killChild) and exits abruptly,
// without running deferred calls or cleanup, once the stage reports the
// progress count at.
func kill(t *testing.T, dir, name string, at int64) {
	t.Helper()
	var pattern []string
	for _, part := range strings.Split(name, "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pattern, "/"), "-test.count=1")
	cmd.Env = append(os.Environ(), killDir+"="+dir, killAt+"="+strconv.FormatInt(at, 10))
	out, err := cmd.CombinedOutput()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != killed {
		t.Fatalf("the run to kill at progress %d: %v\n%s", at, err, out)
	}
}

// killChild is Conformance in the child process of kill.
func killChild(t *testing.T, k Kind, dir string) {
	at, err := strconv.ParseInt(os.Getenv(killAt), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	s := mustDecode(t, k, dir)
	g := progress.Observe(func(_ string, n int64) {
		if n >= at {
			os.Exit(killed)
		}
	})
	err = s.Run(context.Background(), newEnv(t, dir, s, g))
	t.Fatalf("the run ended before progress %d: %v", at, err)
}

// interrupt runs k's stage in dir, cancelling its context once it reports
// the progress count at, and checks the run as checkCancelled does.
func interrupt(t *testing.T, k Kind, dir string, at int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var fired atomic.Bool
	g := progress.Observe(func(_ string, n int64) {
		if n >= at && !fired.Swap(true) {
			cancel()
		}
	})
	checkCancelled(t, k, dir, ctx, g)
	if !fired.Load() {
		t.Fatalf("the run reported no progress count %d to interrupt it at", at)
	}
}

// hidden returns the paths under dir whose names start with a dot, where
// staging folders and resumable state are kept, in lexical order.
func hidden(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir || d.Name()[0] != '.' {
			return err
		}
		out = append(out, path)
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// added returns the paths of now that before lacks.
func added(before, now []string) []string {
	return slices.DeleteFunc(slices.Clone(now), func(p string) bool { return slices.Contains(before, p) })
}

// kept returns the number of files at or under paths whose names do not
// start with a dot: the work a staging folder or state folder holds,
// not counting the owner file of a staging folder.
func kept(paths []string) int {
	n := 0
	for _, root := range paths {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && d.Name()[0] != '.' {
				n++
			}
			return nil
		})
	}
	return n
}

// runWith runs s in dir with the progress group g and fails the test on
// error.
func runWith(t *testing.T, s pipeline.Stage, dir string, g *progress.Group) {
	t.Helper()
	if err := s.Run(context.Background(), newEnv(t, dir, s, g)); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// newEnv returns the Env of a run of s in dir, with the progress group g.
func newEnv(t testing.TB, dir string, s pipeline.Stage, g *progress.Group) *pipeline.Env {
	t.Helper()
	env := sourcetest.Env(t, dir, s, nil)
	env.Progress = g
	return env
}

// snapshot returns the SHA-256 of every file a run of s in dir reads: at
// or under its inputs and its sources.
func snapshot(t testing.TB, dir string, s pipeline.Stage) map[string]string {
	t.Helper()
	var paths []string
	for _, in := range s.Inputs() {
		paths = append(paths, filepath.Join(dir, in))
	}
	if src, ok := s.(pipeline.Sourced); ok {
		paths = append(paths, src.Sources()...)
	}
	sums := map[string]string{}
	for _, root := range paths {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			sums[path] = fileSum(t, path)
			return nil
		})
	}
	return sums
}

// fileSum returns the hex SHA-256 of a file's content.
func fileSum(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// contents returns the contents of each output in dir: its rows (see
// Rows) for a table, else its files but the manifest with their SHA-256,
// without the items k.Volatile names.
func contents(t testing.TB, k Kind, dir string, outputs []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, name := range outputs {
		path := filepath.Join(dir, name)
		m, err := artifact.ReadManifest(path)
		if err != nil {
			t.Fatalf("output %s: %v", name, err)
		}
		var items []string
		if m.Format == artifact.TableFormat {
			items = Rows(t, path)
		} else {
			items = files(t, path)
		}
		if k.Volatile != nil {
			items = slices.DeleteFunc(items, func(item string) bool { return k.Volatile(name, item) })
		}
		out[name] = items
	}
	return out
}

// firstDiff returns the first item of a that b does not have at the same
// index, or of b when a is a prefix of b.
func firstDiff(a, b []string) string {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return a[i]
		}
	}
	if len(b) > len(a) {
		return b[len(a)]
	}
	return ""
}

// files returns "<name> <SHA-256>" for every file under dir but the
// manifest, in lexical order; a checkpoint gives the items of checkpoint.
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == artifact.ManifestFile {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		switch {
		case err != nil:
		case strings.HasSuffix(rel, ".safetensors"):
			out = append(out, checkpoint(t, rel, path)...)
		default:
			out = append(out, rel+" "+fileSum(t, path))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkpoint returns the items of the safetensors checkpoint at path,
// called name: "<name> <tensor> <SHA-256 of its values>" for each tensor,
// "<name> provenance <key>=<value>" for each provenance entry (such as
// created, a time), and "<name> meta <JSON>" for the rest of its metadata.
func checkpoint(t testing.TB, name, path string) []string {
	t.Helper()
	sd, meta, err := model.ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	var out []string
	for _, tensor := range sd.Names() {
		v, err := sd.Float32(tensor)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		binary.Write(h, binary.LittleEndian, v)
		out = append(out, fmt.Sprintf("%s %s %x", name, tensor, h.Sum(nil)))
	}
	for _, key := range slices.Sorted(maps.Keys(meta.Provenance)) {
		out = append(out, fmt.Sprintf("%s provenance %s=%s", name, key, meta.Provenance[key]))
	}
	meta.Provenance = nil
	b, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, name+" meta "+string(b))
}

// Rows returns every row of the table in dir, in table order, as a JSON
// array of its values in schema order (as arrow.Array.ValueStr gives them,
// "(null)" for null), after a line with the schema.
// Two tables with the same Rows hold the same data, however it is split
// into parts and row groups.
func Rows(t testing.TB, dir string) []string {
	t.Helper()
	tab, err := table.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rows := []string{tab.Schema().String()}
	sc := tab.Scan(context.Background(), table.ScanOptions{})
	defer sc.Close()
	for sc.Next() {
		rec := sc.Record()
		for i := range int(rec.NumRows()) {
			vals := make([]string, rec.NumCols())
			for c, col := range rec.Columns() {
				vals[c] = col.ValueStr(i)
			}
			b, err := json.Marshal(vals)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, string(b))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}
