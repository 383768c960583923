package manifest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

var voteColumns = []string{"bar_strong", "bar_no"}

func writeText(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkLookup checks the counts, or the reject reason, that c gives for id.
func checkLookup(t *testing.T, c *Counts, id string, want []float32, reject string) {
	t.Helper()
	got, why := c.Lookup(id)
	if !slices.Equal(got, want) || !strings.Contains(why, reject) || (reject == "") != (why == "") {
		t.Errorf("%s: counts %v, reject %q; want %v, %q", id, got, why, want, reject)
	}
}

func TestReadCountsCSV(t *testing.T) {
	path := writeText(t, "votes.csv", "\ufeffiauname,ra,bar_no , bar_strong,bar_no_fraction\n"+
		"J1,10,3,1,0.75\n"+
		"J2,11,,,\n"+ // nobody reached the question
		"J3,12,2.5,1,\n"+
		"J4,13,x,1,\n"+
		"J5,14,4.0,-1,\n"+
		"J6,15,nan,0,\n")
	c, err := ReadCounts(path, "iauname", voteColumns)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 6 {
		t.Errorf("%d rows, want 6", c.Len())
	}
	checkLookup(t, c, "J1", []float32{1, 3}, "")
	checkLookup(t, c, "J2", []float32{0, 0}, "")
	checkLookup(t, c, "J3", nil, "votes.csv: line 4, column bar_no: 2.5 is not a whole number of votes")
	checkLookup(t, c, "J4", nil, `line 5, column bar_no: "x" is not a number`)
	checkLookup(t, c, "J5", nil, "line 6, column bar_strong: -1 is not a whole number")
	checkLookup(t, c, "J6", nil, "line 7, column bar_no: NaN is not a whole number")
	checkLookup(t, c, "nobody", nil, "")
	n, examples := c.Unused(10)
	if n != 0 || len(examples) != 0 {
		t.Errorf("unused %d %v after looking every row up", n, examples)
	}
}

func TestReadCountsUnused(t *testing.T) {
	path := writeText(t, "votes.csv", "object_id,bar_strong,bar_no\nc,1,1\na,1,1\nb,0,0\n")
	c, err := ReadCounts(path, "object_id", voteColumns)
	if err != nil {
		t.Fatal(err)
	}
	c.Lookup("b")
	if n, examples := c.Unused(1); n != 2 || !slices.Equal(examples, []string{"a"}) {
		t.Errorf("unused %d %v, want 2 [a]", n, examples)
	}
}

func TestReadCountsErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "v.csv: header: empty file"},
		{"object_id,bar_strong\nx,1\n", `v.csv: header, column bar_no: no vote count column "bar_no"`},
		{"bar_strong,bar_no\n1,1\n", `v.csv: header, column object_id: no object id column "object_id"`},
		{"object_id,bar_strong,bar_no\n,1,1\n", "v.csv: line 2, column object_id: empty object id"},
		{"object_id,bar_strong,bar_no\nx,1,1\ny,0,0\nx,2,2\n", `v.csv: line 4, column object_id: object id "x" is also on line 2`},
		{"object_id,bar_strong,bar_no\nx,1\n", "wrong number of fields"},
		{"object_id,bar_strong,bar_no,bar_no\nx,1,1,1\n", "v.csv: header, column bar_no: duplicate column"},
	} {
		path := writeText(t, "v.csv", tc.in)
		if _, err := ReadCounts(path, "object_id", voteColumns); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
	if _, err := ReadCounts(writeText(t, "v.txt", "x"), "object_id", voteColumns); err == nil || !strings.Contains(err.Error(), "unknown vote-count catalog format") {
		t.Errorf(".txt: %v", err)
	}
}

func TestReadCountsParquet(t *testing.T) {
	type row struct {
		ID     string   `parquet:"object_id"`
		Strong *int64   `parquet:"bar_strong,optional"`
		No     *float32 `parquet:"bar_no,optional"`
		Total  int32    `parquet:"bar_total-votes"`
	}
	path := filepath.Join(t.TempDir(), "votes.parquet")
	writeParquet(t, path, []row{
		{ID: "a", Strong: ptr[int64](4), No: ptr[float32](7)},
		{ID: "b"},
		{ID: "c", Strong: ptr[int64](-2), No: ptr[float32](1)},
		{ID: "d", Strong: ptr[int64](1), No: ptr[float32](0.5)},
	})
	c, err := ReadCounts(path, "object_id", voteColumns)
	if err != nil {
		t.Fatal(err)
	}
	checkLookup(t, c, "a", []float32{4, 7}, "")
	checkLookup(t, c, "b", []float32{0, 0}, "")
	checkLookup(t, c, "c", nil, "votes.parquet: row 3, column bar_strong: -2 is not a whole number")
	checkLookup(t, c, "d", nil, "row 4, column bar_no: 0.5 is not a whole number")

	type idRow struct {
		ID     int64 `parquet:"object_id"`
		Strong int32 `parquet:"bar_strong"`
		No     int32 `parquet:"bar_no"`
	}
	writeParquet(t, path, []idRow{{ID: 1237648720693755918, Strong: 1, No: 2}})
	if c, err = ReadCounts(path, "object_id", voteColumns); err != nil {
		t.Fatal(err)
	}
	checkLookup(t, c, "1237648720693755918", []float32{1, 2}, "")

	type badRow struct {
		ID     string `parquet:"object_id"`
		Strong string `parquet:"bar_strong"`
		No     int32  `parquet:"bar_no"`
	}
	writeParquet(t, path, []badRow{{ID: "a", Strong: "1"}})
	if _, err := ReadCounts(path, "object_id", voteColumns); err == nil || !strings.Contains(err.Error(), "schema, column bar_strong: BYTE_ARRAY column") {
		t.Errorf("string count column: %v", err)
	}
}

// FuzzReadCounts feeds arbitrary CSV to the vote-count reader: it returns
// an error naming the file, or counts whose every row is either whole
// numbers of votes or a reason naming the file.
func FuzzReadCounts(f *testing.F) {
	for _, s := range []string{
		"object_id,bar_strong,bar_no\na,1,2\nb,,\n",
		"iauname,bar_no,bar_strong,x\nJ1,3,1,y\nJ2,-1,2.5,\n",
		"object_id,bar_strong,bar_no\na,nan,1e30\na,1,1\n",
		"\ufeffobject_id,bar_strong,bar_no\r\n\"q,1\",1,1\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c := &Counts{File: "fuzz.csv", Key: "object_id", Columns: voteColumns, rows: map[string]int32{}, bad: map[int32]string{}}
		if err := (&countReader{c: c, unit: "line"}).readCSV(strings.NewReader(in)); err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		c.used = make([]atomic.Bool, len(c.rows))
		for id := range c.rows {
			counts, why := c.Lookup(id)
			switch {
			case why != "":
				if counts != nil || !strings.HasPrefix(why, "fuzz.csv: ") {
					t.Fatalf("%q: counts %v with reason %q", id, counts, why)
				}
			case len(counts) != len(voteColumns):
				t.Fatalf("%q: %d counts", id, len(counts))
			default:
				for _, v := range counts {
					if !(v >= 0) || v != float32(int64(v)) {
						t.Fatalf("%q: count %v", id, v)
					}
				}
			}
		}
	})
}
