package modeltest

import (
	"os"
	"path/filepath"
	"testing"
)

// ReferenceWeights returns the path of the reference's PyTorch export of
// GoldenTiny at 64x64 with 10 classes (timm parameter names, no metadata of
// ours), tiny_64x64.weights.safetensors in the folder of the reference test
// vectors: $ASTROFORMER_VECTORS, or ../shared/testdata/astroformer from the
// repository root. It skips the test when the file is absent.
func ReferenceWeights(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ASTROFORMER_VECTORS")
	if dir == "" {
		dir = filepath.Join(repositoryRoot(t), "..", "shared", "testdata", "astroformer")
	}
	path := filepath.Join(dir, "tiny_64x64.weights.safetensors")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no reference weights: %v (set ASTROFORMER_VECTORS to their folder)", err)
	}
	return path
}

// repositoryRoot returns the folder of go.mod above the test's working
// directory, its package's folder.
func repositoryRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}
