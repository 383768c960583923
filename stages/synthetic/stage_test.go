package synthetic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/votes"
)

func TestDecode(t *testing.T) {
	s := decltest.MustDecode(t, Decode, "survey", `output = "cutouts"`)
	p := s.Params().(params)
	if p.Count != DefaultCount || p.Size != DefaultSize || !p.Labelled || p.Seed != nil ||
		p.Rejects != "cutouts_rejects" || len(p.ClassWeights) != NumClasses {
		t.Errorf("defaults: %+v", p)
	}
	if got := s.Outputs(); len(got) != 2 || got[0] != "cutouts" || got[1] != "cutouts_rejects" {
		t.Errorf("Outputs() = %q", got)
	}
	if s.Kind() != Kind || s.Name() != "survey" || len(s.Inputs()) != 0 {
		t.Errorf("Kind, Name, Inputs = %q, %q, %q", s.Kind(), s.Name(), s.Inputs())
	}
	s = decltest.MustDecode(t, Decode, "survey", `
output = "c"
rejects = "r"
count = 10
size = 32
seed = 9
class_weights = [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
labelled = false
workers = 3`)
	if p := s.Params().(params); p.Count != 10 || p.Size != 32 || *p.Seed != 9 || p.Labelled || p.Rejects != "r" || p.ClassWeights[9] != 1 {
		t.Errorf("decoded %+v", p)
	}
	if s.(*stage).p.Workers != 3 {
		t.Errorf("workers %d, want 3", s.(*stage).p.Workers)
	}

	decltest.CheckDiagnostics(t, Decode, "survey", []decltest.Case{
		{Src: `count = 3`, Summary: "Missing required argument", Line: 1},
		{Src: "output = \"c\"\ncount = 0", Summary: "Invalid count", Line: 2},
		{Src: "output = \"c\"\ncount = 9000000000000000000", Summary: "Invalid count", Line: 2},
		{Src: "output = \"c\"\ncount = 2000000\nsize = 2048", Summary: "Invalid count", Line: 2},
		{Src: "output = \"c\"\nsize = 8", Summary: "Invalid size", Line: 2},
		{Src: "output = \"c\"\nworkers = -1", Summary: "Invalid workers", Line: 2},
		{Src: "output = \"c\"\nclass_weights = [1, 2]", Summary: "Invalid class_weights", Line: 2},
		{Src: "output = \"c\"\nclass_weights = [1, 1, 1, 1, 1, 1, 1, 1, 1, -1]", Summary: "Invalid class_weights", Line: 2},
		{Src: "output = \"c\"\nrejects = \"c\"", Summary: "Invalid rejects table", Line: 2},
		{Src: "output = \"c\"\nsize = \"big\"", Summary: "Unsuitable value type", Line: 2},
		{Src: "output = \"c\"\ncolour = 1", Summary: "Unsupported argument", Line: 2},
	})
}

func newEnv(t *testing.T, dir string, s pipeline.Stage) *pipeline.Env {
	t.Helper()
	p, err := pipeline.CanonicalJSON(s.Params())
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline.Env{
		Log: hclog.NewNullLogger(), Workdir: dir, Job: "test", Seed: 42,
		Fingerprint: pipeline.Fingerprint(s.Kind(), s.Name(), p, 42, nil, "test"),
		Stage:       s.Name(), Kind: s.Kind(), Params: p, Producer: "test",
	}
}

type row struct {
	id, split, bands string
	label            int16
	labelled         bool
	pixels           []byte
	ra, scale        float64
}

func readRows(t *testing.T, dir string) []row {
	t.Helper()
	tab, err := table.OpenAs(dir, schemas.Cutouts())
	if err != nil {
		t.Fatal(err)
	}
	sc := tab.Scan(context.Background(), table.ScanOptions{
		Columns: []string{"object_id", "label", "label_name", "split", "pixels", "ra", "pixel_scale", "bands", "height", "channels"},
	})
	defer sc.Close()
	var rows []row
	names := schemas.Galaxy10Classes()
	for sc.Next() {
		rec := sc.Record()
		ids := rec.Column(0).(*array.String)
		labels := rec.Column(1).(*array.Int16)
		labelNames := rec.Column(2).(*array.String)
		for i := range ids.Len() {
			r := row{
				id: ids.Value(i), split: rec.Column(3).(*array.String).Value(i),
				label: labels.Value(i), labelled: labels.IsValid(i),
				pixels: bytes.Clone(rec.Column(4).(*array.Binary).Value(i)),
				ra:     rec.Column(5).(*array.Float64).Value(i), scale: rec.Column(6).(*array.Float64).Value(i),
				bands: rec.Column(7).(*array.String).Value(i),
			}
			if r.labelled != labelNames.IsValid(i) || r.labelled && labelNames.Value(i) != names[r.label] {
				t.Fatalf("row %s: label %d (valid %v) with label_name %q", r.id, r.label, r.labelled, labelNames.Value(i))
			}
			if h, c := rec.Column(8).(*array.Int32).Value(i), rec.Column(9).(*array.Int32).Value(i); int(h)*int(h)*int(c) != len(r.pixels) {
				t.Fatalf("row %s: %d bytes of pixels for height %d, channels %d", r.id, len(r.pixels), h, c)
			}
			rows = append(rows, r)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestStageRun(t *testing.T) {
	s := decltest.MustDecode(t, Decode, "survey", "output = \"cutouts\"\ncount = 37\nsize = 24\nworkers = 2")
	s.(*stage).chunk = 16
	dir := t.TempDir()
	env := newEnv(t, dir, s)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, env.Path("cutouts"))
	if len(rows) != 37 {
		t.Fatalf("%d rows, want 37", len(rows))
	}
	want := make([]Object, 37)
	if err := RenderBatch(context.Background(), Options{Size: 24, Seed: 42}, 1, 0, want); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if r.id != ObjectID(int64(i)) || !r.labelled || r.label != int16(want[i].Class) || r.split != "" ||
			!bytes.Equal(r.pixels, want[i].Pixels) || r.ra != want[i].RA || r.scale != PixelScale(24) || r.bands != Bands {
			t.Fatalf("row %d: %+v differs from object %+v", i, r, want[i])
		}
	}
	rej, err := table.OpenAs(env.Path("cutouts_rejects"), schemas.Rejects())
	if err != nil || rej.Rows() != 0 {
		t.Fatalf("rejects table: %v, err %v", rej, err)
	}
	if md := rej.Manifest(); md.Fingerprint != env.Fingerprint {
		t.Errorf("rejects fingerprint %q, want %q", md.Fingerprint, env.Fingerprint)
	}
	tab, _ := table.Open(env.Path("cutouts"))
	if m := tab.Manifest(); m.Fingerprint != env.Fingerprint || m.Metadata[MetaSeed] != "42" || !strings.Contains(m.Metadata[MetaClassNames], "Barred Spiral") {
		t.Errorf("manifest fingerprint %q, metadata %v", m.Fingerprint, m.Metadata)
	}
	if sum := env.Summary(); len(sum) != 2 || !strings.Contains(sum[0], "37 synthetic 24×24 cutouts") {
		t.Errorf("summary %q", sum)
	}
}

func TestStageUnlabelled(t *testing.T) {
	s := decltest.MustDecode(t, Decode, "survey", "output = \"c\"\ncount = 5\nsize = 16\nlabelled = false\nseed = 3")
	env := newEnv(t, t.TempDir(), s)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	for _, r := range readRows(t, env.Path("c")) {
		if r.labelled {
			t.Fatalf("row %s labelled %d", r.id, r.label)
		}
	}
	if sum := env.Summary(); !strings.Contains(sum[1], "unlabelled 5") {
		t.Errorf("summary %q", sum)
	}
}

// TestStageResume interrupts a run after its first chunk and checks that the
// next run keeps that chunk and ends with the rows of an uninterrupted run.
func TestStageResume(t *testing.T) {
	src := "output = \"cutouts\"\ncount = 40\nsize = 16"
	whole := decltest.MustDecode(t, Decode, "survey", src)
	whole.(*stage).chunk = 16
	wholeEnv := newEnv(t, t.TempDir(), whole)
	if err := whole.Run(context.Background(), wholeEnv); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	first := decltest.MustDecode(t, Decode, "survey", src)
	ctx, cancel := context.WithCancel(context.Background())
	var chunks []string
	first.(*stage).chunk = 16
	first.(*stage).onChunk = func(key string) { chunks = append(chunks, key); cancel() }
	if err := first.Run(ctx, newEnv(t, dir, first)); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	if len(chunks) != 1 {
		t.Fatalf("interrupted run completed chunks %q, want one", chunks)
	}
	second := decltest.MustDecode(t, Decode, "survey", src)
	second.(*stage).chunk = 16
	chunks = nil
	second.(*stage).onChunk = func(key string) { chunks = append(chunks, key) }
	env := newEnv(t, dir, second)
	if err := second.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if want := []string{"objects 16-31", "objects 32-39"}; strings.Join(chunks, ",") != strings.Join(want, ",") {
		t.Errorf("resumed run rendered chunks %q, want %q", chunks, want)
	}
	a, b := readRows(t, wholeEnv.Path("cutouts")), readRows(t, env.Path("cutouts"))
	if len(a) != len(b) {
		t.Fatalf("resumed run wrote %d rows, uninterrupted %d", len(b), len(a))
	}
	for i := range a {
		if a[i].id != b[i].id || !bytes.Equal(a[i].pixels, b[i].pixels) {
			t.Fatalf("row %d differs: %s vs %s", i, a[i].id, b[i].id)
		}
	}
}

// TestStageVotes renders a survey with simulated volunteers: every cutout
// has counts over the GZ DECaLS tree, named in the metadata, with about 40
// votes on the first question; without votes the parameters (and so the
// fingerprint) are those of earlier releases.
func TestStageVotes(t *testing.T) {
	dir := t.TempDir()
	s := sourcetest.MustDecode(t, Decode, "output = \"cutouts\"\ncount = 50\nsize = 32\nvotes = true")
	env := sourcetest.Env(t, dir, s, nil)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	rows, md := sourcetest.Cutouts(t, env.Path("cutouts"))
	tree := votes.DECaLS()
	var cols []string
	if err := json.Unmarshal([]byte(md[schemas.MetaVoteColumns]), &cols); err != nil || md[schemas.MetaVoteTree] != "gz_decals" || !slices.Equal(cols, tree.CountColumns()) {
		t.Fatalf("metadata tree %q, columns %q (%v)", md[schemas.MetaVoteTree], md[schemas.MetaVoteColumns], err)
	}
	var first float64
	for _, r := range rows {
		if len(r.VoteCounts) != tree.Answers() {
			t.Fatalf("%s: %d vote counts", r.ObjectID, len(r.VoteCounts))
		}
		first += float64(r.VoteCounts[0] + r.VoteCounts[1] + r.VoteCounts[2])
	}
	if m := first / float64(len(rows)); m < 34 || m > 46 {
		t.Errorf("%.1f votes per galaxy on the first question", m)
	}
	plain := sourcetest.MustDecode(t, Decode, "output = \"cutouts\"\ncount = 50\nsize = 32")
	if p, _ := json.Marshal(plain.Params()); strings.Contains(string(p), "votes") {
		t.Errorf("params without votes mention them: %s", p)
	}
}
