package artifact

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLinkOrCopy(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(src, []byte("weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := LinkOrCopy(src, dst); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(dst); err != nil || string(data) != "weights" {
		t.Errorf("dst holds %q (%v), want the source's bytes", data, err)
	}
	if err := LinkOrCopy(src, dst); err == nil {
		t.Error("an existing dst was replaced")
	}
	if err := LinkOrCopy(filepath.Join(dir, "absent"), filepath.Join(dir, "c")); err == nil {
		t.Error("a missing src gave no error")
	}
}
