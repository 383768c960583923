package loader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/table/tabletest"

	"github.com/astroformer/astroformer/policy"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/train/internal/fixture"
	"github.com/astroformer/astroformer/table"
)

// openCutouts opens the cutouts table in dir or stops the test.
func openCutouts(t *testing.T, dir string) *table.Table {
	t.Helper()
	tab, err := table.OpenAs(dir, schemas.Cutouts())
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// open writes a fixture table of 3 parts and indexes it.
func open(t *testing.T) (*table.Table, *Dataset, []fixture.Row) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cutouts")
	rows := fixture.Cutouts(t, dir, fixture.Options{Train: 60, Val: 12, Test: 6, Size: 8, RowsPerPart: 30})
	tab := openCutouts(t, dir)
	if tab.NumParts() != 3 {
		t.Fatalf("fixture has %d parts, want 3", tab.NumParts())
	}
	ds, err := ReadIndex(context.Background(), tab, schemas.SplitTrain, schemas.SplitVal)
	if err != nil {
		t.Fatal(err)
	}
	return tab, ds, rows
}

func TestReadIndex(t *testing.T) {
	_, ds, rows := open(t)
	if !slices.Equal(ds.ClassNames, fixture.ClassNames()) || ds.Channels != 3 {
		t.Errorf("class names %q, channels %d", ds.ClassNames, ds.Channels)
	}
	for _, split := range []string{schemas.SplitTrain, schemas.SplitVal} {
		ix := ds.Splits[split]
		var want []int
		for i, r := range rows {
			if r.Split == split {
				want = append(want, i)
			}
		}
		if ix.Len() != len(want) {
			t.Fatalf("%s: %d rows, want %d", split, ix.Len(), len(want))
		}
		for k, i := range want {
			if got := int(ix.Part[k])*30 + int(ix.Pos[k]); got != i || ix.Labels[k] != rows[i].Label {
				t.Errorf("%s row %d: table row %d label %d, want row %d label %d", split, k, got, ix.Labels[k], i, rows[i].Label)
			}
		}
	}
	if c := ds.Splits[schemas.SplitTrain].Counts(3); !slices.Equal(c, []int64{20, 20, 20}) {
		t.Errorf("train class counts %v, want 20 each", c)
	}
}

// collect runs a loader over cfg and returns the index rows it delivered,
// in order, and the batch indexes.
func collect(t *testing.T, cfg Config) (rows, batches []int) {
	t.Helper()
	if cfg.Prepare == nil {
		cfg.Prepare = func(dst []float32, img policy.Image, _ int) error { copy(dst, img.Pix); return nil }
	}
	l, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for b, ok := l.Next(); ok; b, ok = l.Next() {
		rows = append(rows, b.Rows...)
		batches = append(batches, b.Index)
		for i, d := range b.Draws {
			if d != b.Index*cfg.BatchSize+i {
				t.Errorf("batch %d sample %d has draw %d", b.Index, i, d)
			}
		}
		l.Release(b)
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	return rows, batches
}

func TestOrder(t *testing.T) {
	tab, ds, _ := open(t)
	train := ds.Splits[schemas.SplitTrain]
	base := Config{Table: tab, Index: train, BatchSize: 7, C: 3, H: 8, W: 8, Seed: 5, Epoch: 2, Window: 16}

	rows, batches := collect(t, base)
	if len(rows) != train.Len() || len(batches) != 9 {
		t.Fatalf("%d rows in %d batches, want %d in 9", len(rows), len(batches), train.Len())
	}
	if sorted := slices.Sorted(slices.Values(rows)); !slices.Equal(sorted, seq(train.Len())) {
		t.Errorf("an epoch does not draw every row once: %v", sorted)
	}
	if slices.Equal(rows, seq(train.Len())) {
		t.Error("a shuffled epoch is in table order")
	}

	workers := base
	workers.Workers, workers.Prefetch = 3, 1
	if got, _ := collect(t, workers); !slices.Equal(got, rows) {
		t.Errorf("3 workers drew %v, 1 worker %v", got, rows)
	}
	other := base
	other.Epoch = 3
	if got, _ := collect(t, other); slices.Equal(got, rows) {
		t.Error("epochs 2 and 3 have the same order")
	}
	whole := base
	whole.Window = 1000 // the split fits: an exact shuffle
	if got, _ := collect(t, whole); slices.Equal(got, rows) || len(got) != len(rows) {
		t.Error("a window holding the whole split gives the order of a 16-sample window")
	}
	plain := base
	plain.Window = 0
	if got, _ := collect(t, plain); !slices.Equal(got, seq(train.Len())) {
		t.Errorf("window 0 drew %v, want table order", got)
	}

	skip := base
	skip.Skip, skip.Batches = 3, 8
	got, idx := collect(t, skip)
	if !slices.Equal(got, rows[21:56]) || !slices.Equal(idx, []int{3, 4, 5, 6, 7}) {
		t.Errorf("skip 3 of 8 batches: rows %v (batches %v), want %v", got, idx, rows[21:56])
	}

	counts := make([]int, train.Len())
	counts[0], counts[5], counts[59] = 3, 1, 2
	repeat := base
	repeat.Counts = counts
	got, _ = collect(t, repeat)
	slices.Sort(got)
	if want := []int{0, 0, 0, 5, 59, 59}; !slices.Equal(got, want) {
		t.Errorf("counts drew %v, want %v", got, want)
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// TestPrefetchBounded checks that a slow consumer holds the loader back:
// samples are prepared at most a bounded number of batches ahead.
func TestPrefetchBounded(t *testing.T) {
	tab, ds, _ := open(t)
	const batch, workers, prefetch = 4, 2, 2
	var prepared atomic.Int64
	cfg := Config{Table: tab, Index: ds.Splits[schemas.SplitTrain], BatchSize: batch, C: 3, H: 8, W: 8, Window: 8,
		Workers: workers, Prefetch: prefetch,
		Prepare: func([]float32, policy.Image, int) error { prepared.Add(1); return nil }}
	l, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bound := int64((prefetch + workers + 2) * batch)
	consumed, ahead := int64(0), int64(0)
	for b, ok := l.Next(); ok; b, ok = l.Next() {
		time.Sleep(2 * time.Millisecond)
		ahead = max(ahead, prepared.Load()-consumed)
		consumed += int64(b.N)
		l.Release(b)
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	if ahead > bound || l.allocated > prefetch+workers+2 {
		t.Errorf("prepared up to %d samples ahead with %d batches allocated; bound %d samples, %d batches",
			ahead, l.allocated, bound, prefetch+workers+2)
	}
	if consumed != 60 || l.Wait() <= 0 {
		t.Errorf("consumed %d samples, waited %v", consumed, l.Wait())
	}
}

// TestColumnProjection corrupts the object_id column of every part: a full
// scan fails, the loader, which does not read it, does not notice.
func TestColumnProjection(t *testing.T) {
	tab, _, _ := open(t)
	for _, p := range tab.Manifest().Parts {
		corruptColumn(t, filepath.Join(tab.Dir(), p.File), "object_id")
	}
	sc := tab.Scan(context.Background(), table.ScanOptions{})
	for sc.Next() {
	}
	if sc.Err() == nil {
		t.Fatal("a full scan of the corrupted table succeeded: the test corrupts nothing")
	}
	sc.Close()

	ds, err := ReadIndex(context.Background(), tab, schemas.SplitTrain)
	if err != nil {
		t.Fatalf("indexing reads a column it does not need: %v", err)
	}
	rows, _ := collect(t, Config{Table: tab, Index: ds.Splits[schemas.SplitTrain], BatchSize: 8, C: 3, H: 8, W: 8, Window: 8})
	if len(rows) != 60 {
		t.Errorf("loaded %d rows, want 60", len(rows))
	}
	for _, c := range Columns() {
		if c == "object_id" || c == "raw" {
			t.Errorf("Columns() includes %q", c)
		}
	}
}

// corruptColumn overwrites the pages of a column in every row group of a
// Parquet file with garbage, keeping the file's size.
func corruptColumn(t *testing.T, path, column string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(strings.NewReader(string(data)), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	leaf, ok := f.Schema().Lookup(column)
	if !ok {
		t.Fatalf("%s: no column %s", path, column)
	}
	for _, rg := range f.Metadata().RowGroups {
		md := rg.Columns[leaf.ColumnIndex].MetaData
		start := md.DataPageOffset
		if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < start {
			start = md.DictionaryPageOffset
		}
		for i := start; i < start+md.TotalCompressedSize; i++ {
			data[i] = 0xff
		}
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	tab, ds, _ := open(t)
	cfg := Config{Table: tab, Index: ds.Splits[schemas.SplitTrain], BatchSize: 4, C: 3, H: 8, W: 8, Window: 8, Workers: 2,
		Prepare: func(_ []float32, _ policy.Image, draw int) error {
			if draw == 13 {
				return errors.New("bad sample")
			}
			return nil
		}}
	l, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for b, ok := l.Next(); ok; b, ok = l.Next() {
		l.Release(b)
	}
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), "draw 13") || !strings.Contains(err.Error(), "bad sample") {
		t.Errorf("Err() = %v, want the Prepare error naming draw 13", err)
	}
	l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cfg.Prepare = func([]float32, policy.Image, int) error { return nil }
	l, err = Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := l.Next()
	l.Release(b)
	cancel()
	for b, ok := l.Next(); ok; b, ok = l.Next() {
		l.Release(b)
	}
	if err := l.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel, Err() = %v", err)
	}
	l.Close()

	bad := cfg
	bad.C = 1
	l, err = Start(context.Background(), bad)
	if err != nil {
		t.Fatal(err)
	}
	for b, ok := l.Next(); ok; b, ok = l.Next() {
		l.Release(b)
	}
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), "3 channels, the model takes 1") {
		t.Errorf("channel mismatch: Err() = %v", err)
	}
	l.Close()
}

// TestClassSortedTable checks the shuffle on a table whose rows are sorted
// by class, as Galaxy10 DECaLS ships them and folder-per-class sources read
// them: row groups are visited in random order, so a window much smaller
// than a class still mixes classes in every batch.
func TestClassSortedTable(t *testing.T) {
	const classes, perClass = 8, 64
	dir := filepath.Join(t.TempDir(), "sorted")
	b := array.NewRecordBuilder(memory.DefaultAllocator, schemas.Cutouts())
	defer b.Release()
	for r := range classes * perClass {
		for j, f := range b.Schema().Fields() {
			switch f.Name {
			case "object_id":
				b.Field(j).(*array.StringBuilder).Append(fmt.Sprintf("S-%04d", r))
			case "label":
				b.Field(j).(*array.Int16Builder).Append(int16(r / perClass))
			case "label_name":
				b.Field(j).(*array.StringBuilder).Append(fmt.Sprintf("class %d", r/perClass))
			case "split":
				b.Field(j).(*array.StringBuilder).Append(schemas.SplitTrain)
			case "height", "width":
				b.Field(j).(*array.Int32Builder).Append(2)
			case "channels":
				b.Field(j).(*array.Int32Builder).Append(3)
			case "pixels":
				b.Field(j).(*array.BinaryBuilder).Append(make([]byte, 12))
			case "bands", "source":
				b.Field(j).(*array.StringBuilder).Append("x")
			default:
				b.Field(j).AppendNull()
			}
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	tabletest.Write(t, dir, schemas.Cutouts(), table.Options{RowGroupRows: 4, RowsPerPart: 128,
		Manifest: artifact.Manifest{Name: "sorted", Fingerprint: "sorted"}}, rec)
	tab := openCutouts(t, dir)
	ds, err := ReadIndex(context.Background(), tab, schemas.SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	train := ds.Splits[schemas.SplitTrain]
	rows, _ := collect(t, Config{Table: tab, Index: train, BatchSize: 16, C: 3, H: 2, W: 2, Seed: 1, Window: 32})
	if sorted := slices.Sorted(slices.Values(rows)); !slices.Equal(sorted, seq(train.Len())) {
		t.Fatalf("an epoch does not draw every row once")
	}
	// A window of 32 rows read in table order would hold one or two
	// classes; drawn from 8 random row groups, a batch sees most of them.
	distinct := 0
	for i := 0; i < len(rows); i += 16 {
		seen := map[int]bool{}
		for _, r := range rows[i : i+16] {
			seen[train.Labels[r]] = true
		}
		distinct += len(seen)
	}
	if mean := float64(distinct) / float64(len(rows)/16); mean < 4 {
		t.Errorf("batches hold %.1f classes on average, want at least 4 of %d", mean, classes)
	}
}
