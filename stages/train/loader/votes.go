package loader

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// ReadVoteIndex indexes the rows of t in splits that have volunteer votes:
// a non-null vote_counts with at least one vote. The Dataset's ClassNames
// are the table's vote-count columns (metadata schemas.MetaVoteColumns),
// one per answer of its decision tree, in the order of the counts; every
// indexed row must have one count per column, and all the same channel
// count. The Index labels are 0: a vote head has no class.
func ReadVoteIndex(ctx context.Context, t *table.Table, splits ...string) (*Dataset, error) {
	var columns []string
	if err := json.Unmarshal([]byte(t.Manifest().Metadata[schemas.MetaVoteColumns]), &columns); err != nil || len(columns) == 0 {
		return nil, fmt.Errorf("loader: %s has no vote counts: its metadata %s does not list the count columns", t.Dir(), schemas.MetaVoteColumns)
	}
	d := &Dataset{Splits: make(map[string]*Index, len(splits)), ClassNames: columns}
	for _, s := range splits {
		d.Splits[s] = &Index{Split: s}
	}
	read := []string{"split", "channels", schemas.VoteCountsColumn}
	for part := range t.NumParts() {
		file := t.Manifest().Parts[part].File
		sc := t.Scan(ctx, table.ScanOptions{Columns: read, Parts: []int{part}})
		var pos int32
		for sc.Next() {
			rec := sc.Record()
			cr, err := schemas.NewCutoutsReader(rec, read...)
			if err != nil {
				sc.Close()
				return nil, fmt.Errorf("%s/%s: %w", t.Dir(), file, err)
			}
			for i := range int(rec.NumRows()) {
				row := pos
				pos++
				ix := d.Splits[cr.Split.Value(i)]
				if ix == nil || cr.VoteCounts.IsNull(i) {
					continue
				}
				if err := d.addVoted(ix, cr, i, part, row); err != nil {
					sc.Close()
					return nil, fmt.Errorf("loader: %s/%s: %w", t.Dir(), file, err)
				}
			}
		}
		err := sc.Err()
		sc.Close()
		if err != nil {
			return nil, fmt.Errorf("loader: indexing %s: %w", t.Dir(), err)
		}
	}
	return d, nil
}

// addVoted indexes row i of a record when it has at least one vote.
func (d *Dataset) addVoted(ix *Index, cr *schemas.CutoutsReader, i, part int, row int32) error {
	counts := cr.Row(i).VoteCounts
	if len(counts) != len(d.ClassNames) {
		return fmt.Errorf("row %d has %d vote counts, the table's tree %d answers", row, len(counts), len(d.ClassNames))
	}
	var votes float32
	for _, v := range counts {
		votes += v
	}
	if votes == 0 {
		return nil
	}
	c := int(cr.Channels.Value(i))
	if d.Channels == 0 {
		d.Channels = c
	} else if c != d.Channels {
		return fmt.Errorf("row %d has %d channels, earlier rows %d; a model takes one channel count", row, c, d.Channels)
	}
	ix.Part = append(ix.Part, int32(part))
	ix.Pos = append(ix.Pos, row)
	ix.Labels = append(ix.Labels, 0)
	return nil
}
