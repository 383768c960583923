package ingest

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// TestSinkVotes stores vote counts with their tree in the metadata, reads
// them back by name, and rejects counts that cannot be votes.
func TestSinkVotes(t *testing.T) {
	root := t.TempDir()
	opt := options(root)
	opt.VoteTree, opt.VoteColumns = "tiny", []string{"q_a", "q_b", "r_x", "r_y"}
	s, err := NewSink(opt)
	if err != nil {
		t.Fatal(err)
	}
	voted, none := cutout(0), cutout(1)
	voted.VoteCounts = []float32{30, 10, 4, 0}
	short, negative, half := cutout(2), cutout(3), cutout(4)
	short.VoteCounts = []float32{1, 2}
	negative.VoteCounts = []float32{1, -2, 0, 0}
	half.VoteCounts = []float32{1, 2.5, 0, 0}
	for _, c := range []Cutout{voted, none, short, negative, half} {
		if err := s.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"synth|row 2|obj-00002|2 vote counts for a tree of 4 answers",
		"synth|row 3|obj-00003|vote count q_b = -2: expected a whole number >= 0",
		"synth|row 4|obj-00004|vote count q_b = 2.5: expected a whole number >= 0",
	}
	if got := rejectRows(t, filepath.Join(root, "rejects")); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rejects:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tab, err := table.OpenAs(filepath.Join(root, "cutouts"), schemas.Cutouts())
	if err != nil {
		t.Fatal(err)
	}
	md := tab.Manifest().Metadata
	var cols []string
	if err := json.Unmarshal([]byte(md[schemas.MetaVoteColumns]), &cols); err != nil || md[schemas.MetaVoteTree] != "tiny" || !slices.Equal(cols, opt.VoteColumns) {
		t.Errorf("metadata tree %q, columns %q (%v)", md[schemas.MetaVoteTree], md[schemas.MetaVoteColumns], err)
	}
	sc := tab.Scan(context.Background(), table.ScanOptions{Columns: []string{"object_id", schemas.VoteCountsColumn}})
	defer sc.Close()
	var got [][]float32
	for sc.Next() {
		r, err := schemas.NewCutoutsReader(sc.Record(), "object_id", schemas.VoteCountsColumn)
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(sc.Record().NumRows()) {
			got = append(got, slices.Clone(r.Row(i).VoteCounts))
		}
	}
	if len(got) != 2 || !slices.Equal(got[0], voted.VoteCounts) || got[1] != nil {
		t.Errorf("vote counts read back %v", got)
	}

	s, err = NewSink(options(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(voted); err != nil {
		t.Fatal(err)
	}
	if sum, _ := s.Commit(); sum.Rejects != 1 {
		t.Errorf("votes without a tree: %d rejects", sum.Rejects)
	}
}
