package manifest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"
)

// Counts are the volunteer vote counts of a vote-count catalog: a CSV or Parquet
// file with one row per object, an object id column and one count column
// per answer of a decision tree, named "<question>_<answer>" as the Galaxy
// Zoo DECaLS release names them. Other columns (fractions, totals,
// positions) are ignored. Counts is safe for concurrent lookups.
//
// An empty CSV cell or a Parquet null is 0 votes: no volunteer reached the
// question. A count that is not a whole number of votes from 0 to 2^24
// does not stop the read: the object's row is marked bad, and Lookup gives
// the reason, so that the cutout it belongs to is rejected with it.
//
// The catalog is held in memory, about 4 bytes per count column plus its
// object id and some 50 bytes of index per row (and while it is read, 4
// more for its line or row number).
type Counts struct {
	File    string   // as given to ReadCounts
	Key     string   // the object id column
	Columns []string // the count columns, in the order of each row's counts

	rows   map[string]int32 // object id → row
	counts []float32        // row-major: len(rows) × len(Columns)
	bad    map[int32]string // row → why its counts are not votes
	used   []atomic.Bool    // row → looked up
}

// maxVotes is the largest count held exactly by the float32 of a cutout's
// vote_counts.
const maxVotes = 1 << 24

// ReadCounts reads the vote-count catalog at path (".csv", or ".parquet"/".pq"),
// keyed by its key column, with the given count columns, all of which it
// must have. Two rows with one object id, or a row without one, are
// errors, as is a count column of a type that holds no numbers.
func ReadCounts(path, key string, columns []string) (*Counts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := &Counts{File: path, Key: key, Columns: columns, rows: map[string]int32{}, bad: map[int32]string{}}
	r := &countReader{c: c}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		r.unit = "line"
		err = r.readCSV(f)
	case ".parquet", ".pq":
		r.unit = "row"
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			err = r.readParquet(f, st.Size())
		}
	default:
		return nil, fmt.Errorf("%s: unknown vote-count catalog format %q (want .csv or .parquet)", path, filepath.Ext(path))
	}
	if err != nil {
		return nil, err
	}
	c.used = make([]atomic.Bool, len(c.rows))
	return c, nil
}

// Lookup returns the vote counts of object id, in the order of Columns, or
// why its row holds no votes (reject), or neither when the catalog has no
// row for it.
func (c *Counts) Lookup(id string) (counts []float32, reject string) {
	row, ok := c.rows[id]
	if !ok {
		return nil, ""
	}
	c.used[row].Store(true)
	if why, bad := c.bad[row]; bad {
		return nil, why
	}
	n := int32(len(c.Columns))
	return slices.Clone(c.counts[row*n : (row+1)*n]), ""
}

// Len returns the number of rows of the catalog.
func (c *Counts) Len() int { return len(c.rows) }

// Unused returns the number of rows no Lookup has asked for, and up to max
// of their object ids, sorted, as examples.
func (c *Counts) Unused(max int) (n int, examples []string) {
	for id, row := range c.rows {
		if c.used[row].Load() {
			continue
		}
		n++
		examples = append(examples, id)
	}
	slices.Sort(examples)
	return n, examples[:min(len(examples), max)]
}

// countReader fills a Counts row by row.
type countReader struct {
	c    *Counts
	unit string  // what the file's positions count: "line" (CSV) or "row" (Parquet)
	at   []int32 // row → its line or row number, to name the first of two rows of one id
	row  []float32
}

// position names line or row n of the file.
func (r *countReader) position(n int) string { return r.unit + " " + strconv.Itoa(n) }

// add adds the row of object id at line or row n, with counts r.row or
// the reason they are not votes.
func (r *countReader) add(id string, n int, why string) error {
	c := r.c
	if id == "" {
		return &Error{File: c.File, Position: r.position(n), Column: c.Key, Err: errors.New("empty object id")}
	}
	if first, dup := c.rows[id]; dup {
		return &Error{File: c.File, Position: r.position(n), Column: c.Key, Err: fmt.Errorf("object id %q is also on %s", id, r.position(int(r.at[first])))}
	}
	if len(c.rows) == math.MaxInt32 || n > math.MaxInt32 {
		return &Error{File: c.File, Position: r.position(n), Err: errors.New("more than 2^31-1 rows")}
	}
	row := int32(len(c.rows))
	c.rows[id] = row
	r.at = append(r.at, int32(n))
	if why != "" {
		c.bad[row] = why
		r.row = r.row[:0]
		r.row = append(r.row, make([]float32, len(c.Columns))...)
	}
	c.counts = append(c.counts, r.row...)
	return nil
}

// vote checks one count, v, of column col at position: it returns the
// reason v is not a number of votes, or "".
func (r *countReader) vote(v float64, col, position string) string {
	if v >= 0 && v <= maxVotes && v == math.Trunc(v) {
		return ""
	}
	return fmt.Sprintf("%s: %s, column %s: %v is not a whole number of votes from 0 to %d", r.c.File, position, col, v, maxVotes)
}

// readCSV reads a CSV catalog with a header row.
func (r *countReader) readCSV(in io.Reader) error {
	c := r.c
	cr := csv.NewReader(in)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return &Error{File: c.File, Position: "header", Err: errors.New("empty file, expected a header row")}
	}
	if err != nil {
		return &Error{File: c.File, Err: err}
	}
	index, err := csvColumns(header, c.File)
	if err != nil {
		return err
	}
	at, err := r.columnIndexes(func(col string) (int, bool) { i, ok := index[col]; return i, ok })
	if err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &Error{File: c.File, Err: err}
		}
		line, _ := cr.FieldPos(0)
		position := r.position(line)
		why := ""
		r.row = r.row[:0]
		for k, col := range c.Columns {
			v, w := r.csvVote(strings.TrimSpace(rec[at[k]]), col, position)
			if why == "" {
				why = w
			}
			r.row = append(r.row, v)
		}
		if err := r.add(strings.TrimSpace(rec[at[len(c.Columns)]]), line, why); err != nil {
			return err
		}
	}
}

// csvVote reads the count s of column col at position: an empty cell is 0
// votes. It returns the reason s is not a number of votes, or "".
func (r *countReader) csvVote(s, col, position string) (float32, string) {
	if s == "" {
		return 0, ""
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Sprintf("%s: %s, column %s: %q is not a number", r.c.File, position, col, s)
	}
	return float32(v), r.vote(v, col, position)
}

// columnIndexes returns the index of every count column, then of the key
// column, as lookup finds them, or an error naming the first missing one.
func (r *countReader) columnIndexes(lookup func(col string) (int, bool)) ([]int, error) {
	c := r.c
	var at []int
	for _, col := range append(slices.Clip(c.Columns), c.Key) {
		i, ok := lookup(col)
		if !ok {
			what := "vote count"
			if col == c.Key {
				what = "object id"
			}
			return nil, &Error{File: c.File, Position: "header", Column: col, Err: fmt.Errorf("no %s column %q", what, col)}
		}
		at = append(at, i)
	}
	return at, nil
}

// readParquet reads a Parquet catalog of size bytes. The key column holds
// strings (BYTE_ARRAY) or integers; the count columns INT32, INT64, FLOAT
// or DOUBLE values, not repeated.
func (r *countReader) readParquet(in io.ReaderAt, size int64) error {
	c := r.c
	f, err := parquet.OpenFile(in, size)
	if err != nil {
		return &Error{File: c.File, Err: err}
	}
	numbers := []parquet.Kind{parquet.Int32, parquet.Int64, parquet.Float, parquet.Double}
	at, err := r.columnIndexes(func(col string) (int, bool) {
		leaf, ok := f.Schema().Lookup(col)
		return leaf.ColumnIndex, ok
	})
	if err != nil {
		return err
	}
	for _, col := range append(slices.Clip(c.Columns), c.Key) {
		leaf, _ := f.Schema().Lookup(col)
		kinds := numbers
		if col == c.Key {
			kinds = []parquet.Kind{parquet.ByteArray, parquet.Int32, parquet.Int64}
		}
		if kind := leaf.Node.Type().Kind(); leaf.MaxRepetitionLevel > 0 || !slices.Contains(kinds, kind) {
			return &Error{File: c.File, Position: "schema", Column: col, Err: fmt.Errorf("%v column (repeated: %v), expected one value of %v per row", kind, leaf.MaxRepetitionLevel > 0, kinds)}
		}
	}
	byLeaf := map[int]int{} // leaf column index → position in at
	for k, i := range at {
		byLeaf[i] = k
	}
	return eachRow(f, c.File, func(values parquet.Row, row int) error {
		return r.addParquetRow(values, byLeaf, row)
	})
}

// addParquetRow adds one row of a Parquet catalog; byLeaf maps the leaf
// column index of the count columns to their position, and of the key
// column to len(Columns).
func (r *countReader) addParquetRow(values parquet.Row, byLeaf map[int]int, n int) error {
	c, position := r.c, r.position(n)
	r.row = append(r.row[:0], make([]float32, len(c.Columns))...)
	id, why := "", ""
	for _, v := range values {
		k, ok := byLeaf[v.Column()]
		switch {
		case !ok || v.IsNull():
		case k == len(c.Columns):
			if v.Kind() == parquet.ByteArray {
				id = string(v.ByteArray())
			} else {
				id = strconv.FormatInt(v.Int64(), 10)
			}
		default:
			x := v.Double()
			switch v.Kind() {
			case parquet.Float:
				x = float64(v.Float())
			case parquet.Int32:
				x = float64(v.Int32())
			case parquet.Int64:
				x = float64(v.Int64())
			}
			if w := r.vote(x, c.Columns[k], position); w != "" && why == "" {
				why = w
			}
			r.row[k] = float32(x)
		}
	}
	return r.add(id, n, why)
}
