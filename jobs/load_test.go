package jobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/astroformer/astroformer/pipeline"
)

type testConfig struct {
	Input  string   `hcl:"input,optional"`
	Inputs []string `hcl:"inputs,optional"`
	Output string   `hcl:"output"`
	Count  int      `hcl:"count,optional"`
}

type testStage struct {
	kind, name string
	cfg        testConfig
}

func (s *testStage) Name() string { return s.name }
func (s *testStage) Kind() string { return s.kind }
func (s *testStage) Inputs() []string {
	if s.cfg.Input != "" {
		return append([]string{s.cfg.Input}, s.cfg.Inputs...)
	}
	return s.cfg.Inputs
}
func (s *testStage) Outputs() []string                        { return []string{s.cfg.Output} }
func (s *testStage) Params() any                              { return s.cfg }
func (s *testStage) Run(context.Context, *pipeline.Env) error { return nil }

func testRegistry() pipeline.Registry {
	reg := pipeline.Registry{}
	for _, kind := range []string{"synthetic", "split", "merge"} {
		reg[kind] = func(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
			s := &testStage{kind: kind, name: name}
			if diags := gohcl.DecodeBody(body, ctx, &s.cfg); diags.HasErrors() {
				return nil, diags
			}
			return s, nil
		}
	}
	return reg
}

func TestLoad(t *testing.T) {
	job, diags := Load("testdata/demo.hcl", testRegistry())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if job.Name != "demo" || job.Workdir != filepath.Join("runs", "demo") || job.Seed != 42 || job.File != "testdata/demo.hcl" {
		t.Errorf("job = %+v", job)
	}
	if len(job.Stages) != 2 {
		t.Fatalf("%d stages, want 2", len(job.Stages))
	}
	survey := job.Stages[1].(*testStage)
	if survey.kind != "synthetic" || survey.name != "survey" || survey.cfg.Count != 3000 || survey.cfg.Output != "cutouts" {
		t.Errorf("survey stage = %+v", survey)
	}

	// Defaults and the workdir override.
	src := `job "small" {
  stage "synthetic" "s" { output = "a" }
}`
	job, diags = (&Loader{Registry: testRegistry()}).Parse([]byte(src), "small.hcl")
	if diags.HasErrors() || job.Workdir != filepath.Join("runs", "small") || job.Seed != 0 {
		t.Errorf("defaults: job = %+v, diags = %v", job, diags)
	}
	dir := t.TempDir()
	job, diags = (&Loader{Registry: testRegistry(), Workdir: dir}).Parse([]byte(src), "small.hcl")
	if diags.HasErrors() || job.Workdir != dir {
		t.Errorf("override: job = %+v, diags = %v", job, diags)
	}
}

func TestInputOnDisk(t *testing.T) {
	dir := t.TempDir()
	src := `job "j" {
  stage "split" "s" {
    input  = "existing"
    output = "b"
  }
}`
	l := &Loader{Registry: testRegistry(), Workdir: dir}
	if _, diags := l.Parse([]byte(src), "j.hcl"); !diags.HasErrors() {
		t.Fatal("missing input was not reported")
	}
	if err := os.Mkdir(filepath.Join(dir, "existing"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, diags := l.Parse([]byte(src), "j.hcl"); diags.HasErrors() {
		t.Errorf("an input on disk was reported: %v", diags)
	}
}

// at formats a diagnostic's position as file:line:column.
func at(d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return "(no position)"
	}
	return fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
}

func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		summary string
		at      string
		detail  string
	}{{
		name: "unknown kind",
		src: `job "j" {
  stage "synthetc" "survey" {
    output = "cutouts"
  }
}`,
		summary: "Unknown stage kind",
		at:      "job.hcl:2:9",
		detail:  `There is no stage kind "synthetc". Did you mean "synthetic"? Known kinds: merge, split, synthetic.`,
	}, {
		name: "unknown kind, nothing close",
		src: `job "j" {
  stage "telescope" "t" {}
}`,
		summary: "Unknown stage kind",
		at:      "job.hcl:2:9",
		detail:  `There is no stage kind "telescope". Known kinds: merge, split, synthetic.`,
	}, {
		name: "unknown attribute",
		src: `job "j" {
  stage "synthetic" "s" {
    output = "a"
    coutn  = 3
  }
}`,
		summary: "Unsupported argument",
		at:      "job.hcl:4:5",
		detail:  `An argument named "coutn" is not expected here. Did you mean "count"?`,
	}, {
		name: "wrong type",
		src: `job "j" {
  stage "synthetic" "s" {
    output = "a"
    count  = "many"
  }
}`,
		summary: "Unsuitable value type",
		at:      "job.hcl:4:15", // hcl points inside the quotes
		detail:  "a number is required",
	}, {
		name: "missing required attribute",
		src: `job "j" {
  stage "synthetic" "s" {
    count = 3
  }
}`,
		summary: "Missing required argument",
		at:      "job.hcl:2:25",
		detail:  `The argument "output" is required`,
	}, {
		name: "duplicate stage name",
		src: `job "j" {
  stage "synthetic" "s" { output = "a" }
  stage "synthetic" "s" { output = "b" }
}`,
		summary: "Duplicate stage name",
		at:      "job.hcl:3:21",
		detail:  `A stage named "s" is already declared at job.hcl:2,3-24`,
	}, {
		name: "two stages write one output",
		src: `job "j" {
  stage "synthetic" "first" { output = "a" }
  stage "synthetic" "second" {
    count  = 2
    output = "a"
  }
}`,
		summary: "Artifact written by two stages",
		at:      "job.hcl:5:14",
		detail:  `Stage "first" already writes "a" (job.hcl:2,40-43)`,
	}, {
		name: "input nobody produces",
		src: `job "j" {
  stage "synthetic" "survey" { output = "cutouts" }
  stage "split" "split" {
    output = "split"
    input  = "cutuots"
  }
}`,
		summary: "Input not produced by any stage",
		at:      "job.hcl:5:14",
		detail:  `Stage "split" reads "cutuots", but no stage in job "j" writes it`,
	}, {
		name: "input nobody produces, in a list",
		src: `job "j" {
  stage "synthetic" "survey" { output = "cutouts" }
  stage "merge" "m" {
    inputs = ["cutouts", "other"]
    output = "merged"
  }
}`,
		summary: "Input not produced by any stage",
		at:      "job.hcl:4:26",
		detail:  `Stage "m" reads "other"`,
	}, {
		name: "cycle",
		src: `job "j" {
  stage "synthetic" "survey" { output = "cutouts" }
  stage "split" "a" {
    input  = "c_out"
    output = "a_out"
  }
  stage "split" "b" {
    input  = "a_out"
    output = "b_out"
  }
  stage "merge" "c" {
    inputs = ["b_out", "cutouts"]
    output = "c_out"
  }
}`,
		summary: "Dependency cycle",
		at:      "job.hcl:3:3",
		detail:  "These stages feed each other in a loop: a -> b -> c -> a.",
	}, {
		name:    "wrong seed type",
		src:     `job "j" { seed = "x" }`,
		summary: "Unsuitable value type",
		at:      "job.hcl:1:19",
		detail:  "a number is required",
	}, {
		name: "unknown job attribute",
		src: `job "j" {
  wokrdir = "x"
}`,
		summary: "Unsupported argument",
		at:      "job.hcl:2:3",
		detail:  `Did you mean "workdir"?`,
	}, {
		name:    "no job",
		src:     "# nothing\n",
		summary: "No job block",
		at:      "job.hcl:1:1",
	}, {
		name:    "two jobs",
		src:     "job \"a\" {\n  stage \"synthetic\" \"s\" { output = \"x\" }\n}\njob \"b\" {}\n",
		summary: "More than one job block",
		at:      "job.hcl:4:1",
	}, {
		name:    "no stages",
		src:     `job "j" { seed = 1 }`,
		summary: "Job has no stages",
		at:      "job.hcl:1:1",
	}, {
		name:    "syntax error",
		src:     "job \"j\" {\n  stage \"synthetic\" \"s\" { output = }\n}\n",
		summary: "Invalid expression",
		at:      "job.hcl:2:36",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Loader{Registry: testRegistry(), Workdir: t.TempDir()}
			job, diags := l.Parse([]byte(tt.src), "job.hcl")
			if job != nil {
				t.Error("a job came back with errors")
			}
			if len(diags) == 0 {
				t.Fatal("no diagnostics")
			}
			d := diags[0]
			if d.Summary != tt.summary || at(d) != tt.at || !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("got  %s: %s: %s\nwant %s: %s: ...%s...", at(d), d.Summary, d.Detail, tt.at, tt.summary, tt.detail)
			}
		})
	}
}

func TestWriteDiagnostics(t *testing.T) {
	src := "job \"j\" {\n\tstage \"synthetc\" \"survey\" {\n\t\toutput = \"cutouts\"\n\t}\n}\n"
	l := &Loader{Registry: testRegistry()}
	_, diags := l.Parse([]byte(src), "job.hcl")
	var b strings.Builder
	if err := l.WriteDiagnostics(&b, diags, false); err != nil {
		t.Fatal(err)
	}
	want := `job.hcl:2:8: error: Unknown stage kind
  2 | 	stage "synthetc" "survey" {
    | 	      ^^^^^^^^^^
  There is no stage kind "synthetc". Did you mean "synthetic"? Known kinds: merge, split, synthetic.
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	if err := l.WriteDiagnostics(&b, diags, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\x1b[1;31merror:\x1b[0m") {
		t.Errorf("colour output lacks a red severity:\n%q", b.String())
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, diags := Load(filepath.Join(t.TempDir(), "absent.hcl"), testRegistry())
	if !diags.HasErrors() || diags[0].Summary != "Cannot read job file" || !strings.Contains(diags[0].Detail, "absent.hcl") {
		t.Errorf("diags = %v", diags)
	}
}

func TestSuggest(t *testing.T) {
	kinds := []string{"galaxy10", "split", "synthetic", "train"}
	for in, want := range map[string]string{
		"synthetc": "synthetic", "spilt": "split", "galaxy_10": "galaxy10", "tran": "train", "predict": "", "x": "",
	} {
		if got := suggest(in, kinds); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAllMistakesAtOnce(t *testing.T) {
	src := `job "j" {
  stage "synthetc" "a" { output = "x" }
  stage "synthetic" "b" { count = "x" }
  stage "synthetic" "b" { output = "y" }
}`
	_, diags := (&Loader{Registry: testRegistry()}).Parse([]byte(src), "job.hcl")
	var got []string
	for _, d := range diags {
		got = append(got, at(d)+" "+d.Summary)
	}
	want := []string{
		"job.hcl:2:9 Unknown stage kind",
		"job.hcl:3:27 Missing required argument",
		"job.hcl:3:36 Unsuitable value type", // inside the quotes
		"job.hcl:4:21 Duplicate stage name",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseReplacesSource(t *testing.T) {
	l := &Loader{Registry: testRegistry(), Workdir: t.TempDir()}
	if _, diags := l.Parse([]byte(`job "j" { seed = "x" }`), "job.hcl"); !diags.HasErrors() {
		t.Fatal("no error for the first source")
	}
	job, diags := l.Parse([]byte(`job "j" {
  stage "synthetic" "s" { output = "x" }
}`), "job.hcl")
	if diags.HasErrors() || job.Name != "j" {
		t.Errorf("second source under the same name: job %v, diags %v", job, diags)
	}
}
