package loader

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/policy"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/table"
)

// TestVotes indexes the voted rows of a table (not the unvoted, not those
// with no vote at all) and delivers their counts as the targets.
func TestVotes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cutouts")
	sink, err := ingest.NewSink(ingest.SinkOptions{Cutouts: dir, Rejects: dir + "_rejects",
		Manifest: artifact.Manifest{Name: "cutouts", Fingerprint: "votes"}, VoteTree: "t", VoteColumns: []string{"q_a", "q_b", "r_x"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{}
	for i := range 20 {
		id := string(rune('a'+i%26)) + string(rune('a'+i/26))
		c := ingest.Cutout{ObjectID: id, Split: schemas.SplitTrain, Height: 4, Width: 4, Channels: 3,
			Pixels: make([]byte, 48), Bands: "rgb", Source: "test"}
		switch {
		case i%5 == 0: // not voted
		case i%7 == 0:
			c.VoteCounts = []float32{0, 0, 0} // voted by nobody
		default:
			c.VoteCounts = []float32{float32(i), 3, float32(i % 2)}
			want[id] = c.VoteCounts
		}
		if i == 19 {
			c.Split = schemas.SplitVal
			delete(want, id)
		}
		if err := sink.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
	tab := openCutouts(t, dir)
	ds, err := ReadVoteIndex(context.Background(), tab, schemas.SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	ix := ds.Splits[schemas.SplitTrain]
	if ix.Len() != len(want) || !slices.Equal(ds.ClassNames, []string{"q_a", "q_b", "r_x"}) || ds.Channels != 3 {
		t.Fatalf("%d voted rows indexed, want %d; columns %q, channels %d", ix.Len(), len(want), ds.ClassNames, ds.Channels)
	}
	ld, err := Start(context.Background(), Config{Table: tab, Index: ix, BatchSize: 4, C: 3, H: 4, W: 4, Classes: 3, Votes: true,
		Prepare: func(dst []float32, img policy.Image, _ int) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()
	seen := 0
	for b, ok := ld.Next(); ok; b, ok = ld.Next() {
		for i := range b.N {
			got := b.Targets[i*3 : (i+1)*3]
			if !slices.ContainsFunc(slices.Collect(maps.Values(want)), func(w []float32) bool { return slices.Equal(w, got) }) {
				t.Errorf("targets %v are no row's votes", got)
			}
			seen++
		}
		ld.Release(b)
	}
	if err := ld.Err(); err != nil || seen != len(want) {
		t.Errorf("%d samples delivered (%v), want %d", seen, err, len(want))
	}
	if _, err := ReadVoteIndex(context.Background(), mustOpen(t, t.TempDir())); err == nil {
		t.Error("a table without vote metadata indexed")
	}
}

func mustOpen(t *testing.T, root string) *table.Table {
	t.Helper()
	dir := filepath.Join(root, "plain")
	sink, err := ingest.NewSink(ingest.SinkOptions{Cutouts: dir, Rejects: dir + "_rejects", Manifest: artifact.Manifest{Name: "plain", Fingerprint: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
	tab, err := table.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}
