package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
)

func newSink(t *testing.T, dir string) *ingest.Sink {
	t.Helper()
	s, err := ingest.NewSink(ingest.SinkOptions{
		Cutouts:   filepath.Join(dir, "cutouts"),
		Rejects:   filepath.Join(dir, "rejects"),
		Manifest:  artifact.Manifest{Name: "cutouts", Stage: "test", Kind: "test", Fingerprint: "fp"},
		Resumable: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// item converts item i: every third is rejected.
func item(i int) Result {
	c := ingest.Cutout{ObjectID: fmt.Sprintf("obj-%d", i), Source: "test", Position: fmt.Sprintf("item %d", i)}
	if i%3 == 2 {
		return Result{Cutout: c, Reject: "every third"}
	}
	c.Height, c.Width, c.Channels, c.Pixels, c.Bands = 1, 1, 3, []byte{byte(i), 0, 0}, "rgb"
	return Result{Cutout: c}
}

func ids(t *testing.T, dir string) string {
	rows, _ := sourcetest.Cutouts(t, filepath.Join(dir, "cutouts"))
	var s []string
	for _, r := range rows {
		s = append(s, r.ObjectID)
	}
	return strings.Join(s, ",")
}

func TestIngestOrderAndRejects(t *testing.T) {
	dir := t.TempDir()
	sink := newSink(t, dir)
	var keys []string
	resumed, err := Ingest(context.Background(), sink, 7, Options{Chunk: 3, Workers: 4,
		Key: func(a, b int) string { keys = append(keys, fmt.Sprint(a, b)); return fmt.Sprintf("items %d-%d", a, b) }}, item)
	if err != nil || resumed != 0 {
		t.Fatal(resumed, err)
	}
	if _, err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, dir); got != "obj-0,obj-1,obj-3,obj-4,obj-6" {
		t.Errorf("rows %s", got)
	}
	rej := sourcetest.Rejects(t, filepath.Join(dir, "rejects"))
	if len(rej) != 2 || rej[0].ObjectID != "obj-2" || rej[0].Position != "item 2" || rej[1].Reason != "every third" {
		t.Errorf("rejects %+v", rej)
	}
	if strings.Join(keys, ";") != "0 2;3 5;6 6" {
		t.Errorf("chunks %q", keys)
	}
}

func TestIngestError(t *testing.T) {
	sink := newSink(t, t.TempDir())
	boom := errors.New("boom")
	_, err := Ingest(context.Background(), sink, 5, Options{Chunk: 2}, func(i int) Result {
		if i >= 3 {
			return Result{Err: fmt.Errorf("item %d: %w", i, boom)}
		}
		return item(i)
	})
	if !errors.Is(err, boom) || err.Error() != "item 3: boom" {
		t.Errorf("error %v, want the first in item order", err)
	}
}

// TestIngestResume interrupts a run in its second chunk; the next run keeps
// the first chunk and converts only the rest.
func TestIngestResume(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first := newSink(t, dir)
	_, err := Ingest(ctx, first, 7, Options{Chunk: 3, Workers: 1}, func(i int) Result {
		if i == 3 {
			cancel()
		}
		return item(i)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cutouts")); err == nil {
		t.Fatal("an interrupted run committed the table")
	}
	var converted []int
	second := newSink(t, dir)
	resumed, err := Ingest(context.Background(), second, 7, Options{Chunk: 3, Workers: 1}, func(i int) Result {
		converted = append(converted, i)
		return item(i)
	})
	if err != nil || resumed != 3 {
		t.Fatalf("resumed %d, err %v", resumed, err)
	}
	if _, err := second.Commit(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(converted) != "[3 4 5 6]" {
		t.Errorf("converted %v after resuming", converted)
	}
	if got := ids(t, dir); got != "obj-0,obj-1,obj-3,obj-4,obj-6" {
		t.Errorf("rows %s", got)
	}
}

func TestDigest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "f")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	d1 := Digest(dir)
	if d1 != Digest(dir) {
		t.Error("digest not stable")
	}
	if err := os.WriteFile(path, []byte("12"), 0o644); err != nil {
		t.Fatal(err)
	}
	d2 := Digest(dir)
	if d2 == d1 {
		t.Error("digest unchanged after a file grew")
	}
	if Digest(filepath.Join(dir, "missing")) == Digest(filepath.Join(dir, "other")) {
		t.Error("missing paths give the same digest")
	}
}

func TestPerClass(t *testing.T) {
	counts := map[string]int64{"a": 3, "b": 1, ingest.Unlabelled: 2}
	if got := PerClass(counts, []string{"a", "b", "c"}, ingest.Unlabelled); got != "a 3 · b 1 · unlabelled 2" {
		t.Errorf("PerClass = %q", got)
	}
	names := make([]string, 20)
	for i := range names {
		names[i] = fmt.Sprintf("c%02d", i)
		counts[names[i]] = int64(10 + i)
	}
	if got := PerClass(counts, names); got != "20 classes, 10 (c00) to 29 (c19) rows each" {
		t.Errorf("PerClass of 20 = %q", got)
	}
}

// TestCommitCancelled cancels a run after its last chunk: Commit commits
// nothing, and the next run resumes every chunk and commits.
func TestCommitCancelled(t *testing.T) {
	dir := t.TempDir()
	env := &pipeline.Env{Log: hclog.NewNullLogger(), Workdir: dir}
	ctx, cancel := context.WithCancel(context.Background())
	first := newSink(t, dir)
	if _, err := Ingest(ctx, first, 4, Options{Chunk: 2}, item); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := Commit(ctx, env, first, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled commit: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cutouts")); err == nil {
		t.Fatal("a cancelled run committed the table")
	}
	second := newSink(t, dir)
	resumed, err := Ingest(context.Background(), second, 4, Options{Chunk: 2}, item)
	if err != nil || resumed != 4 {
		t.Fatalf("resumed %d, err %v", resumed, err)
	}
	if sum, err := Commit(context.Background(), env, second, resumed); err != nil || sum.Rows != 3 {
		t.Fatalf("commit: %+v, %v", sum, err)
	}
}
