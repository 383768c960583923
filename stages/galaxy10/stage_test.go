package galaxy10

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/imageops"
	"github.com/astroformer/astroformer/table"
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
	f, diags := hclsyntax.ParseConfig([]byte(src), "job.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return Decode("g10", f.Body, nil)
}

func mustDecode(t *testing.T, src string) *stage {
	t.Helper()
	s, diags := decode(t, src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return s.(*stage)
}

func TestDecodeDefaults(t *testing.T) {
	s := mustDecode(t, `
path   = "testdata/g10_default.h5"
output = "cutouts"
`)
	want := params{Path: "testdata/g10_default.h5", Output: "cutouts", Rejects: "cutouts_rejects"}
	got := s.p
	if got.FileBytes <= 0 || got.FileMTime == "" {
		t.Errorf("file identity not recorded: %+v", got)
	}
	got.FileBytes, got.FileMTime = 0, ""
	if got != want {
		t.Errorf("params %+v, want %+v", got, want)
	}
	if s.Kind() != Kind || s.Name() != "g10" || len(s.Inputs()) != 0 ||
		strings.Join(s.Outputs(), ",") != "cutouts,cutouts_rejects" {
		t.Errorf("stage %s %s %v %v", s.Kind(), s.Name(), s.Inputs(), s.Outputs())
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct{ src, summary string }{
		{`output = "c"`, "Missing required argument"},
		{`path = ""` + "\n" + `output = "c"`, "Empty path"},
		{`path = "x"` + "\n" + `output = "c"` + "\n" + `rejects = "c"`, "Invalid rejects table"},
		{`path = "x"` + "\n" + `output = "c"` + "\n" + `size = 3`, "Invalid size"},
		{`path = "x"` + "\n" + `output = "c"` + "\n" + `limit = -1`, "Invalid limit"},
		{`path = "x"` + "\n" + `output = "c"` + "\n" + `max_rejects = -2`, "Invalid max_rejects"},
		{`path = "x"` + "\n" + `output = "c"` + "\n" + `workers = -1`, "Invalid workers"},
		{`path = "x"` + "\n" + `output = "c"` + "\n" + `colour = 1`, "Unsupported argument"},
	} {
		_, diags := decode(t, c.src)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), c.summary) {
			t.Errorf("%q: diagnostics %v, want %q", c.src, diags, c.summary)
		}
	}
}

func newEnv(t *testing.T, workdir string) *pipeline.Env {
	return &pipeline.Env{
		Log:         hclog.NewNullLogger(),
		Workdir:     workdir,
		Fingerprint: "test-fingerprint",
		Stage:       "g10",
		Kind:        Kind,
		Producer:    "test",
	}
}

// row is what a test reads back from a cutouts table.
type row struct {
	objectID, labelName, bands, source, survey, release string
	label                                               int16
	ra, dec, redshift, pixelScale                       *float64
	h, w, c                                             int32
	pixels                                              []byte
}

func readCutouts(t *testing.T, dir string) []row {
	t.Helper()
	tab, err := table.OpenAs(dir, schemas.Cutouts())
	if err != nil {
		t.Fatal(err)
	}
	sc := tab.Scan(context.Background(), table.ScanOptions{})
	defer sc.Close()
	var rows []row
	f64 := func(a *array.Float64, i int) *float64 {
		if a.IsNull(i) {
			return nil
		}
		v := a.Value(i)
		return &v
	}
	for sc.Next() {
		rec := sc.Record()
		col := func(name string) int {
			idx := rec.Schema().FieldIndices(name)
			if len(idx) != 1 {
				t.Fatalf("no column %s", name)
			}
			return idx[0]
		}
		str := func(name string, i int) string { return rec.Column(col(name)).(*array.String).Value(i) }
		flt := func(name string, i int) *float64 { return f64(rec.Column(col(name)).(*array.Float64), i) }
		i32 := func(name string, i int) int32 { return rec.Column(col(name)).(*array.Int32).Value(i) }
		for i := range int(rec.NumRows()) {
			rows = append(rows, row{
				objectID: str("object_id", i), labelName: str("label_name", i),
				bands: str("bands", i), source: str("source", i),
				survey: str("survey", i), release: str("release", i),
				label: rec.Column(col("label")).(*array.Int16).Value(i),
				ra:    flt("ra", i), dec: flt("dec", i), redshift: flt("redshift", i), pixelScale: flt("pixel_scale", i),
				h: i32("height", i), w: i32("width", i), c: i32("channels", i),
				pixels: append([]byte(nil), rec.Column(col("pixels")).(*array.Binary).Value(i)...),
			})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// rejects returns object_id -> reason of a rejects table.
func readRejects(t *testing.T, dir string) map[string]string {
	t.Helper()
	tab, err := table.OpenAs(dir, schemas.Rejects())
	if err != nil {
		t.Fatal(err)
	}
	sc := tab.Scan(context.Background(), table.ScanOptions{Columns: []string{"object_id", "reason", "position"}})
	defer sc.Close()
	out := map[string]string{}
	for sc.Next() {
		rec := sc.Record()
		ids := rec.Column(0).(*array.String)
		reasons := rec.Column(1).(*array.String)
		positions := rec.Column(2).(*array.String)
		for i := range ids.Len() {
			out[ids.Value(i)] = positions.Value(i) + ": " + reasons.Value(i)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
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
			env := newEnv(t, work)
			if err := s.Run(context.Background(), env); err != nil {
				t.Fatal(err)
			}
			rows := readCutouts(t, filepath.Join(work, "cutouts"))
			rejects := readRejects(t, filepath.Join(work, "cutouts_rejects"))
			next := 0
			for _, r := range e.Rows {
				id := ObjectID(r.Index)
				if r.Reject != nil {
					if reason, ok := rejects[id]; !ok || !strings.Contains(reason, *r.Reject) {
						t.Errorf("%s: rejects say %q, want a reason about %s", id, reason, *r.Reject)
					}
					continue
				}
				if next >= len(rows) {
					t.Fatalf("only %d cutouts", len(rows))
				}
				got := rows[next]
				next++
				sum := sha256.Sum256(got.pixels)
				scale := r.Pxscale
				switch {
				case got.objectID != id:
					t.Errorf("row %d: object_id %s, want %s", next-1, got.objectID, id)
				case got.label != int16(r.Label) || got.labelName != names[r.Label]:
					t.Errorf("%s: label %d %q, want %d %q", id, got.label, got.labelName, r.Label, names[r.Label])
				case !sameFloat(got.ra, r.RA) || !sameFloat(got.dec, r.Dec) || !sameFloat(got.redshift, r.Redshift):
					t.Errorf("%s: ra %v dec %v redshift %v, want %v %v %v", id, got.ra, got.dec, got.redshift, r.RA, r.Dec, r.Redshift)
				case !sameFloat(got.pixelScale, &scale):
					t.Errorf("%s: pixel_scale %v, want %v", id, got.pixelScale, scale)
				case hex.EncodeToString(sum[:]) != r.PixelsSHA256:
					t.Errorf("%s: pixels differ", id)
				case got.h != int32(e.Height) || got.w != int32(e.Width) || got.c != 3:
					t.Errorf("%s: %d×%d×%d", id, got.h, got.w, got.c)
				case got.bands != Bands || got.survey != Survey || got.release != Release || got.source != file:
					t.Errorf("%s: bands %q survey %q release %q source %q", id, got.bands, got.survey, got.release, got.source)
				}
			}
			if next != len(rows) || len(rejects) != 2 {
				t.Errorf("%d cutouts and %d rejects, want %d and 2", len(rows), len(rejects), next)
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
	if err := s.Run(context.Background(), newEnv(t, work)); err != nil {
		t.Fatal(err)
	}
	rows := readCutouts(t, filepath.Join(work, "small"))
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
		if string(got.pixels) != string(want) || got.h != 8 || got.w != 8 {
			t.Errorf("row %d: resized pixels differ", i)
		}
		if scale := f.Row(i).PixelScale * float64(h) / 8; *got.pixelScale != scale {
			t.Errorf("row %d: pixel_scale %v, want %v", i, *got.pixelScale, scale)
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
	err := s.Run(context.Background(), newEnv(t, work))
	if err == nil || !strings.Contains(err.Error(), "max_rejects") {
		t.Fatalf("err = %v, want max_rejects exceeded", err)
	}
	if _, err := os.Stat(filepath.Join(work, "c", "manifest.json")); err == nil {
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
	err := s.Run(context.Background(), newEnv(t, dir))
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
	err := s.Run(context.Background(), newEnv(t, dir))
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
	env := newEnv(t, dir)
	if err := runChunks(s, env, 4); err == nil {
		t.Fatal("corrupt file read")
	}
	// Rows 0-3 were committed as a part; mend the file and run again.
	copyFixture(t, dir, "g10_default.h5", func(b []byte) []byte { return b })
	var logs strings.Builder
	env = newEnv(t, dir)
	env.Log = hclog.New(&hclog.LoggerOptions{Output: &logs})
	if err := runChunks(s, env, 4); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "resumed") {
		t.Errorf("no resumption logged: %s", logs.String())
	}
	rows := readCutouts(t, filepath.Join(dir, "c"))
	if len(rows) != 10 {
		t.Fatalf("%d rows after resuming, want 10", len(rows))
	}
	for _, r := range rows {
		var i int64
		for i = range int64(len(e.Rows)) {
			if ObjectID(i) == r.objectID {
				break
			}
		}
		sum := sha256.Sum256(r.pixels)
		if hex.EncodeToString(sum[:]) != e.Rows[i].PixelsSHA256 {
			t.Errorf("%s: pixels differ after resuming", r.objectID)
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
	if err := s.Run(ctx, newEnv(t, dir)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c", "manifest.json")); err == nil {
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
		sum := sha256.Sum256(pix)
		if hex.EncodeToString(sum[:]) != e.Rows[i].PixelsSHA256 {
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
