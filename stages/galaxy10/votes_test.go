package galaxy10

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
	"github.com/astroformer/astroformer/votes"
)

// TestRunVotesFromParquet joins a Parquet vote-count catalog to the rows of
// a Galaxy10 file: a good row, a row with a fractional count (rejected with
// the catalog's row and column) and rows without a catalog row (null).
func TestRunVotesFromParquet(t *testing.T) {
	cols := votes.DECaLS().CountColumns()
	fields := parquet.Group{"object_id": parquet.String()}
	for _, c := range cols {
		fields[c] = parquet.Optional(parquet.Leaf(parquet.DoubleType))
	}
	schema := parquet.NewSchema("votes", fields)
	catalog := filepath.Join(t.TempDir(), "gz.parquet")
	f, err := os.Create(catalog)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[map[string]any](f, schema)
	good := map[string]any{"object_id": ObjectID(0)}
	want := make([]float32, len(cols))
	for i, c := range cols {
		good[c], want[i] = float64(i), float32(i)
	}
	bad := map[string]any{"object_id": ObjectID(1), "bar_weak": 2.5}
	if _, err := w.Write([]map[string]any{good, bad}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	s := mustDecode(t, `path = "testdata/g10_default.h5"
output = "cutouts"
votes = "`+catalog+`"`)
	work := t.TempDir()
	if err := s.Run(context.Background(), newEnv(t, work, s)); err != nil {
		t.Fatal(err)
	}
	rows, md := sourcetest.Cutouts(t, filepath.Join(work, "cutouts"))
	if md[schemas.MetaVoteCatalog] != "gz.parquet" || md[schemas.MetaVoteTree] != "gz_decals" {
		t.Errorf("metadata %v", md)
	}
	with := 0
	for _, r := range rows {
		switch {
		case r.ObjectID == ObjectID(0):
			with++
			if !slices.Equal(r.VoteCounts, want) {
				t.Errorf("%s: vote counts %v, want %v", r.ObjectID, r.VoteCounts, want)
			}
		case r.ObjectID == ObjectID(1):
			t.Errorf("%s was kept despite its fractional count", r.ObjectID)
		case r.VoteCounts != nil:
			t.Errorf("%s: vote counts %v without a catalog row", r.ObjectID, r.VoteCounts)
		}
	}
	if with != 1 {
		t.Errorf("%d rows with votes, want 1", with)
	}
	var reason string
	for _, r := range sourcetest.Rejects(t, filepath.Join(work, "cutouts_rejects")) {
		if r.ObjectID == ObjectID(1) {
			reason = r.Reason
		}
	}
	if !strings.Contains(reason, "gz.parquet: row 2, column bar_weak: 2.5 is not a whole number of votes") {
		t.Errorf("reject of %s: %q", ObjectID(1), reason)
	}
}
