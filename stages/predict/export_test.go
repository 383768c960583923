package predict

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/export"
)

// TestStageExports checks that format writes the copies of the catalog into
// the export folder, and the diagnostics of format and export.
func TestStageExports(t *testing.T) {
	dir, _ := stageFixture(t, 12, 16, BestCheckpoint, 1)
	s := decodeStage(t, catalogBlock+`
		format = ["fits", "VOTable", "csv"]
		workers = 1
	`)
	if !slices.Equal(s.Outputs(), []string{"catalog", "catalog_export"}) {
		t.Fatalf("outputs %v", s.Outputs())
	}
	runStage(t, dir, s)
	m, err := artifact.ReadManifest(filepath.Join(dir, "catalog_export"))
	if err != nil || m.Format != export.FolderFormat || m.Rows != 12 {
		t.Fatalf("export manifest %+v: %v", m, err)
	}
	for _, name := range []string{"catalog.fits", "catalog.vot", "catalog.csv"} {
		if info, err := os.Stat(filepath.Join(dir, "catalog_export", name)); err != nil || info.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, c := range []struct{ src, want string }{
		{`format = ["hdf5"]`, "Invalid format"},
		{`format = ["csv", "CSV"]`, "Duplicate format"},
		{`format = []`, "Empty format"},
		{`export = "x"`, "export without format"},
		{"format = [\"csv\"]\nexport = \"c\"", "Invalid export"},
	} {
		_, diags := decode(t, "input = \"c\"\noutput = \"o\"\nmodel = \"m\"\n"+c.src)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
			t.Errorf("%s: diagnostics %v, want %q", c.src, diags, c.want)
		}
	}
}
