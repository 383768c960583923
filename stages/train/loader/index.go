// Package loader feeds a training loop with batches of images from a
// cutouts table: it reads only the columns it needs, streams the table part
// by part with bounded memory, shuffles within a window, and decodes and
// augments on several goroutines ahead of the consumer.
//
// # Reading
//
// An Index, built by ReadIndex in one pass over the small columns (split,
// label, channels, label_name), lists the rows of each split. A Loader then
// reads height, width, channels and pixels, and nothing else, of the parts
// that hold rows of its split.
//
// # Order
//
// Rows are drawn in epochs. A table can be far larger than memory, so an
// epoch is not a uniform permutation of the whole split but a block shuffle:
// the row groups (the unit of random access of a table; 128 rows in cutouts
// tables) are read in a random order, and their rows pass through a shuffle
// window of Window samples:
// once the window is full, each incoming row replaces a uniformly chosen
// row of the window, which is emitted; at the end the window is emitted in
// random order. A split that fits in the window is therefore shuffled
// exactly; in a larger one, a window mixes about Window/128 row groups from
// random places of the table, even when its rows are sorted by class. Both orders
// derive from (Seed, Epoch) only, so an epoch's draw sequence is the same
// in every run, whatever the number of workers. Draw k of an epoch is
// passed to Config.Prepare with k, so augmentation can be drawn from
// (seed, epoch, k) too.
//
// # Memory
//
// At most Window raw samples wait in the shuffle window and at most
// Prefetch+Workers+1 batches exist at a time (being filled, being prepared,
// ready or held by the consumer); a batch's buffers are reused once the
// consumer releases it.
package loader

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// MetaClassNames is the table metadata key with the class names in label
// order, as a JSON list; source stages write it.
const MetaClassNames = schemas.MetaClassNames

// Index lists the rows of one split of a table, in table order. Row k of
// the index is row Pos[k] (0-based, within its part) of part Part[k].
type Index struct {
	Split  string
	Part   []int32
	Pos    []int32
	Labels []int // class index of each row
}

// Len returns the number of rows in the split.
func (ix *Index) Len() int { return len(ix.Labels) }

// Dataset is what one pass over a cutouts table learns: the rows of the
// splits asked for, the class names and the channel count.
type Dataset struct {
	Splits     map[string]*Index
	ClassNames []string // label order; len(ClassNames) is the class count
	Channels   int      // channels of every indexed row
}

// ReadIndex reads the split, label, label_name and channels columns of t and
// indexes the rows whose split is one of splits. Every indexed row must be
// labelled and all must have the same channel count. The class names come
// from the table metadata MetaClassNames when present (which must cover
// every label), else from label_name, else "class <i>"; the class count is
// the number of names.
func ReadIndex(ctx context.Context, t *table.Table, splits ...string) (*Dataset, error) {
	d := &Dataset{Splits: make(map[string]*Index, len(splits))}
	for _, s := range splits {
		d.Splits[s] = &Index{Split: s}
	}
	names := map[int]string{} // from label_name
	maxLabel := -1
	for part := range t.NumParts() {
		file := t.Manifest().Parts[part].File
		columns := []string{"split", "label", "label_name", "channels"}
		sc := t.Scan(ctx, table.ScanOptions{Columns: columns, Parts: []int{part}})
		var pos int32
		for sc.Next() {
			rec := sc.Record()
			cr, err := schemas.NewCutoutsReader(rec, columns...)
			if err != nil {
				sc.Close()
				return nil, fmt.Errorf("%s/%s: %w", t.Dir(), file, err)
			}
			split, label, labelName, channels := cr.Split, cr.Label, cr.LabelName, cr.Channels
			for i := range int(rec.NumRows()) {
				row := pos
				pos++
				ix := d.Splits[split.Value(i)]
				if ix == nil {
					continue
				}
				if label.IsNull(i) {
					sc.Close()
					return nil, fmt.Errorf("%s/%s: row %d is in split %q but has no label", t.Dir(), file, row, ix.Split)
				}
				l := int(label.Value(i))
				if l < 0 {
					sc.Close()
					return nil, fmt.Errorf("%s/%s: row %d has label %d; labels are class indexes from 0", t.Dir(), file, row, l)
				}
				c := int(channels.Value(i))
				if d.Channels == 0 {
					d.Channels = c
				} else if c != d.Channels {
					sc.Close()
					return nil, fmt.Errorf("%s/%s: row %d has %d channels, earlier rows %d; a model takes one channel count",
						t.Dir(), file, row, c, d.Channels)
				}
				if _, ok := names[l]; !ok && labelName.IsValid(i) {
					names[l] = labelName.Value(i)
				}
				maxLabel = max(maxLabel, l)
				ix.Part = append(ix.Part, int32(part))
				ix.Pos = append(ix.Pos, row)
				ix.Labels = append(ix.Labels, l)
			}
		}
		err := sc.Err()
		sc.Close()
		if err != nil {
			return nil, fmt.Errorf("loader: indexing %s: %w", t.Dir(), err)
		}
	}
	var err error
	d.ClassNames, err = classNames(t, names, maxLabel)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// classNames resolves the class names; see ReadIndex.
func classNames(t *table.Table, fromRows map[int]string, maxLabel int) ([]string, error) {
	if v, ok := t.Manifest().Metadata[MetaClassNames]; ok {
		var names []string
		if err := json.Unmarshal([]byte(v), &names); err != nil {
			return nil, fmt.Errorf("loader: %s: metadata %s is not a JSON list of names: %w", t.Dir(), MetaClassNames, err)
		}
		if maxLabel >= len(names) {
			return nil, fmt.Errorf("loader: %s: label %d, but metadata %s names only %d classes", t.Dir(), maxLabel, MetaClassNames, len(names))
		}
		return names, nil
	}
	names := make([]string, maxLabel+1)
	for l := range names {
		if n, ok := fromRows[l]; ok {
			names[l] = n
		} else {
			names[l] = fmt.Sprintf("class %d", l)
		}
	}
	return names, nil
}

// Counts returns how many rows of the index each of classes classes has.
func (ix *Index) Counts(classes int) []int64 {
	counts := make([]int64, classes)
	for _, l := range ix.Labels {
		if l < classes {
			counts[l]++
		}
	}
	return counts
}

// parts returns the indexed rows grouped by part: for each part, the index
// rows (k) it holds, in table order (ReadIndex appends them in that order).
func (ix *Index) parts(numParts int) [][]int {
	by := make([][]int, numParts)
	for k, p := range ix.Part {
		by[p] = append(by[p], k)
	}
	return by
}
