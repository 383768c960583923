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
	d := newDataset(splits)
	d.ClassNames = columns
	read := []string{"split", "channels", schemas.VoteCountsColumn}
	err := d.scan(ctx, t, read, func(ix *Index, cr *schemas.CutoutsReader, i int, at rowAt) error {
		if cr.VoteCounts.IsNull(i) {
			return nil
		}
		if err := d.addVoted(ix, cr, i, at); err != nil {
			return fmt.Errorf("loader: %s/%s: %w", t.Dir(), at.file, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// addVoted indexes row i of a record when it has at least one vote.
func (d *Dataset) addVoted(ix *Index, cr *schemas.CutoutsReader, i int, at rowAt) error {
	counts := cr.Row(i).VoteCounts
	if len(counts) != len(d.ClassNames) {
		return fmt.Errorf("row %d has %d vote counts, the table's tree %d answers", at.pos, len(counts), len(d.ClassNames))
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
		return fmt.Errorf("row %d has %d channels, earlier rows %d; a model takes one channel count", at.pos, c, d.Channels)
	}
	ix.add(at, 0)
	return nil
}
