package jobs_test

import (
	"fmt"
	"os"

	"github.com/astroformer/astroformer/jobs"
	"github.com/astroformer/astroformer/stages"
)

// Every mistake in a job file is found before any work starts, and printed
// with its file, line and column, the offending line and a caret.
func ExampleLoader_Parse() {
	src := []byte(`job "survey" {
  workdir = "runs/survey"
  stage "synthetic" "survey" {
    output = "cutouts"
    count  = 3000
  }
  stage "train" "train" {
    input  = "cutouts"
    output = "model"
    epochs = 0
  }
}
`)
	l := &jobs.Loader{Registry: stages.Registry()}
	job, diags := l.Parse(src, "survey.hcl")
	fmt.Println("job decoded:", job != nil && !diags.HasErrors())
	l.WriteDiagnostics(os.Stdout, diags, false)
	// Output:
	// job decoded: false
	// survey.hcl:10:5: error: Invalid epochs
	//   10 |     epochs = 0
	//      |     ^^^^^^^^^^
	//   epochs is 0; want at least 1 epoch.
}
