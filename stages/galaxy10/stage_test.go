package galaxy10

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/imageops"
	"github.com/astroformer/astroformer/stages/internal/source"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
)

// expected mirrors testdata/expected.json, written by make_fixtures.py.
type expected struct {
	Files                   []string
	Height, Width, Channels int
	Rows                    []struct {
		Index        int64
		Label        int64
		RA, Dec      *float64
		Redshift     *float64
		Pxscale      float64
		PixelsSHA256 string `json:"pixels_sha256"`
		Reject       *string
	}
}

func loadExpected(t *testing.T) expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func decode(t *testing.T, src string) (pipeline.Stage, hcl.Diagnostics) {
	t.Helper()
	return sourcetest.Decode(t, Decode, src)
}

func mustDecode(t *testing.T, src string) *stage {
	t.Helper()
	return sourcetest.MustDecode(t, Decode, src).(*stage)
}

func newEnv(t *testing.T, dir string, s *stage) *pipeline.Env {
	t.Helper()
	return sourcetest.Env(t, dir, s, nil)
}

func TestDecodeDefaults(t *testing.T) {
	s := mustDecode(t, `
path   = "testdata/g10_default.h5"
output = "cutouts"
`)
	want := params{Files: source.Files{Path: "testdata/g10_default.h5", Tables: source.Tables{Output: "cutouts", Rejects: "cutouts_rejects"}}}
	got := *s.p
	if got.Inputs == "" {
		t.Error("input file digest not recorded")
	}
	got.Inputs = ""
	if got != want {
		t.Errorf("params %+v, want %+v", got, want)
	}
	if s.Kind() != Kind || s.Name() != "src" || len(s.Inputs()) != 0 ||
		strings.Join(s.Outputs(), ",") != "cutouts,cutouts_rejects" {
		t.Errorf("stage %s %s %v %v", s.Kind(), s.Name(), s.Inputs(), s.Outputs())
	}
}

func TestDecodeErrors(t *testing.T) {
	sourcetest.CheckErrors(t, Decode, map[string]string{
		`rejects = "c"`:    "Invalid rejects table",
		`size = 3`:         "Invalid size",
		`limit = -1`:       "Invalid limit",
		`max_rejects = -2`: "Invalid max_rejects",
		`workers = -1`:     "Invalid workers",
		`colour = 1`:       "Unsupported argument",
	})
	if _, diags := decode(t, "path = \"\"\noutput = \"c\""); !diags.HasErrors() || diags[0].Summary != "Empty path" {
		t.Errorf("empty path: diagnostics %v, want %q", diags, "Empty path")
	}
}

func sameFloat(got, want *float64) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	return *got == *want
}

func TestRunFixtures(t *testing.T) {
	e := loadExpected(t)
	names := schemas.Galaxy10Classes()
	for _, file := range e.Files {
		t.Run(file, func(t *testing.T) {
			work := t.TempDir()
			s := mustDecode(t, `path = "testdata/`+file+`"
output = "cutouts"
workers = 3`)
			env := newEnv(t, work, s)
			if err := s.Run(context.Background(), env); err != nil {
				t.Fatal(err)
			}
			rows, meta := sourcetest.Cutouts(t, filepath.Join(work, "cutouts"))
			rejects := map[string]sourcetest.Reject{}
			for _, r := range sourcetest.Rejects(t, filepath.Join(work, "cutouts_rejects")) {
				rejects[r.ObjectID] = r
			}
			next := 0
			for _, r := range e.Rows {
				id := ObjectID(r.Index)
				if r.Reject != nil {
					rej, ok := rejects[id]
					if !ok || !strings.Contains(rej.Reason, *r.Reject) || rej.Source != file ||
						rej.Position != fmt.Sprintf("row %d", r.Index) {
						t.Errorf("%s: reject %+v, want one about %s", id, rej, *r.Reject)
					}
					continue
				}
				if next >= len(rows) {
					t.Fatalf("only %d cutouts", len(rows))
				}
				got := rows[next]
				next++
				scale := r.Pxscale
				switch {
				case got.ObjectID != id:
					t.Errorf("row %d: object_id %s, want %s", next-1, got.ObjectID, id)
				case got.Label == nil || int64(*got.Label) != r.Label || got.LabelName == nil || *got.LabelName != names[r.Label]:
					t.Errorf("%s: label %v %v, want %d %q", id, got.Label, got.LabelName, r.Label, names[r.Label])
				case !sameFloat(got.RA, r.RA) || !sameFloat(got.Dec, r.Dec) || !sameFloat(got.Redshift, r.Redshift):
					t.Errorf("%s: ra %v dec %v redshift %v, want %v %v %v", id, got.RA, got.Dec, got.Redshift, r.RA, r.Dec, r.Redshift)
				case !sameFloat(got.PixelScale, &scale):
					t.Errorf("%s: pixel_scale %v, want %v", id, got.PixelScale, scale)
				case sourcetest.SHA256(got.Pixels) != r.PixelsSHA256:
					t.Errorf("%s: pixels differ", id)
				case got.Height != int32(e.Height) || got.Width != int32(e.Width) || got.Channels != 3:
					t.Errorf("%s: %d×%d×%d", id, got.Height, got.Width, got.Channels)
				case got.Bands != Bands || *got.Survey != Survey || *got.Release != Release || got.Source != file || got.Split != "":
					t.Errorf("%s: bands %q survey %q release %q source %q split %q", id, got.Bands, *got.Survey, *got.Release, got.Source, got.Split)
				}
			}
			if next != len(rows) || len(rejects) != 2 {
				t.Errorf("%d cutouts and %d rejects, want %d and 2", len(rows), len(rejects), next)
			}
			var classes []string
			if err := json.Unmarshal([]byte(meta[MetaClassNames]), &classes); err != nil || !slices.Equal(classes, names) {
				t.Errorf("class names metadata %q (%v)", meta[MetaClassNames], err)
			}
			if meta[MetaFile] != file {
				t.Errorf("file metadata %q", meta[MetaFile])
			}
			if len(env.Summary()) == 0 {
				t.Error("no summary")
			}
		})
	}
}

func TestRunLimitAndSize(t *testing.T) {
	work := t.TempDir()
	s := mustDecode(t, `path = "testdata/g10_tiled.h5"
output = "small"
limit = 4
size = 8`)
	if err := s.Run(context.Background(), newEnv(t, work, s)); err != nil {
		t.Fatal(err)
	}
	rows, _ := sourcetest.Cutouts(t, filepath.Join(work, "small"))
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	f, err := Open("testdata/g10_tiled.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, w, c := f.ImageSize()
	err = f.Images(context.Background(), 0, 4, 1, func(i int64, pix []byte) error {
		want := imageops.ResizeArea(pix, h, w, c, 8, 8)
		got := rows[i]
		if !bytes.Equal(got.Pixels, want) || got.Height != 8 || got.Width != 8 {
			t.Errorf("row %d: resized pixels differ", i)
		}
		if scale := f.Row(i).PixelScale * float64(h) / 8; *got.PixelScale != scale {
			t.Errorf("row %d: pixel_scale %v, want %v", i, *got.PixelScale, scale)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunMaxRejects(t *testing.T) {
	s := mustDecode(t, `path = "testdata/g10_default.h5"
output = "c"
max_rejects = 1`)
	work := t.TempDir()
	err := s.Run(context.Background(), newEnv(t, work, s))
	if err == nil || !strings.Contains(err.Error(), "max_rejects") {
		t.Fatalf("err = %v, want max_rejects exceeded", err)
	}
	if _, err := os.Stat(filepath.Join(work, "c", artifact.ManifestFile)); err == nil {
		t.Error("table committed despite the error")
	}
}

// copyFixture copies a fixture into dir, passing its bytes through edit.
func copyFixture(t *testing.T, dir, name string, edit func([]byte) []byte) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunTruncatedFile(t *testing.T) {
	dir := t.TempDir()
	path := copyFixture(t, dir, "g10_default.h5", func(b []byte) []byte { return b[:len(b)*2/3] })
	s := mustDecode(t, `path = "`+path+`"
output = "c"`)
	err := s.Run(context.Background(), newEnv(t, dir, s))
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("err = %v, want one naming %s as truncated", err, path)
	}
}

// corruptChunk returns a copy of the default fixture whose image chunk of
// row is damaged.
func corruptChunk(t *testing.T, dir string, row int64) string {
	// The default fixture has one chunk per image; find row's with the
	// reader and damage its middle.
	f, err := Open("testdata/g10_default.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	addr, size, err := f.images.ChunkLocation(uint64(row))
	if err != nil {
		t.Fatal(err)
	}
	return copyFixture(t, dir, "g10_default.h5", func(b []byte) []byte {
		for i := addr + size/2; i < addr+size/2+16; i++ {
			b[i] ^= 0x5a
		}
		return b
	})
}

func TestRunCorruptChunk(t *testing.T) {
	dir := t.TempDir()
	path := corruptChunk(t, dir, 6)
	s := mustDecode(t, `path = "`+path+`"
output = "c"`)
	err := s.Run(context.Background(), newEnv(t, dir, s))
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "images chunk at (6, 0, 0, 0)") {
		t.Fatalf("err = %v, want one naming %s and the chunk of row 6", err, path)
	}
}

func TestRunResumesAfterFailure(t *testing.T) {
	e := loadExpected(t)
	dir := t.TempDir()
	path := corruptChunk(t, dir, 6)
	s := mustDecode(t, `path = "`+path+`"
output = "c"`)
	env := newEnv(t, dir, s)
	if err := runChunks(s, env, 4); err == nil {
		t.Fatal("corrupt file read")
	}
	// Rows 0-3 were committed as a part; mend the file and run again.
	copyFixture(t, dir, "g10_default.h5", func(b []byte) []byte { return b })
	var logs strings.Builder
	env = sourcetest.Env(t, dir, s, hclog.New(&hclog.LoggerOptions{Output: &logs}))
	if err := runChunks(s, env, 4); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "resumed") {
		t.Errorf("no resumption logged: %s", logs.String())
	}
	rows, _ := sourcetest.Cutouts(t, filepath.Join(dir, "c"))
	if len(rows) != 10 {
		t.Fatalf("%d rows after resuming, want 10", len(rows))
	}
	for _, r := range rows {
		var i int64
		if _, err := fmt.Sscanf(r.ObjectID, "G10-%d", &i); err != nil || i >= int64(len(e.Rows)) {
			t.Fatalf("object_id %q", r.ObjectID)
		}
		if sourcetest.SHA256(r.Pixels) != e.Rows[i].PixelsSHA256 {
			t.Errorf("%s: pixels differ after resuming", r.ObjectID)
		}
	}
}

// runChunks runs s with parts of n rows.
func runChunks(s *stage, env *pipeline.Env, n int64) error {
	s.chunkRows = n
	defer func() { s.chunkRows = 0 }()
	return s.Run(context.Background(), env)
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := mustDecode(t, `path = "testdata/g10_default.h5"
output = "c"`)
	dir := t.TempDir()
	if err := s.Run(ctx, newEnv(t, dir, s)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c", artifact.ManifestFile)); err == nil {
		t.Error("table committed despite cancellation")
	}
}

func TestImagesOrderAndStop(t *testing.T) {
	e := loadExpected(t)
	f, err := Open("testdata/g10_tiled.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stop := errors.New("stop")
	var seen []int64
	err = f.Images(context.Background(), 2, 9, 4, func(i int64, pix []byte) error {
		seen = append(seen, i)
		if sourcetest.SHA256(pix) != e.Rows[i].PixelsSHA256 {
			t.Errorf("row %d: pixels differ", i)
		}
		if i == 8 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the callback's", err)
	}
	if len(seen) != 7 || seen[0] != 2 || seen[6] != 8 {
		t.Fatalf("rows seen %v, want 2 to 8 in order", seen)
	}
	if err := f.Images(context.Background(), 10, 3, 1, nil); err == nil {
		t.Error("rows beyond the end accepted")
	}
}

func TestObjectID(t *testing.T) {
	if got := ObjectID(17735); got != "G10-17735" {
		t.Errorf("ObjectID(17735) = %s", got)
	}
	if got := ObjectID(7); got != "G10-00007" {
		t.Errorf("ObjectID(7) = %s", got)
	}
}
