package schemas

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// reversed returns s with its columns in the reverse order.
func reversed(s *arrow.Schema) *arrow.Schema {
	fields := slices.Clone(s.Fields())
	slices.Reverse(fields)
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

// without returns s without the column named name.
func without(s *arrow.Schema, name string) *arrow.Schema {
	fields := slices.DeleteFunc(slices.Clone(s.Fields()), func(f arrow.Field) bool { return f.Name == name })
	return arrow.NewSchema(fields, nil)
}

// retyped returns s with the column named name of type typ.
func retyped(s *arrow.Schema, name string, typ arrow.DataType) *arrow.Schema {
	fields := slices.Clone(s.Fields())
	for i := range fields {
		if fields[i].Name == name {
			fields[i].Type = typ
		}
	}
	return arrow.NewSchema(fields, nil)
}

// builder returns a record builder of schema s, released when t ends.
func builder(t *testing.T, s *arrow.Schema) *array.RecordBuilder {
	b := array.NewRecordBuilder(memory.DefaultAllocator, s)
	t.Cleanup(b.Release)
	return b
}

// checkRows compares row(i) with want[i] for every row of want.
func checkRows[R comparable](t *testing.T, row func(i int) R, want []R) {
	t.Helper()
	for i, w := range want {
		if got := row(i); got != w {
			t.Errorf("row %d: %+v, want %+v", i, got, w)
		}
	}
}

// emptyRecord returns a record of schema s without rows.
func emptyRecord(t *testing.T, s *arrow.Schema) arrow.Record {
	b := builder(t, s)
	rec := b.NewRecord()
	t.Cleanup(rec.Release)
	return rec
}

// wantColumnError checks that err is a *ColumnError naming column, with the
// expected and found types in its message.
func wantColumnError(t *testing.T, err error, column, expected, found string) {
	t.Helper()
	var ce *ColumnError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want a *ColumnError", err)
	}
	if ce.Column != column || ce.Expected != expected || ce.Found != found {
		t.Errorf("error %#v, want column %q expected %q found %q", ce, column, expected, found)
	}
	for _, s := range []string{column, expected, found} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestMetricsRoundTripReversed(t *testing.T) {
	rows := []MetricsRow{
		{Scope: "train", Epoch: Some[int32](1), Step: Some[int64](10), Name: "loss", Value: 2.5},
		{Scope: "eval", Name: "top1", Value: 0.7, Lower: Some(0.6), Upper: Some(0.8)},
		{Scope: "eval", Name: "f1", Class: Some("spiral"), Value: 0.5},
	}
	b := builder(t, reversed(Metrics()))
	w, err := NewMetricsWriter(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		w.Append(r)
	}
	rec := b.NewRecord()
	defer rec.Release()
	if got := rec.Column(0).(*array.Float64).Value(1); got != 0.8 {
		t.Errorf("first column (upper) of row 1 is %v, want 0.8", got)
	}
	r, err := NewMetricsReader(rec)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, r.Row, rows)
	part, err := NewMetricsReader(rec, "name", "value")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := part.Row(0), (MetricsRow{Name: "loss", Value: 2.5}); got != want || part.Scope != nil {
		t.Errorf("projected row %+v, want %+v", got, want)
	}
}

func TestMetricsMissingAndRetyped(t *testing.T) {
	_, err := NewMetricsReader(emptyRecord(t, without(Metrics(), "epoch")))
	wantColumnError(t, err, "epoch", "int32", "")
	if _, err := NewMetricsReader(emptyRecord(t, without(Metrics(), "epoch")), "scope", "value"); err != nil {
		t.Errorf("projection without epoch: %v", err)
	}
	_, err = NewMetricsReader(emptyRecord(t, retyped(Metrics(), "step", arrow.PrimitiveTypes.Int32)))
	wantColumnError(t, err, "step", "int64", "int32")
	b := builder(t, retyped(Metrics(), "value", arrow.PrimitiveTypes.Float32))
	_, err = NewMetricsWriter(b)
	wantColumnError(t, err, "value", "float64", "float32")
	if _, err := NewMetricsReader(emptyRecord(t, Metrics()), "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown column: error %v", err)
	}
}

func TestCutoutsRoundTripReversed(t *testing.T) {
	row := CutoutRow{
		ObjectFields: ObjectFields{ObjectID: "a", RA: Some(10.5), Label: Some[int16](3), LabelName: Some("spiral"), Split: SplitVal},
		Height:       2, Width: 1, Channels: 3, Pixels: []byte{1, 2, 3, 4, 5, 6},
		PixelScale: Some(0.262), Bands: "grz", Source: "f.h5", Release: Some("dr10"),
		Raw: []byte{0, 0, 128, 63}, NonFinite: Some[int32](2),
	}
	bare := CutoutRow{ObjectFields: ObjectFields{ObjectID: "b"}, Height: 1, Width: 1, Channels: 1, Pixels: []byte{9}}
	b := builder(t, reversed(Cutouts()))
	w, err := NewCutoutsWriter(b)
	if err != nil {
		t.Fatal(err)
	}
	w.Append(&row)
	w.Append(&bare)
	if w.Len() != 2 {
		t.Errorf("Len %d after two rows", w.Len())
	}
	rec := b.NewRecord()
	defer rec.Release()
	r, err := NewCutoutsReader(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Row(0); !reflect.DeepEqual(got, row) {
		t.Errorf("row 0: %+v, want %+v", got, row)
	}
	if got := r.Row(1); !reflect.DeepEqual(got, bare) {
		t.Errorf("row 1: %+v, want %+v", got, bare)
	}
	part, err := NewCutoutsReader(rec, "label", "object_id")
	if err != nil {
		t.Fatal(err)
	}
	want := CutoutRow{ObjectFields: ObjectFields{ObjectID: "a", Label: Some[int16](3)}}
	if got := part.Row(0); !reflect.DeepEqual(got, want) || part.Pixels != nil {
		t.Errorf("projected row %+v, want %+v", got, want)
	}
}

func TestCutoutsMissingAndRetyped(t *testing.T) {
	_, err := NewCutoutsReader(emptyRecord(t, without(Cutouts(), "pixels")), "object_id", "pixels")
	wantColumnError(t, err, "pixels", "binary", "")
	_, err = NewCutoutsReader(emptyRecord(t, retyped(Cutouts(), "label", arrow.PrimitiveTypes.Int32)))
	wantColumnError(t, err, "label", "int16", "int32")
	b := builder(t, without(Cutouts(), "nonfinite_values"))
	_, err = NewCutoutsWriter(b)
	wantColumnError(t, err, "nonfinite_values", "int32", "")
}

func TestCatalogRoundTripReversed(t *testing.T) {
	classes := []string{"Round Smooth Galaxies", "Barred Spiral Galaxies"}
	for _, tta := range []bool{false, true} {
		row := CatalogRow{
			ObjectFields:   ObjectFields{ObjectID: "a", Dec: Some(-5.0), Split: SplitTest},
			PredictedClass: 1, PredictedLabel: classes[1], Confidence: 0.75,
			Probs: []float32{0.25, 0.75}, Entropy: 0.5,
		}
		if tta {
			row.ProbStds, row.TTAViews = []float32{0.1, 0.2}, 8
		}
		b := builder(t, reversed(Catalog(classes, tta)))
		w, err := NewCatalogWriter(b, classes)
		if err != nil {
			t.Fatal(err)
		}
		w.Append(&row)
		rec := b.NewRecord()
		columns := []string{}
		if tta {
			columns = []string{"object_id", "ra", "dec", "label", "label_name", "split", "predicted_class", "predicted_label",
				"confidence", "p_round_smooth", "p_barred_spiral", "entropy", "p_round_smooth_std", "p_barred_spiral_std", "tta_views"}
		}
		r, err := NewCatalogReader(rec, classes, columns...)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Row(0); !reflect.DeepEqual(got, row) {
			t.Errorf("tta %v: row %+v, want %+v", tta, got, row)
		}
		rec.Release()
	}
}

func TestCatalogMissingAndRetyped(t *testing.T) {
	classes := []string{"a", "b"}
	_, err := NewCatalogReader(emptyRecord(t, without(Catalog(classes, false), "p_b")), classes)
	wantColumnError(t, err, "p_b", "float32", "")
	_, err = NewCatalogReader(emptyRecord(t, retyped(Catalog(classes, false), "predicted_class", arrow.PrimitiveTypes.Int32)), classes)
	wantColumnError(t, err, "predicted_class", "int16", "int32")
	b := builder(t, without(Catalog(classes, true), "p_a_std"))
	_, err = NewCatalogWriter(b, classes)
	wantColumnError(t, err, "p_a_std", "float32", "")
}

func TestRejectsRoundTripReversed(t *testing.T) {
	rows := []RejectRow{
		{Stage: "src", Source: "f.fits", Position: "row 3", ObjectID: Some("x"), Reason: "bad"},
		{Stage: "src", Source: "f.fits", Position: "row 4", Reason: "worse"},
	}
	b := builder(t, reversed(Rejects()))
	if w, err := NewRejectsWriter(b); err != nil {
		t.Fatal(err)
	} else {
		w.Append(rows[0])
		w.Append(rows[1])
		if w.Len() != 2 {
			t.Errorf("Len %d after two rows", w.Len())
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	if r, err := NewRejectsReader(rec); err != nil {
		t.Fatal(err)
	} else {
		checkRows(t, r.Row, rows)
	}
}

func TestColumnAndBuilder(t *testing.T) {
	rec := emptyRecord(t, reversed(Rejects()))
	if c, err := Column[*array.String]("rejects", rec, "reason"); err != nil || c == nil {
		t.Errorf("reason: %v, %v", c, err)
	}
	_, err := Column[*array.Int64]("rejects", rec, "reason")
	wantColumnError(t, err, "reason", "*array.Int64", "utf8")
	_, err = Column[*array.String]("rejects", rec, "nope")
	wantColumnError(t, err, "nope", "*array.String", "")
	b := builder(t, Metrics())
	if fb, err := Builder[*array.Float64Builder]("metrics", b, "value"); err != nil || fb == nil {
		t.Errorf("value: %v, %v", fb, err)
	}
	_, err = Builder[*array.Int32Builder]("metrics", b, "step")
	wantColumnError(t, err, "step", "*array.Int32Builder", "int64")
}

func TestNullPtr(t *testing.T) {
	v := 3
	if n := NullFrom(&v); n != Some(3) || *n.Ptr() != 3 {
		t.Errorf("NullFrom(&3) = %+v", n)
	}
	if n := NullFrom[int](nil); n.Valid || n.Ptr() != nil {
		t.Errorf("NullFrom(nil) = %+v", n)
	}
}
