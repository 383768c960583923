package split

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

func TestDecode(t *testing.T) {
	s := decltest.MustDecode(t, Decode, "split", "input = \"a\"\noutput = \"b\"")
	if p := s.Params().(params); p.Train != 0.8 || p.Val != 0.1 || p.Test != 0.1 || p.Seed != nil || !p.KeepExisting {
		t.Errorf("defaults %+v", p)
	}
	if s.Kind() != Kind || s.Inputs()[0] != "a" || s.Outputs()[0] != "b" {
		t.Errorf("Kind, Inputs, Outputs = %q, %q, %q", s.Kind(), s.Inputs(), s.Outputs())
	}
	s, diags := decltest.Decode(t, Decode, "split", "input = \"a\"\noutput = \"b\"\ntrain = 0.6\nval = 0.2\ntest = 0.2\nseed = 5")
	if p := s.Params().(params); diags.HasErrors() || p.Train != 0.6 || p.Val != 0.2 || *p.Seed != 5 {
		t.Errorf("decoded %+v, %s", p, diags)
	}
	s, diags = decltest.Decode(t, Decode, "split", "input = \"a\"\noutput = \"b\"\ntrain = 0.9\nval = 0.1\ntest = 0\nkeep_existing = false")
	if p := s.Params().(params); diags.HasErrors() || p.Train != 0.9 || p.Val != 0.1 || p.Test != 0 || p.KeepExisting {
		t.Errorf("decoded %+v, %s", p, diags)
	}
	decltest.CheckDiagnostics(t, Decode, "split", []decltest.Case{
		{Src: "input = \"a\"\noutput = \"b\"\ntrain = 0.7", Summary: "Split fractions do not sum to 1", Line: 3},
		{Src: "input = \"a\"\noutput = \"b\"\nval = 0.2\ntest = 0.2", Summary: "Split fractions do not sum to 1", Line: 3},
		{Src: "input = \"a\"\noutput = \"b\"\ntrain = 1.2", Summary: "Invalid split fraction", Line: 3},
		{Src: "input = \"a\"\noutput = \"a\"", Summary: "Output overwrites input", Line: 2},
		{Src: "input = \"a\"", Summary: "Missing required argument", Line: 1},
		{Src: "input = \"a\"\noutput = \"b\"\ntrain = \"most\"", Summary: "Unsuitable value type", Line: 3},
		{Src: "input = \"a\"\noutput = \"b\"\nkeep_existing = \"yes\"", Summary: "Unsuitable value type", Line: 3},
	})
}

// writeCutouts writes a cutouts table of tiny images in the given order.
// Objects with label < 0 are unlabelled; o.split is the input split.
func writeCutouts(t *testing.T, dir string, objs []object, rowsPerPart int64) {
	t.Helper()
	sink, err := ingest.NewSink(ingest.SinkOptions{
		Cutouts: dir, Rejects: dir + "_rejects",
		Manifest:    artifact.Manifest{Name: filepath.Base(dir), Fingerprint: "input-" + filepath.Base(dir)},
		Metadata:    map[string]string{"source.note": "kept"},
		RowsPerPart: rowsPerPart,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		c := ingest.Cutout{
			ObjectID: o.id, Split: o.split, Height: 1, Width: 1, Channels: 3,
			Pixels: []byte(o.id[len(o.id)-3:]), Bands: "grz", Source: "test",
		}
		if o.label >= 0 {
			l, name := o.label, fmt.Sprintf("class %c", 'A'+o.label)
			c.Label, c.LabelName = &l, &name
		}
		if err := sink.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
}

func newEnv(t *testing.T, dir string, s pipeline.Stage, seed int64) *pipeline.Env {
	t.Helper()
	p, err := pipeline.CanonicalJSON(s.Params())
	if err != nil {
		t.Fatal(err)
	}
	var inputs []pipeline.Input
	for _, in := range s.Inputs() {
		m, err := artifact.ReadManifest(filepath.Join(dir, in))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, pipeline.Input{Name: in, Fingerprint: m.Fingerprint})
	}
	return &pipeline.Env{
		Log: hclog.NewNullLogger(), Workdir: dir, Job: "test", Seed: seed,
		Fingerprint: pipeline.Fingerprint(s.Kind(), s.Name(), p, seed, inputs, "test"),
		Stage:       s.Name(), Kind: s.Kind(), Params: p, Producer: "test",
	}
}

// readSplits returns object_id → split and object_id → pixels of a table.
func readSplits(t *testing.T, dir string) (map[string]string, map[string][]byte) {
	t.Helper()
	tab, err := table.OpenAs(dir, schemas.Cutouts())
	if err != nil {
		t.Fatal(err)
	}
	sc := tab.Scan(context.Background(), table.ScanOptions{Columns: []string{"object_id", "split", "pixels"}})
	defer sc.Close()
	splits, pixels := map[string]string{}, map[string][]byte{}
	for sc.Next() {
		rec := sc.Record()
		for i := range int(rec.NumRows()) {
			id := rec.Column(0).(*array.String).Value(i)
			splits[id] = rec.Column(1).(*array.String).Value(i)
			pixels[id] = bytes.Clone(rec.Column(2).(*array.Binary).Value(i))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return splits, pixels
}

// run splits objs, written in the given order and part size, in a fresh
// workdir with the job seed.
func run(t *testing.T, objs []object, rowsPerPart int64, seed int64) (map[string]string, *pipeline.Env) {
	t.Helper()
	return runWith(t, "", objs, rowsPerPart, seed)
}

// runWith is run with more attributes of the stage block.
func runWith(t *testing.T, attrs string, objs []object, rowsPerPart int64, seed int64) (map[string]string, *pipeline.Env) {
	t.Helper()
	dir := t.TempDir()
	writeCutouts(t, filepath.Join(dir, "cutouts"), objs, rowsPerPart)
	s := decltest.MustDecode(t, Decode, "split", "input = \"cutouts\"\noutput = \"cutouts_split\"\n"+attrs)
	env := newEnv(t, dir, s, seed)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	splits, pixels := readSplits(t, env.Path("cutouts_split"))
	if len(splits) != len(objs) {
		t.Fatalf("%d rows out, %d in", len(splits), len(objs))
	}
	for _, o := range objs {
		if !bytes.Equal(pixels[o.id], []byte(o.id[len(o.id)-3:])) {
			t.Fatalf("%s: pixels %q not carried over", o.id, pixels[o.id])
		}
	}
	return splits, env
}

func TestStageRun(t *testing.T) {
	objs := append(objects(200, 120, 9), object{id: "NOLABEL-001", label: -1}, object{id: "NOLABEL-002", label: -1})
	splits, env := run(t, objs, 64, 42)

	counts := map[int16]map[string]int{}
	for _, o := range objs {
		if counts[o.label] == nil {
			counts[o.label] = map[string]int{}
		}
		counts[o.label][splits[o.id]]++
	}
	for c, want := range map[int16][3]int{0: {160, 20, 20}, 1: {96, 12, 12}, 2: {7, 1, 1}} {
		got := counts[c]
		if got["train"] != want[0] || got["val"] != want[1] || got["test"] != want[2] {
			t.Errorf("class %d: %v, want train/val/test %v", c, got, want)
		}
	}
	if got := counts[-1][""]; got != 2 {
		t.Errorf("%d unlabelled rows with split \"\", want 2", got)
	}

	tab, err := table.Open(env.Path("cutouts_split"))
	if err != nil {
		t.Fatal(err)
	}
	m := tab.Manifest()
	if m.Fingerprint != env.Fingerprint || m.Metadata["source.note"] != "kept" || m.Metadata[MetaSeed] != "42" ||
		m.Metadata[MetaFractions] != "train=0.8 val=0.1 test=0.1" {
		t.Errorf("manifest fingerprint %s, metadata %v", m.Fingerprint, m.Metadata)
	}
	summary := strings.Join(env.Summary(), "\n")
	for _, want := range []string{"class A     160      20      20", "total       263      33      33", "2 unlabelled"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
}

func TestStageStable(t *testing.T) {
	objs := objects(150, 90, 31)
	want, _ := run(t, objs, 1000, 42)

	shuffled := append([]object(nil), objs...)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	got, _ := run(t, shuffled, 37, 42) // re-ingested in another order and other parts
	for id, split := range want {
		if got[id] != split {
			t.Fatalf("%s: %q after re-ordering, %q before", id, got[id], split)
		}
	}

	other, _ := run(t, objs, 1000, 43)
	differ := 0
	for id, split := range want {
		if other[id] != split {
			differ++
		}
	}
	if differ < len(objs)/5 {
		t.Errorf("seeds 42 and 43 differ on %d of %d objects", differ, len(objs))
	}
}

// TestStageResume interrupts a run after its first part and checks that the
// next run ends with the same table as an uninterrupted one.
func TestStageResume(t *testing.T) {
	objs := objects(60, 40)
	want, _ := run(t, objs, 30, 42)

	dir := t.TempDir()
	writeCutouts(t, filepath.Join(dir, "cutouts"), objs, 30)
	src := "input = \"cutouts\"\noutput = \"out\""
	s := decltest.MustDecode(t, Decode, "split", src)
	ctx, cancel := context.WithCancel(context.Background())
	s.(*stage).onPart = func(key string) { cancel() }
	if err := s.Run(ctx, newEnv(t, dir, s, 42)); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	s = decltest.MustDecode(t, Decode, "split", src)
	var parts []string
	s.(*stage).onPart = func(key string) { parts = append(parts, key) }
	env := newEnv(t, dir, s, 42)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if strings.Join(parts, ",") != "part 1,part 2,part 3" {
		t.Errorf("resumed run copied %q, want parts 1 to 3", parts)
	}
	got, _ := readSplits(t, env.Path("out"))
	if len(got) != len(want) {
		t.Fatalf("%d rows after resuming, want %d", len(got), len(want))
	}
	for id, split := range want {
		if got[id] != split {
			t.Fatalf("%s: %q after resuming, want %q", id, got[id], split)
		}
	}
}

// presplit returns objects(100, 50) followed by objects that come with a
// split: 20 "test" rows of class 0, 10 of class 1, one "train" row of class
// 1, and two unlabelled rows, one of them "test".
func presplit() []object {
	objs := objects(100, 50)
	for c, n := range []int{20, 10} {
		for i := range n {
			objs = append(objs, object{id: fmt.Sprintf("TEST-%d-%05d", c, i), label: int16(c), split: schemas.SplitTest})
		}
	}
	return append(objs,
		object{id: "TRAIN-1-00000", label: 1, split: schemas.SplitTrain},
		object{id: "NOLABEL-001", label: -1, split: schemas.SplitTest},
		object{id: "NOLABEL-002", label: -1})
}

// summaryRow returns the numbers of the summary line that starts with name.
func summaryRow(summary []string, name string) string {
	for _, line := range summary {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return strings.Join(strings.Fields(rest), " ")
		}
	}
	return ""
}

func TestStageKeepExisting(t *testing.T) {
	objs := presplit()
	f := Fractions{Train: 0.9, Val: 0.1, Test: 0}
	got, env := runWith(t, "train = 0.9\nval = 0.1\ntest = 0", objs, 40, 42)

	// Rows with a split keep it; the others are split as if they were the
	// whole table.
	var rest []object
	for _, o := range objs {
		switch {
		case o.split != "":
			if got[o.id] != o.split {
				t.Errorf("%s: %q, want its input split %q", o.id, got[o.id], o.split)
			}
		case o.label >= 0:
			rest = append(rest, o)
		}
	}
	want := assign(f, 42, rest)
	counts := map[int16]map[string]int{}
	for _, o := range rest {
		if got[o.id] != want[o.id] {
			t.Errorf("%s: %q, want %q", o.id, got[o.id], want[o.id])
		}
		if counts[o.label] == nil {
			counts[o.label] = map[string]int{}
		}
		counts[o.label][got[o.id]]++
	}
	for c, w := range map[int16][2]int{0: {90, 10}, 1: {45, 5}} {
		if n := counts[c]; n["train"] != w[0] || n["val"] != w[1] || n["test"] != 0 {
			t.Errorf("class %d rows without a split: %v, want train/val/test %d/%d/0", c, n, w[0], w[1])
		}
	}
	if got["NOLABEL-002"] != "" {
		t.Errorf("unlabelled row without a split assigned %q", got["NOLABEL-002"])
	}

	summary := env.Summary()
	for name, want := range map[string]string{
		"class A": "90 10 20", "class B": "46 5 10", "(unlabelled)": "0 0 1", "total": "136 15 31",
	} {
		if row := summaryRow(summary, name); row != want {
			t.Errorf("summary row %q: %q, want %q:\n%s", name, row, want, strings.Join(summary, "\n"))
		}
	}
	text := strings.Join(summary, "\n")
	for _, want := range []string{"32 rows kept their input split", "1 unlabelled rows left unassigned"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	tab, err := table.Open(env.Path("cutouts_split"))
	if err != nil {
		t.Fatal(err)
	}
	if md := tab.Manifest().Metadata; md[MetaKeepExisting] != "true" || md[MetaFractions] != "train=0.9 val=0.1 test=0" {
		t.Errorf("metadata %v", md)
	}
}

func TestStageReassign(t *testing.T) {
	objs := presplit()
	got, env := runWith(t, "keep_existing = false", objs, 40, 42)

	var labelled []object
	for _, o := range objs {
		if o.label >= 0 {
			labelled = append(labelled, o)
		} else if got[o.id] != "" {
			t.Errorf("unlabelled %s assigned %q, want \"\"", o.id, got[o.id])
		}
	}
	want := assign(DefaultFractions(), 42, labelled)
	moved := 0
	for _, o := range labelled {
		if got[o.id] != want[o.id] {
			t.Errorf("%s: %q, want %q", o.id, got[o.id], want[o.id])
		}
		if o.split != "" && got[o.id] != o.split {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no row with an input split was reassigned")
	}
	summary := env.Summary()
	// 120 objects of class 0 and 61 of class 1, split 80/10/10.
	for name, want := range map[string]string{"class A": "96 12 12", "class B": "49 6 6", "total": "145 18 18"} {
		if row := summaryRow(summary, name); row != want {
			t.Errorf("summary row %q: %q, want %q:\n%s", name, row, want, strings.Join(summary, "\n"))
		}
	}
	if text := strings.Join(summary, "\n"); strings.Contains(text, "kept") || !strings.Contains(text, "2 unlabelled rows left unassigned") {
		t.Errorf("summary:\n%s", text)
	}
}

// TestStageInvalidInputSplit checks that a split other than train, val,
// test or "" fails the stage with the row and the object_id.
func TestStageInvalidInputSplit(t *testing.T) {
	dir := t.TempDir()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schemas.Cutouts())
	defer b.Release()
	for i, split := range []string{"", "test", "holdout"} {
		for j, f := range b.Schema().Fields() {
			switch fb := b.Field(j).(type) {
			case *array.StringBuilder:
				switch f.Name {
				case "object_id":
					fb.Append(fmt.Sprintf("OBJ-%d", i))
				case "split":
					fb.Append(split)
				default:
					fb.Append("x")
				}
			case *array.Int16Builder:
				fb.Append(0)
			case *array.Int32Builder:
				fb.Append(1)
			case *array.BinaryBuilder:
				fb.Append([]byte{1, 2, 3})
			default:
				fb.AppendNull()
			}
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	tabletest.Write(t, filepath.Join(dir, "cutouts"), schemas.Cutouts(), table.Options{
		Manifest: artifact.Manifest{Name: "cutouts", Fingerprint: "input-cutouts"},
	}, rec)
	s := decltest.MustDecode(t, Decode, "split", "input = \"cutouts\"\noutput = \"out\"")
	err := s.Run(context.Background(), newEnv(t, dir, s, 42))
	if err == nil || !strings.Contains(err.Error(), `row 2 (object_id "OBJ-2"): split is "holdout"`) {
		t.Errorf("error %v, want one naming row 2, OBJ-2 and \"holdout\"", err)
	}
}

// TestStageNoVal splits with val = 0, for a train stage that trains on
// every labelled row it is given: no row lands in val.
func TestStageNoVal(t *testing.T) {
	got, _ := runWith(t, "train = 0.25\nval = 0\ntest = 0.75", presplit(), 40, 42)
	n := map[string]int{}
	for _, split := range got {
		n[split]++
	}
	if n["val"] != 0 || n["train"] == 0 || n["test"] <= n["train"] {
		t.Errorf("splits %v: want no val rows, and three test rows for each train row", n)
	}
}
