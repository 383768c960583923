// Package artifacttest helps tests that stop a writer of artifacts as a
// crash would.
package artifacttest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Abandon makes the staging folders of the artifacts dirs look like they
// belong to a process that has exited, as after a crash, so that the next
// writer of a dir removes or resumes them. The process is a run of the test
// binary that runs no test.
func Abandon(t testing.TB, dirs ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	// The staging folder's owner file, as package artifact writes it.
	data, err := json.Marshal(map[string]any{"pid": cmd.Process.Pid, "host": host})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		matches, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".staging-*"))
		for _, m := range matches {
			if err := os.WriteFile(filepath.Join(m, ".owner"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
