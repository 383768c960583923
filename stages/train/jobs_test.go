package train_test

import (
	"path/filepath"
	"testing"

	"github.com/astroformer/astroformer/jobs"
	"github.com/astroformer/astroformer/stages"
	"github.com/astroformer/astroformer/stages/train"
)

// TestJobFiles decodes the job files that train models.
func TestJobFiles(t *testing.T) {
	for _, file := range []string{"galaxy10.hcl", "synthetic-long.hcl"} {
		l := &jobs.Loader{Registry: stages.Registry(), Workdir: t.TempDir()}
		job, diags := l.Load(filepath.Join("..", "..", "jobs", file))
		if diags.HasErrors() {
			t.Errorf("%s: %s", file, diags)
			continue
		}
		found := false
		for _, s := range job.Stages {
			found = found || s.Kind() == train.Kind
		}
		if !found {
			t.Errorf("%s has no train stage", file)
		}
	}
}
