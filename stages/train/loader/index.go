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
	d := newDataset(splits)
	names := map[int]string{} // from label_name
	maxLabel := -1
	columns := []string{"split", "label", "label_name", "channels"}
	err := d.scan(ctx, t, columns, func(ix *Index, cr *schemas.CutoutsReader, i int, at rowAt) error {
		if cr.Label.IsNull(i) {
			return fmt.Errorf("%s/%s: row %d is in split %q but has no label", t.Dir(), at.file, at.pos, ix.Split)
		}
		l := int(cr.Label.Value(i))
		if l < 0 {
			return fmt.Errorf("%s/%s: row %d has label %d; labels are class indexes from 0", t.Dir(), at.file, at.pos, l)
		}
		c := int(cr.Channels.Value(i))
		if d.Channels == 0 {
			d.Channels = c
		} else if c != d.Channels {
			return fmt.Errorf("%s/%s: row %d has %d channels, earlier rows %d; a model takes one channel count",
				t.Dir(), at.file, at.pos, c, d.Channels)
		}
		if _, ok := names[l]; !ok && cr.LabelName.IsValid(i) {
			names[l] = cr.LabelName.Value(i)
		}
		maxLabel = max(maxLabel, l)
		ix.add(at, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.ClassNames, err = classNames(t, names, maxLabel)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// newDataset returns a Dataset with an empty Index for each of splits.
func newDataset(splits []string) *Dataset {
	d := &Dataset{Splits: make(map[string]*Index, len(splits))}
	for _, s := range splits {
		d.Splits[s] = &Index{Split: s}
	}
	return d
}

// rowAt is where a row is in a table.
type rowAt struct {
	part int
	file string // the part's file
	pos  int32  // the row's position in the part, from 0
}

// add appends the row at at, with its label, to ix.
func (ix *Index) add(at rowAt, label int) {
	ix.Part = append(ix.Part, int32(at.part))
	ix.Pos = append(ix.Pos, at.pos)
	ix.Labels = append(ix.Labels, label)
}

// scan reads columns of t part by part and calls row, in table order, for
// each row whose split has an Index in d, with its record's reader cr and
// its index i in the record. An error of row ends the scan and is returned
// as it is.
func (d *Dataset) scan(ctx context.Context, t *table.Table, columns []string, row func(ix *Index, cr *schemas.CutoutsReader, i int, at rowAt) error) error {
	for part := range t.NumParts() {
		at := rowAt{part: part, file: t.Manifest().Parts[part].File}
		sc := t.Scan(ctx, table.ScanOptions{Columns: columns, Parts: []int{part}})
		for sc.Next() {
			rec := sc.Record()
			cr, err := schemas.NewCutoutsReader(rec, columns...)
			if err != nil {
				sc.Close()
				return fmt.Errorf("%s/%s: %w", t.Dir(), at.file, err)
			}
			for i := range int(rec.NumRows()) {
				if ix := d.Splits[cr.Split.Value(i)]; ix != nil {
					if err := row(ix, cr, i, at); err != nil {
						sc.Close()
						return err
					}
				}
				at.pos++
			}
		}
		err := sc.Err()
		sc.Close()
		if err != nil {
			return fmt.Errorf("loader: indexing %s: %w", t.Dir(), err)
		}
	}
	return nil
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
