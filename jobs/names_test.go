package jobs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/astroformer/astroformer/pipeline"
)

// sourceStage is a test source reading Path.
type sourceStage struct {
	testStage
	Path string
}

func (s *sourceStage) Sources() []string { return []string{s.Path} }

func TestArtifactNames(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		summary string
		at      string
		detail  string
	}{
		{"workdir itself", `stage "synthetic" "s" { output = "." }`, "Invalid artifact name", "job.hcl:2:36", "the workdir itself"},
		{"workdir, spelled oddly", `stage "synthetic" "s" { output = "a/.." }`, "Invalid artifact name", "job.hcl:2:36", "the workdir itself"},
		{"parent", `stage "synthetic" "s" { output = ".." }`, "Invalid artifact name", "job.hcl:2:36", "leaves the workdir"},
		{"outside", `stage "synthetic" "s" { output = "../victim" }`, "Invalid artifact name", "job.hcl:2:36", "leaves the workdir"},
		{"absolute", `stage "synthetic" "s" { output = "/tmp/x" }`, "Invalid artifact name", "job.hcl:2:36", "absolute path"},
		{"hidden", `stage "synthetic" "s" { output = "a/.b" }`, "Invalid artifact name", "job.hcl:2:36", "starting with '.'"},
		{"input outside", `stage "split" "s" {
    input = "../x"
    output = "b"
  }`, "Invalid artifact name", "job.hcl:3:13", "leaves the workdir"},
		{"aliases", `stage "synthetic" "a" { output = "c" }
  stage "synthetic" "b" { output = "./c" }`, "Artifact written by two stages", "job.hcl:3:36", `Stage "a" already writes "c", the same artifact as "./c" (job.hcl:2,36-39)`},
		{"own input, trailing slash", `stage "split" "b" {
    input  = "c"
    output = "c/"
  }`, "Overlapping artifacts", "job.hcl:4:14", `reads "c" and writes "c/"`},
		{"nested outputs", `stage "synthetic" "a" { output = "c" }
  stage "synthetic" "b" { output = "c/d" }`, "Overlapping artifacts", "job.hcl:2:36", `Output "c" holds "c/d"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "job \"j\" {\n  " + tc.body + "\n}\n"
			_, diags := (&Loader{Registry: testRegistry(), Workdir: t.TempDir()}).Parse([]byte(src), "job.hcl")
			if !diags.HasErrors() {
				t.Fatalf("no error for\n%s", src)
			}
			d := diags[0]
			if d.Summary != tc.summary || at(d) != tc.at || !strings.Contains(d.Detail, tc.detail) {
				t.Errorf("got %q at %s: %s\nwant %q at %s containing %q", d.Summary, at(d), d.Detail, tc.summary, tc.at, tc.detail)
			}
		})
	}
}

func TestCleanAliasesLinkStages(t *testing.T) {
	src := `job "j" {
  stage "synthetic" "a" { output = "./c/" }
  stage "split" "b" {
    input  = "c"
    output = "d"
  }
}`
	job, diags := (&Loader{Registry: testRegistry(), Workdir: t.TempDir()}).Parse([]byte(src), "job.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	order, err := job.Order()
	if err != nil || order[0].Name() != "a" {
		t.Fatalf("order %v, %v: the reader of \"c\" must follow the writer of \"./c/\"", order, err)
	}
}

func TestSourceInsideOutput(t *testing.T) {
	workdir := t.TempDir()
	imgs := filepath.Join(workdir, "imgs")
	if err := os.MkdirAll(imgs, 0o755); err != nil {
		t.Fatal(err)
	}
	reg := testRegistry()
	reg["imagefolder"] = func(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
		var cfg struct {
			Path   string `hcl:"path"`
			Output string `hcl:"output"`
		}
		if diags := gohcl.DecodeBody(body, ctx, &cfg); diags.HasErrors() {
			return nil, diags
		}
		return &sourceStage{testStage{kind: "imagefolder", name: name, cfg: testConfig{Output: cfg.Output}}, cfg.Path}, nil
	}
	for _, tc := range []struct {
		path, output string
		bad          bool
	}{
		{imgs, "imgs", true},
		{filepath.Join(imgs, "sub"), "imgs", true},
		{imgs, "cutouts", false},
		{workdir, "imgs", false}, // the output lies inside the source, which it leaves alone
	} {
		src := "job \"j\" {\n  stage \"imagefolder\" \"i\" {\n    path = \"" + tc.path + "\"\n    output = \"" + tc.output + "\"\n  }\n}\n"
		_, diags := (&Loader{Registry: reg, Workdir: workdir}).Parse([]byte(src), "job.hcl")
		if got := diags.HasErrors(); got != tc.bad {
			t.Errorf("path %s, output %q: error %v, want %v (%v)", tc.path, tc.output, got, tc.bad, diags)
			continue
		}
		if tc.bad && (diags[0].Summary != "Source inside an output" || at(diags[0]) != "job.hcl:3:12") {
			t.Errorf("path %s: got %q at %s", tc.path, diags[0].Summary, at(diags[0]))
		}
	}
}
