package artifact

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommitRefusesForeignFolder(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "imgs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "galaxy.png"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	var foreign *ForeignError
	if _, err := Stage(dir); !errors.As(err, &foreign) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Stage over a foreign folder: got %v, want a *ForeignError naming %s", err, dir)
	}
	if _, _, err := StageResumable(dir, "k"); !errors.As(err, &foreign) {
		t.Fatalf("StageResumable over a foreign folder: got %v, want a *ForeignError", err)
	}

	// A folder that appears while the stage works is refused at Commit.
	other := filepath.Join(parent, "late")
	staging, err := Stage(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(staging, manifest("fp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, other); err != nil {
		t.Fatal(err)
	}
	if err := Commit(staging, other); !errors.As(err, &foreign) {
		t.Fatalf("Commit over a foreign folder: got %v, want a *ForeignError", err)
	}
	if data, err := os.ReadFile(filepath.Join(other, "galaxy.png")); err != nil || string(data) != "precious" {
		t.Fatalf("the foreign folder was touched: %q, %v", data, err)
	}
}

func TestReplaceable(t *testing.T) {
	parent := t.TempDir()
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	file := filepath.Join(parent, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	link := filepath.Join(parent, "link")
	os.Symlink(empty, link)
	broken := filepath.Join(parent, "broken")
	os.Mkdir(broken, 0o755)
	os.WriteFile(filepath.Join(broken, ManifestFile), []byte("{not json"), 0o644)
	ours := filepath.Join(parent, "ours")
	write(t, ours, "data", "fp")

	for _, tc := range []struct {
		dir  string
		want bool
	}{
		{filepath.Join(parent, "absent"), true}, {empty, true}, {ours, true},
		{file, false}, {link, false}, {broken, false},
	} {
		err := Replaceable(tc.dir)
		var foreign *ForeignError
		if tc.want && err != nil || !tc.want && !errors.As(err, &foreign) {
			t.Errorf("Replaceable(%s) = %v, want replaceable %v", filepath.Base(tc.dir), err, tc.want)
		}
	}
}

func TestCheckFindsDamage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "model")
	staging, err := Stage(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(staging, "sub"), 0o755)
	os.WriteFile(filepath.Join(staging, "weights"), []byte("0123456789"), 0o644)
	os.WriteFile(filepath.Join(staging, "sub", "plot.png"), []byte("png"), 0o644)
	m := manifest("fp")
	m.Parts, m.Rows = nil, 0
	if err := WriteManifest(staging, m); err != nil {
		t.Fatal(err)
	}
	if err := Commit(staging, dir); err != nil {
		t.Fatal(err)
	}
	got, err := Check(dir)
	if err != nil {
		t.Fatalf("Check of an intact folder: %v", err)
	}
	if len(got.Files) != 2 || got.Files[0].Name != "sub/plot.png" || got.Files[1] != (File{Name: "weights", Bytes: 10}) {
		t.Fatalf("files recorded: %+v", got.Files)
	}

	var damaged *DamagedError
	os.WriteFile(filepath.Join(dir, "weights"), []byte("01234"), 0o644)
	if _, err := Check(dir); !errors.As(err, &damaged) || damaged.File != "weights" {
		t.Fatalf("truncated file: got %v, want a *DamagedError for weights", err)
	}
	os.WriteFile(filepath.Join(dir, "weights"), []byte("0123456789"), 0o644)
	os.Remove(filepath.Join(dir, "sub", "plot.png"))
	if _, err := Check(dir); !errors.As(err, &damaged) || damaged.File != "sub/plot.png" {
		t.Fatalf("removed file: got %v, want a *DamagedError for sub/plot.png", err)
	}
}

func TestEditedManifestIsDamaged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cutouts")
	write(t, dir, "data", "fp")
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `"sha256": "ab"`, `"sha256": "cd"`, 1)
	if edited == string(data) {
		t.Fatal("test manifest has no checksum to edit")
	}
	os.WriteFile(path, []byte(edited), 0o644)
	var damaged *DamagedError
	if _, err := ReadManifest(dir); !errors.As(err, &damaged) || damaged.File != ManifestFile {
		t.Fatalf("edited checksum: got %v, want a *DamagedError for the manifest", err)
	}
	if err := Replaceable(dir); err != nil {
		t.Fatalf("a damaged artifact of ours must be rebuilt in place: %v", err)
	}
}
