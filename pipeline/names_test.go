package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/artifact"
)

func TestCleanName(t *testing.T) {
	for name, want := range map[string]string{
		"cutouts": "cutouts", "./cutouts/": "cutouts", "models/m1": "models/m1", "a//b/": "a/b", "a/../b": "b",
	} {
		if got, err := CleanName(name); err != nil || got != want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"", ".", "./", "a/..", "..", "../x", "a/../../x", "/abs", ".hidden", "a/.staging-x"} {
		if got, err := CleanName(name); err == nil {
			t.Errorf("CleanName(%q) = %q, want an error", name, got)
		}
	}
}

func TestCheckNames(t *testing.T) {
	for _, tc := range []struct {
		stages []Stage
		want   string
	}{
		{[]Stage{stage("s", nil, []string{"."})}, "the workdir itself"},
		{[]Stage{stage("s", nil, []string{"../victim"})}, "leaves the workdir"},
		{[]Stage{stage("a", nil, []string{"c"}), stage("b", nil, []string{"./c"})}, `stages "a" and "b" both write "c"`},
		{[]Stage{stage("a", []string{"c"}, []string{"c/"})}, `stage "a" reads and writes "c"`},
		{[]Stage{stage("a", nil, []string{"c"}), stage("b", nil, []string{"c/d"})}, `"c" and "c/d" overlap`},
		{[]Stage{stage("a", []string{"c/d"}, []string{"c"})}, `"c" and "c/d" overlap`},
	} {
		job := &Job{Name: "j", Workdir: t.TempDir(), Stages: tc.stages}
		err := job.CheckNames()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", names(tc.stages), err, tc.want)
		}
		if _, err := (&Runner{}).Run(context.Background(), job); err == nil {
			t.Errorf("%v: Run accepted the job", names(tc.stages))
		}
	}
}

func TestRunLeavesForeignFoldersAlone(t *testing.T) {
	job, src, der := chain(t)
	foreign := filepath.Join(job.Workdir, "cooked")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o644)
	_, err := (&Runner{}).Run(context.Background(), job)
	var fe *artifact.ForeignError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), foreign) {
		t.Fatalf("got %v, want a *ForeignError naming %s", err, foreign)
	}
	if src.runs != 0 || der.runs != 0 {
		t.Errorf("stages ran (%d, %d) before the foreign output was refused", src.runs, der.runs)
	}
	if data, _ := os.ReadFile(filepath.Join(foreign, "notes.txt")); string(data) != "mine" {
		t.Error("the foreign folder was touched")
	}

	// A symbolic link at an output would be swapped for the artifact, or
	// resolve outside the workdir: refused as well.
	os.RemoveAll(foreign)
	os.Symlink(t.TempDir(), foreign)
	if _, err := (&Runner{}).Run(context.Background(), job); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("output behind a symbolic link: got %v", err)
	}
}

func TestRunRebuildsDamagedOutputs(t *testing.T) {
	job, src, der := chain(t)
	run(t, &Runner{}, job)
	data := filepath.Join(job.Workdir, "raw", "data.txt")
	if err := os.WriteFile(data, []byte("x"), 0o644); err != nil { // truncated
		t.Fatal(err)
	}
	rep := run(t, &Runner{}, job)
	if got := statuses(rep); got["source"] != Ran || got["derived"] != Skipped {
		t.Fatalf("after damaging raw: %v", got)
	}
	if !strings.Contains(rep.Results[0].Reason, `output "raw" is damaged (data.txt`) {
		t.Errorf("reason = %q", rep.Results[0].Reason)
	}
	if src.runs != 2 || der.runs != 1 {
		t.Errorf("runs = %d, %d, want 2, 1", src.runs, der.runs)
	}
}

func TestRunRefusesDamagedExternalInput(t *testing.T) {
	job, _, _ := chain(t)
	run(t, &Runner{}, job)
	only := &Job{Name: "reader", Workdir: job.Workdir, Stages: []Stage{stage("derived", []string{"raw"}, []string{"cooked"})}}
	os.Remove(filepath.Join(job.Workdir, "raw", "data.txt"))
	_, err := (&Runner{}).Run(context.Background(), only)
	var damaged *artifact.DamagedError
	if !errors.As(err, &damaged) || !strings.Contains(err.Error(), `input "raw"`) || damaged.File != "data.txt" {
		t.Fatalf("got %v, want a *DamagedError for input raw's data.txt", err)
	}
}
