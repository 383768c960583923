package table

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/artifact/artifacttest"
	"github.com/astroformer/astroformer/schemas"
)

// chunks returns n records of rows rows each: the input of a resumable run.
func chunks(t *testing.T, schema *arrow.Schema, n, rows int) []arrow.Record {
	recs := make([]arrow.Record, n)
	for i := range recs {
		recs[i] = randomRecord(t, schema, rows, uint64(100+i))
		t.Cleanup(recs[i].Release)
	}
	return recs
}

// runResumable writes the chunks not yet done, ending each with EndPart, and
// stops after stopAfter chunks (with half of the next one written) unless
// stopAfter < 0, in which case it commits.
func runResumable(t *testing.T, dir string, schema *arrow.Schema, fp string, recs []arrow.Record, stopAfter int) (written []int) {
	t.Helper()
	w, err := CreateResumable(dir, schema, Options{RowsPerPart: 70, RowGroupRows: 16, Manifest: testManifest(fp)})
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		key := fmt.Sprintf("chunk-%d", i)
		if w.Done(key) {
			continue
		}
		if len(written) == stopAfter {
			half := rec.NewSlice(0, rec.NumRows()/2)
			defer half.Release()
			if err := w.Write(half); err != nil {
				t.Fatal(err)
			}
			return written // killed: no Commit, no Abort
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.EndPart(key); err != nil {
			t.Fatal(err)
		}
		written = append(written, i)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return written
}

func TestResumableWriter(t *testing.T) {
	schema := schemas.Rejects()
	recs := chunks(t, schema, 6, 50)
	root := t.TempDir()

	straight := filepath.Join(root, "straight")
	runResumable(t, straight, schema, "fp", recs, -1)

	dir := filepath.Join(root, "resumed")
	if got := runResumable(t, dir, schema, "fp", recs, 2); len(got) != 2 {
		t.Fatalf("first run wrote chunks %v", got)
	}
	artifacttest.Abandon(t, dir)
	if _, err := artifact.ReadManifest(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("killed run left a committed table: %v", err)
	}
	if got := runResumable(t, dir, schema, "fp", recs, 1); len(got) != 1 || got[0] != 2 {
		t.Fatalf("second run wrote chunks %v, want [2]", got)
	}
	artifacttest.Abandon(t, dir)
	if got := runResumable(t, dir, schema, "fp", recs, -1); len(got) != 3 || got[0] != 3 {
		t.Fatalf("third run wrote chunks %v, want [3 4 5]", got)
	}

	a, err := Open(straight)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := readAll(t, a, ScanOptions{})
	defer want.Release()
	got := readAll(t, b, ScanOptions{})
	defer got.Release()
	assertSameColumns(t, got, want)
	if b.Rows() != 300 {
		t.Errorf("%d rows, want 300", b.Rows())
	}
	for i, p := range b.Manifest().Parts {
		if p.File != fmt.Sprintf("part-%05d.parquet", i) {
			t.Errorf("part %d is %s", i, p.File)
		}
	}
	if err := Verify(dir); err != nil {
		t.Error(err)
	}
	if matches, _ := filepath.Glob(filepath.Join(root, ".*")); len(matches) != 0 {
		t.Errorf("left behind: %v", matches)
	}
	if _, err := os.Stat(filepath.Join(dir, progressFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("progress file committed")
	}
}

func TestResumableFingerprintChange(t *testing.T) {
	schema := schemas.Rejects()
	recs := chunks(t, schema, 3, 20)
	dir := filepath.Join(t.TempDir(), "t")
	runResumable(t, dir, schema, "old", recs, 2)
	artifacttest.Abandon(t, dir)
	if got := runResumable(t, dir, schema, "new", recs, -1); len(got) != 3 {
		t.Fatalf("a changed fingerprint resumed: wrote chunks %v, want all 3", got)
	}
	tab := openTable(t, dir)
	if tab.Rows() != 60 || tab.Manifest().Fingerprint != "new" {
		t.Errorf("%d rows, fingerprint %s", tab.Rows(), tab.Manifest().Fingerprint)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".t.staging-*")); len(matches) != 0 {
		t.Errorf("old staging left: %v", matches)
	}
}

func TestForgetAndWritten(t *testing.T) {
	schema := schemas.Rejects()
	recs := chunks(t, schema, 3, 40)
	dir := filepath.Join(t.TempDir(), "t")
	w, err := CreateResumable(dir, schema, Options{RowsPerPart: 30, Manifest: testManifest("fp")})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.EndPart(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Forget("1"); err == nil || !strings.Contains(err.Error(), "not the last") {
		t.Errorf("forgetting a middle key: %v", err)
	}
	if err := w.Forget("2"); err != nil {
		t.Fatal(err)
	}
	if w.Done("2") || !w.Done("1") || w.Rows() != 80 || strings.Join(w.Keys(), ",") != "0,1" {
		t.Errorf("after Forget: done(2)=%v rows=%d keys=%v", w.Done("2"), w.Rows(), w.Keys())
	}
	got := readAll(t, w.Written(), ScanOptions{})
	defer got.Release()
	want := concat(t, schema, []arrow.Record{sliceRec(recs[0]), sliceRec(recs[1])})
	defer want.Release()
	assertSameColumns(t, got, want)
}

func TestAbortAndCrashKeepPreviousVersion(t *testing.T) {
	schema := schemas.Rejects()
	recs := chunks(t, schema, 2, 30)
	root := t.TempDir()
	dir := filepath.Join(root, "t")
	writeTable(t, dir, schema, Options{Manifest: testManifest("v1")}, recs[0])

	// Abort leaves nothing behind and the old version in place.
	w, err := Create(dir, schema, Options{Manifest: testManifest("v2")})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(recs[1])
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	// A crashed writer (never committed nor aborted) does not either.
	crashed, err := Create(dir, schema, Options{RowGroupRows: 4, Manifest: testManifest("v3")})
	if err != nil {
		t.Fatal(err)
	}
	crashed.Write(recs[1])
	tab := openTable(t, dir)
	if tab.Manifest().Fingerprint != "v1" || tab.Rows() != 30 {
		t.Errorf("previous version not intact: %s, %d rows", tab.Manifest().Fingerprint, tab.Rows())
	}
	artifacttest.Abandon(t, dir)
	writeTable(t, dir, schema, Options{Manifest: testManifest("v4")}, recs[1])
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("left behind after the next write: %v", entries)
	}
}

func TestResumableAbortKeepsCompletedParts(t *testing.T) {
	schema := schemas.Rejects()
	recs := chunks(t, schema, 2, 50)
	dir := filepath.Join(t.TempDir(), "t")
	opt := Options{Manifest: testManifest("fp")}
	w, err := CreateResumable(dir, schema, opt)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(recs[0])
	if err := w.EndPart("a"); err != nil {
		t.Fatal(err)
	}
	w.Write(recs[1]) // cancelled before EndPart("b")
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	w, err = CreateResumable(dir, schema, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Done("a") || w.Done("b") || w.Rows() != 50 {
		t.Errorf("after Abort: done(a)=%v done(b)=%v rows=%d", w.Done("a"), w.Done("b"), w.Rows())
	}
	w.Write(recs[1])
	w.EndPart("b")
	m, err := w.Commit()
	if err != nil || m.Rows != 100 || len(m.Parts) != 2 {
		t.Fatalf("commit: %+v, %v", m, err)
	}
}

// A part that fails to close (a full disk, here a file closed under the
// writer) is removed from staging at once, not left for the next run.
func TestFailedPartIsRemoved(t *testing.T) {
	schema := schemas.Rejects()
	recs := chunks(t, schema, 2, 50)
	dir := filepath.Join(t.TempDir(), "t")
	w, err := CreateResumable(dir, schema, Options{Manifest: testManifest("fp")})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(recs[0])
	if err := w.EndPart("a"); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs[1]); err != nil {
		t.Fatal(err)
	}
	failing := filepath.Join(w.staging, w.part.name)
	w.part.f.Close()
	if err := w.EndPart("b"); err == nil {
		t.Fatal("EndPart on a failed part succeeded")
	}
	if _, err := os.Stat(failing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the failed part %s stays in staging: %v", filepath.Base(failing), err)
	}
	w.Abort()
	w, err = CreateResumable(dir, schema, Options{Manifest: testManifest("fp")})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if !w.Done("a") || w.Done("b") || w.Rows() != 50 {
		t.Errorf("after the failure: done(a)=%v done(b)=%v rows=%d", w.Done("a"), w.Done("b"), w.Rows())
	}
}
