package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func ptr[T any](v T) *T { return &v }

func TestReadCSV(t *testing.T) {
	in := "\ufeffpath, object_id,ra,dec,label,label_name,extra\n" +
		"a/1.png,obj1,10.5,-5.25,2,spiral,x\n" +
		"\"b,2.png\",,,,,,\n" +
		"c.png,obj3,359.9,89,0,elliptical,\n"
	got, err := ReadCSV(strings.NewReader(in), "m.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Path: "a/1.png", ObjectID: "obj1", RA: ptr(10.5), Dec: ptr(-5.25), Label: ptr[int16](2), LabelName: ptr("spiral"), Position: "line 2"},
		{Path: "b,2.png", Position: "line 3"},
		{Path: "c.png", ObjectID: "obj3", RA: ptr(359.9), Dec: ptr(89.0), Label: ptr[int16](0), LabelName: ptr("elliptical"), Position: "line 4"},
	}
	checkEntries(t, got, want)
}

func TestReadCSVDerivesLabelsFromNames(t *testing.T) {
	in := "path,label_name\n1.png,zeta\n2.png,alpha\n3.png,\n4.png,zeta\n"
	got, err := ReadCSV(strings.NewReader(in), "m.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []*int16{ptr[int16](1), ptr[int16](0), nil, ptr[int16](1)}
	for i, e := range got {
		if !equalPtr(e.Label, want[i]) {
			t.Errorf("row %d: label %v, want %v", i, deref(e.Label), deref(want[i]))
		}
	}
}

func TestReadCSVErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "m.csv: header: empty file"},
		{"object_id,ra\nx,1\n", `m.csv: header: no "path" column`},
		{"path,path\na,b\n", "m.csv: header, column path: duplicate column"},
		{"path,ra,dec\na,abc,1\n", `m.csv: line 2, column ra: "abc" is not a number`},
		{"path,ra,dec\na,1,\n", "m.csv: line 2, column ra: ra and dec must both be set"},
		{"path,ra,dec\na,1,2\nb,400,2\n", "m.csv: line 3, column ra: 400 is outside [0, 360]"},
		{"path,ra,dec\na,1,-91\n", "m.csv: line 2, column dec: -91 is outside [-90, 90]"},
		{"path,ra,dec\na,NaN,1\n", "m.csv: line 2, column ra: NaN is outside"},
		{"path,label\na,-1\n", "m.csv: line 2, column label: -1 is outside [0, 32767]"},
		{"path,label\na,1.5\n", `m.csv: line 2, column label: "1.5" is not an integer`},
		{"path,label\n,1\n", "m.csv: line 2, column path: empty path"},
		{"path,label\na,1,2\n", "m.csv: record on line 2: wrong number of fields"},
		{"path,label,label_name\na,1,x\nb,1,y\n", `m.csv: line 3, column label_name: label 1 is named "y" here and "x" before`},
		{"path,label,label_name\na,1,x\nb,2,x\n", `m.csv: line 3, column label: name "x" has label 2 here and 1 before`},
	} {
		_, err := ReadCSV(strings.NewReader(tc.in), "m.csv")
		var me *Error
		if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadCSV(%q) error = %v, want *Error containing %q", tc.in, err, tc.want)
		}
	}
}

type parquetRow struct {
	Path      string   `parquet:"path"`
	ObjectID  *string  `parquet:"object_id,optional"`
	RA        *float64 `parquet:"ra,optional"`
	Dec       *float32 `parquet:"dec,optional"`
	Label     *int64   `parquet:"label,optional"`
	LabelName *string  `parquet:"label_name,optional"`
	Other     int32    `parquet:"other"`
}

func writeParquet[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadParquet(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.parquet")
	writeParquet(t, path, []parquetRow{
		{Path: "x/1.jpg", ObjectID: ptr("o1"), RA: ptr(12.25), Dec: ptr[float32](-3.5), Label: ptr[int64](4), LabelName: ptr("bar")},
		{Path: "/abs/2.jpg"},
	})
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Path: filepath.Join(dir, "x/1.jpg"), ObjectID: "o1", RA: ptr(12.25), Dec: ptr(-3.5), Label: ptr[int16](4), LabelName: ptr("bar"), Position: "row 1"},
		{Path: "/abs/2.jpg", Position: "row 2"},
	}
	checkEntries(t, got, want)

	writeParquet(t, path, []parquetRow{{Path: "a", Label: ptr[int64](40000)}})
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "row 1, column label: 40000 is outside") {
		t.Errorf("label out of range: %v", err)
	}

	type badRow struct {
		Path string `parquet:"path"`
		RA   string `parquet:"ra"`
	}
	writeParquet(t, path, []badRow{{Path: "a", RA: "1"}})
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "schema, column ra: type BYTE_ARRAY") {
		t.Errorf("string ra column: %v", err)
	}
}

func TestReadResolvesCSVPaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(path, []byte("path\nsub/a.png\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "sub/a.png"); got[0].Path != want {
		t.Errorf("path %q, want %q", got[0].Path, want)
	}
	if _, err := Read(filepath.Join(dir, "list.txt")); err == nil {
		t.Error("unknown extension accepted")
	}
}

// FuzzReadCSV checks that no input panics and that whatever is accepted
// satisfies the documented invariants.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"path,object_id,ra,dec,label,label_name,band\na.fits,x,1,2,3,n,g\n",
		"path,label_name\n1.png,b\n2.png,a\n",
		"path\n\"quoted\"\"name\"\n",
		"path,ra,dec\na,1e400,0\n",
		"path,label\na,99999\n",
		"\ufeffpath\r\nx\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := ReadCSV(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, e := range entries {
			if e.Path == "" || (e.RA == nil) != (e.Dec == nil) || e.Position == "" {
				t.Fatalf("invalid entry accepted: %+v", e)
			}
			if e.RA != nil && (*e.RA < 0 || *e.RA > 360 || *e.Dec < -90 || *e.Dec > 90) {
				t.Fatalf("position out of range accepted: %v %v", *e.RA, *e.Dec)
			}
			if e.Label != nil && *e.Label < 0 {
				t.Fatalf("negative label accepted: %d", *e.Label)
			}
		}
	})
}

func checkEntries(t *testing.T, got, want []Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Path != w.Path || g.ObjectID != w.ObjectID || g.Band != w.Band || g.Position != w.Position ||
			!equalPtr(g.RA, w.RA) || !equalPtr(g.Dec, w.Dec) || !equalPtr(g.Label, w.Label) || !equalPtr(g.LabelName, w.LabelName) {
			t.Errorf("entry %d:\n got %s\nwant %s", i, show(g), show(w))
		}
	}
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func show(e Entry) string {
	return fmt.Sprintf("path=%q id=%q band=%q pos=%q ra=%v dec=%v label=%v name=%v",
		e.Path, e.ObjectID, e.Band, e.Position, deref(e.RA), deref(e.Dec), deref(e.Label), deref(e.LabelName))
}

func TestClassNames(t *testing.T) {
	e := func(l int16, name string) Entry {
		en := Entry{Label: &l}
		if name != "" {
			en.LabelName = &name
		}
		return en
	}
	if got := ClassNames([]Entry{e(1, "b"), {}, e(0, "a"), e(1, "b")}); fmt.Sprint(got) != "[a b]" {
		t.Errorf("ClassNames = %q", got)
	}
	if got := ClassNames([]Entry{e(2, "c"), e(0, "a")}); got != nil {
		t.Errorf("with a gap: %q", got)
	}
	if got := ClassNames([]Entry{e(0, "")}); got != nil {
		t.Errorf("without names: %q", got)
	}
}
