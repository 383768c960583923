package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/artifact"
)

// fakeStage writes each output as a committed artifact holding one file.
type fakeStage struct {
	name    string
	in, out []string
	params  map[string]any
	runs    int
	run     func(ctx context.Context, env *Env) error // nil: write outputs
}

func (s *fakeStage) Name() string      { return s.name }
func (s *fakeStage) Kind() string      { return "fake" }
func (s *fakeStage) Inputs() []string  { return s.in }
func (s *fakeStage) Outputs() []string { return s.out }
func (s *fakeStage) Params() any       { return s.params }

func (s *fakeStage) Run(ctx context.Context, env *Env) error {
	s.runs++
	if s.run != nil {
		return s.run(ctx, env)
	}
	for _, out := range s.out {
		if err := writeArtifact(env, out); err != nil {
			return err
		}
	}
	env.Summarize("wrote %d artifacts", len(s.out))
	return nil
}

func writeArtifact(env *Env, name string) error {
	staging, err := artifact.Stage(env.Path(name))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(staging, "data.txt"), []byte(env.Stage), 0o644); err != nil {
		return err
	}
	m := env.Manifest(name)
	m.Format = "astroformer.test/1"
	if err := artifact.WriteManifest(staging, &m); err != nil {
		return err
	}
	return artifact.Commit(staging, env.Path(name))
}

func stage(name string, in, out []string) *fakeStage {
	return &fakeStage{name: name, in: in, out: out, params: map[string]any{"n": 1}}
}

func names(stages []Stage) []string {
	var n []string
	for _, s := range stages {
		n = append(n, s.Name())
	}
	return n
}

func TestOrder(t *testing.T) {
	job := &Job{Name: "j", Stages: []Stage{
		stage("evaluate", []string{"catalog", "split"}, []string{"metrics"}),
		stage("predict", []string{"model", "split"}, []string{"catalog"}),
		stage("source", nil, []string{"cutouts"}),
		stage("train", []string{"split"}, []string{"model"}),
		stage("other", nil, []string{"other"}),
		stage("split", []string{"cutouts"}, []string{"split"}),
	}}
	order, err := job.Order()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"source", "other", "split", "train", "predict", "evaluate"}
	if got := names(order); !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func TestOrderCycle(t *testing.T) {
	job := &Job{Name: "j", Stages: []Stage{
		stage("free", nil, []string{"x"}),
		stage("a", []string{"c_out", "x"}, []string{"a_out"}),
		stage("b", []string{"a_out"}, []string{"b_out"}),
		stage("c", []string{"b_out"}, []string{"c_out"}),
		stage("after", []string{"c_out"}, []string{"y"}),
	}}
	_, err := job.Order()
	var cycle *CycleError
	if !errors.As(err, &cycle) {
		t.Fatalf("Order error = %v, want *CycleError", err)
	}
	if !slices.Equal(cycle.Stages, []string{"a", "b", "c"}) {
		t.Errorf("cycle = %v, want [a b c]", cycle.Stages)
	}
	if err.Error() != "dependency cycle: a -> b -> c -> a" {
		t.Errorf("error = %q", err)
	}

	self := &Job{Name: "j", Stages: []Stage{stage("s", []string{"o"}, []string{"o"})}}
	if _, err := self.Order(); !errors.As(err, &cycle) || !slices.Equal(cycle.Stages, []string{"s"}) {
		t.Errorf("self loop: err = %v", err)
	}
}

func TestOrderDuplicates(t *testing.T) {
	dupName := &Job{Name: "j", Stages: []Stage{stage("s", nil, []string{"a"}), stage("s", nil, []string{"b"})}}
	if _, err := dupName.Order(); err == nil || !strings.Contains(err.Error(), `stage name "s" is used twice`) {
		t.Errorf("duplicate name: err = %v", err)
	}
	dupOut := &Job{Name: "j", Stages: []Stage{stage("s", nil, []string{"a"}), stage("t", nil, []string{"a"})}}
	if _, err := dupOut.Order(); err == nil || !strings.Contains(err.Error(), `stages "s" and "t" both write "a"`) {
		t.Errorf("duplicate output: err = %v", err)
	}
}

// chain is a two-stage job: source -> derived.
// revisioned is a fakeStage whose kind is at another revision.
type revisioned struct {
	*fakeStage
	rev string
}

func (s *revisioned) Revision() string { return s.rev }

func chain(t *testing.T) (*Job, *fakeStage, *fakeStage) {
	src := stage("source", nil, []string{"raw"})
	der := stage("derived", []string{"raw"}, []string{"cooked"})
	return &Job{Name: "chain", Workdir: t.TempDir(), Seed: 1, Stages: []Stage{der, src}}, src, der
}

func run(t *testing.T, r *Runner, job *Job) *Report {
	t.Helper()
	if r.Producer == "" {
		r.Producer = "test-1"
	}
	rep, err := r.Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func statuses(rep *Report) map[string]Status {
	m := map[string]Status{}
	for _, r := range rep.Results {
		m[r.Stage] = r.Status
	}
	return m
}

func TestRunSkipsWhenUnchanged(t *testing.T) {
	job, src, der := chain(t)
	rep := run(t, &Runner{}, job)
	if got := statuses(rep); got["source"] != Ran || got["derived"] != Ran {
		t.Fatalf("first run: %v", got)
	}
	m, err := artifact.ReadManifest(filepath.Join(job.Workdir, "cooked"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Fingerprint != rep.Results[1].Fingerprint || m.Stage != "derived" || m.Kind != "fake" ||
		m.Producer != "test-1" || compact(t, m.Params) != `{"n":1}` {
		t.Errorf("manifest header = %+v", m)
	}

	rep = run(t, &Runner{}, job)
	if got := statuses(rep); got["source"] != Skipped || got["derived"] != Skipped {
		t.Errorf("second run: %v", got)
	}
	if src.runs != 1 || der.runs != 1 {
		t.Errorf("runs = %d, %d, want 1, 1", src.runs, der.runs)
	}
}

func compact(t *testing.T, raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRunRerunsWhatChanged(t *testing.T) {
	job, src, der := chain(t)
	run(t, &Runner{}, job)

	der.params = map[string]any{"n": 2}
	run(t, &Runner{}, job)
	if src.runs != 1 || der.runs != 2 {
		t.Errorf("after changing derived's params: runs = %d, %d, want 1, 2", src.runs, der.runs)
	}

	src.params = map[string]any{"n": 2}
	run(t, &Runner{}, job)
	if src.runs != 2 || der.runs != 3 {
		t.Errorf("after changing source's params: runs = %d, %d, want 2, 3", src.runs, der.runs)
	}

	job.Seed = 2
	run(t, &Runner{}, job)
	if src.runs != 3 || der.runs != 4 {
		t.Errorf("after changing the seed: runs = %d, %d, want 3, 4", src.runs, der.runs)
	}

	run(t, &Runner{Producer: "test-2"}, job)
	if src.runs != 3 || der.runs != 4 {
		t.Errorf("after upgrading the producer: runs = %d, %d, want 3, 4 (no stage changed)", src.runs, der.runs)
	}

	job.Stages[1] = &revisioned{fakeStage: src, rev: "2"}
	run(t, &Runner{Producer: "test-2"}, job)
	if src.runs != 4 || der.runs != 5 {
		t.Errorf("after a new revision of source: runs = %d, %d, want 4, 5", src.runs, der.runs)
	}

	// A removed output is rebuilt, and only it.
	if err := os.RemoveAll(filepath.Join(job.Workdir, "cooked")); err != nil {
		t.Fatal(err)
	}
	rep := run(t, &Runner{Producer: "test-2"}, job)
	if src.runs != 4 || der.runs != 6 {
		t.Errorf("after removing cooked: runs = %d, %d, want 4, 6", src.runs, der.runs)
	}
	if r := rep.Results[1]; r.Reason != `output "cooked" does not exist yet` {
		t.Errorf("reason = %q", r.Reason)
	}
}

func TestRunForce(t *testing.T) {
	job, src, der := chain(t)
	run(t, &Runner{}, job)

	run(t, &Runner{Force: []string{"derived"}}, job)
	if src.runs != 1 || der.runs != 2 {
		t.Errorf("force derived: runs = %d, %d, want 1, 2", src.runs, der.runs)
	}
	rep := run(t, &Runner{Force: []string{"source"}}, job)
	if src.runs != 2 || der.runs != 3 {
		t.Errorf("force source: runs = %d, %d, want 2, 3 (downstream reruns)", src.runs, der.runs)
	}
	if r := rep.Results[1]; r.Reason != `upstream stage "source" was forced` {
		t.Errorf("reason = %q", r.Reason)
	}

	_, err := (&Runner{Producer: "test-1", Force: []string{"nope"}}).Run(context.Background(), job)
	if err == nil || !strings.Contains(err.Error(), `no stage "nope"`) {
		t.Errorf("unknown forced stage: err = %v", err)
	}
	if src.runs != 2 {
		t.Error("a stage ran although the configuration was invalid")
	}
}

func TestRunCancelCommitsNothing(t *testing.T) {
	job, src, der := chain(t)
	run(t, &Runner{}, job)
	before, err := artifact.ReadManifest(filepath.Join(job.Workdir, "cooked"))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	der.params = map[string]any{"n": 2}
	der.run = func(ctx context.Context, env *Env) error {
		staging, err := artifact.Stage(env.Path("cooked"))
		if err != nil {
			return err
		}
		cancel() // as Ctrl-C would, while the stage is working
		<-ctx.Done()
		artifact.Discard(staging)
		return ctx.Err()
	}
	rep, err := (&Runner{Producer: "test-1"}).Run(ctx, job)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `interrupted during stage "derived"`) {
		t.Fatalf("err = %v, want an interruption wrapping context.Canceled", err)
	}
	if got := statuses(rep); got["source"] != Skipped || got["derived"] != Interrupted {
		t.Errorf("statuses = %v", got)
	}
	after, err := artifact.ReadManifest(filepath.Join(job.Workdir, "cooked"))
	if err != nil {
		t.Fatal(err)
	}
	if after.Fingerprint != before.Fingerprint {
		t.Error("the interrupted stage replaced its output")
	}
	entries, _ := os.ReadDir(job.Workdir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "staging") {
			t.Errorf("left behind %s", e.Name())
		}
	}
	if src.runs != 1 {
		t.Errorf("source ran %d times", src.runs)
	}

	// Cancelled before the job starts: no stage runs.
	der.run = nil
	if _, err := (&Runner{Producer: "test-1"}).Run(ctx, job); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
	if der.runs != 2 {
		t.Errorf("derived ran %d times, want 2", der.runs)
	}
}

func TestRunFailures(t *testing.T) {
	job, _, der := chain(t)
	der.run = func(ctx context.Context, env *Env) error { return nil } // commits nothing
	_, err := (&Runner{Producer: "t"}).Run(context.Background(), job)
	if err == nil || !strings.Contains(err.Error(), `stage "derived" (fake) finished but did not commit its outputs: output "cooked" does not exist yet`) {
		t.Errorf("uncommitted outputs: err = %v", err)
	}

	der.run = func(ctx context.Context, env *Env) error { return errors.New("boom") }
	rep, err := (&Runner{Producer: "t"}).Run(context.Background(), job)
	if err == nil || err.Error() != `stage "derived" (fake): boom` {
		t.Errorf("failing stage: err = %v", err)
	}
	if got := statuses(rep); got["derived"] != Failed {
		t.Errorf("statuses = %v", got)
	}

	lone := &Job{Name: "j", Workdir: t.TempDir(), Stages: []Stage{stage("s", []string{"absent"}, []string{"o"})}}
	_, err = (&Runner{Producer: "t"}).Run(context.Background(), lone)
	if err == nil || !strings.Contains(err.Error(), `stage "s" (fake): input "absent": not a committed artifact`) {
		t.Errorf("missing input: err = %v", err)
	}
}

func TestReport(t *testing.T) {
	job, _, _ := chain(t)
	run(t, &Runner{}, job)
	rep := run(t, &Runner{Force: []string{"derived"}}, job)
	var b strings.Builder
	if _, err := rep.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("report has %d lines, want 4:\n%s", len(lines), b.String())
	}
	if want := `job "chain" in ` + job.Workdir + `: 1 ran, 1 skipped in `; !strings.HasPrefix(lines[0], want) {
		t.Errorf("header = %q, want prefix %q", lines[0], want)
	}
	for i, want := range [][]string{
		1: {"skipped", "fake/source", "up", "to", "date"},
		2: {"ran", "fake/derived"},
		3: {"wrote", "1", "artifacts"},
	}[1:] {
		got := strings.Fields(lines[i+1])
		if i == 1 {
			got = got[:2] // drop the duration
		}
		if !slices.Equal(got, want) {
			t.Errorf("line %d = %q, want fields %q", i+2, lines[i+1], want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a, err := CanonicalJSON(struct {
		B int            `json:"b"`
		A map[string]any `json:"a"`
	}{2, map[string]any{"y": 1.5, "x": []int{3}}})
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != `{"a":{"x":[3],"y":1.5},"b":2}` {
		t.Errorf("canonical JSON = %s", a)
	}

	base := Fingerprint("k", "n", a, 1, []Input{{"i", "f"}}, "p")
	variants := []string{
		Fingerprint("k2", "n", a, 1, []Input{{"i", "f"}}, "p"),
		Fingerprint("k", "n2", a, 1, []Input{{"i", "f"}}, "p"),
		Fingerprint("k", "n", []byte(`{}`), 1, []Input{{"i", "f"}}, "p"),
		Fingerprint("k", "n", a, 2, []Input{{"i", "f"}}, "p"),
		Fingerprint("k", "n", a, 1, []Input{{"i", "g"}}, "p"),
		Fingerprint("k", "n", a, 1, []Input{{"j", "f"}}, "p"),
		Fingerprint("k", "n", a, 1, nil, "p"),
		Fingerprint("k", "n", a, 1, []Input{{"i", "f"}}, "p2"),
		Fingerprint("kn", "", a, 1, []Input{{"i", "f"}}, "p"),
	}
	for i, v := range variants {
		if v == base {
			t.Errorf("variant %d has the base fingerprint", i)
		}
	}
	if again := Fingerprint("k", "n", a, 1, []Input{{"i", "f"}}, "p"); again != base || len(base) != 64 {
		t.Errorf("fingerprint not stable or not hex SHA-256: %s %s", base, again)
	}
}

func TestVersion(t *testing.T) {
	if Version() == "" {
		t.Error("empty version")
	}
}

// A second run of the same workdir while the first is still running is
// refused before it touches anything; once the first ends the workdir is free.
func TestRunRefusesABusyWorkdir(t *testing.T) {
	job, src, _ := chain(t)
	inside := make(chan struct{})
	release := make(chan struct{})
	src.run = func(ctx context.Context, env *Env) error {
		close(inside)
		<-release
		return writeArtifact(env, "raw")
	}
	done := make(chan error, 1)
	go func() {
		_, err := (&Runner{Producer: "test-1"}).Run(context.Background(), job)
		done <- err
	}()
	<-inside
	_, err := (&Runner{Producer: "test-1"}).Run(context.Background(), job)
	if err == nil || !strings.Contains(err.Error(), "is in use by another run") {
		t.Errorf("second run while the first holds the workdir: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := (&Runner{Producer: "test-1"}).Run(context.Background(), job); err != nil {
		t.Errorf("run after the first ended: %v", err)
	}
}
