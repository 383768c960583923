package schemas

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestCutoutsColumns(t *testing.T) {
	want := []string{"object_id", "ra", "dec", "label", "label_name", "split", "height", "width", "channels",
		"pixels", "pixel_scale", "bands", "source", "survey", "release", "redshift", "raw", "nonfinite_values", "vote_counts"}
	s := Cutouts()
	var got []string
	for _, f := range s.Fields() {
		got = append(got, f.Name)
		if _, ok := f.Metadata.GetValue(MetaDescription); !ok {
			t.Errorf("field %q has no description", f.Name)
		}
		if _, ok := f.Metadata.GetValue(MetaUnit); !ok {
			t.Errorf("field %q has no unit", f.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("columns %v, want %v", got, want)
	}
	if f, _ := s.FieldsByName("label"); !arrow.TypeEqual(f[0].Type, arrow.PrimitiveTypes.Int16) || !f[0].Nullable {
		t.Errorf("label is %s", f[0])
	}
	if f, _ := s.FieldsByName("ra"); mustUnit(f[0]) != "deg" {
		t.Errorf("ra unit %q", mustUnit(f[0]))
	}
}

func mustUnit(f arrow.Field) string {
	u, _ := f.Metadata.GetValue(MetaUnit)
	return u
}

func TestProbColumn(t *testing.T) {
	cases := map[string]string{
		"Barred Spiral Galaxies":           "p_barred_spiral",
		"In-between Round Smooth Galaxies": "p_in_between_round_smooth",
		"Edge-on Galaxies without Bulge":   "p_edge_on_galaxies_without_bulge",
		"  Cigar--Shaped  (smooth)  ":      "p_cigar_shaped_smooth",
		"airplane":                         "p_airplane",
		"Galaxies":                         "p_galaxies",
		"Class 7":                          "p_class_7",
	}
	for in, want := range cases {
		if got := ProbColumn(in); got != want {
			t.Errorf("ProbColumn(%q) = %q, want %q", in, got, want)
		}
	}
	cols, err := ProbColumns(Galaxy10Classes())
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != 10 || cols[5] != "p_barred_spiral" || cols[9] != "p_edge_on_galaxies_with_bulge" {
		t.Errorf("Galaxy10 columns %v", cols)
	}
	for _, bad := range [][]string{nil, {"Spiral", "spiral galaxies"}, {"a", "???"}, {"a", "a std"}} {
		if _, err := ProbColumns(bad); err == nil {
			t.Errorf("ProbColumns(%q) accepted", bad)
		}
	}
}

func TestCatalog(t *testing.T) {
	classes := []string{"Round Smooth Galaxies", "Barred Spiral Galaxies"}
	s := Catalog(classes, false)
	var names []string
	for _, f := range s.Fields() {
		names = append(names, f.Name)
	}
	want := []string{"object_id", "ra", "dec", "label", "label_name", "split", "predicted_class", "predicted_label",
		"confidence", "p_round_smooth", "p_barred_spiral", "entropy"}
	if !slices.Equal(names, want) {
		t.Errorf("catalog columns %v, want %v", names, want)
	}
	tta := Catalog(classes, true)
	if tta.NumFields() != len(want)+3 || tta.Field(12).Name != "p_round_smooth_std" || tta.Field(14).Name != "tta_views" {
		t.Errorf("tta catalog %s", tta)
	}
	defer func() {
		if recover() == nil {
			t.Error("Catalog with clashing class names did not panic")
		}
	}()
	Catalog([]string{"A", "a"}, false)
}

func TestValidate(t *testing.T) {
	expected := Cutouts()
	if err := Validate("f", expected, expected); err != nil {
		t.Fatal(err)
	}
	fields := slices.Clone(expected.Fields())
	fields[3].Type = arrow.PrimitiveTypes.Int32
	fields[3].Nullable = false
	err := Validate("runs/demo/cutouts/part-00000.parquet", arrow.NewSchema(fields, nil), expected)
	want := `runs/demo/cutouts/part-00000.parquet: column "label": expected int16 (nullable), found int32`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	var se *SchemaError
	if !errors.As(err, &se) || se.File != "runs/demo/cutouts/part-00000.parquet" || se.Column != "label" ||
		se.Expected != "int16 (nullable)" || se.Found != "int32" {
		t.Errorf("SchemaError %#v", err)
	}

	// A nullable column may be stored non-null, not the reverse; order is free.
	fields = slices.Clone(expected.Fields())
	fields[1].Nullable = false
	slices.Reverse(fields)
	if err := Validate("f", arrow.NewSchema(fields, nil), expected); err != nil {
		t.Errorf("non-null ra, reversed order: %v", err)
	}
	fields = slices.Clone(expected.Fields())
	fields[0].Nullable = true
	if err := Validate("f", arrow.NewSchema(fields, nil), expected); err == nil || !strings.Contains(err.Error(), "found string (nullable)") {
		t.Errorf("nullable object_id: %v", err)
	}
	if err := Validate("f", arrow.NewSchema(fields[1:], nil), expected); err == nil || !strings.Contains(err.Error(), `"object_id": expected string, found missing`) {
		t.Errorf("missing column: %v", err)
	}
	extra := append(slices.Clone(expected.Fields()), arrow.Field{Name: "extra", Type: arrow.PrimitiveTypes.Int8})
	if err := Validate("f", arrow.NewSchema(extra, nil), expected); err == nil || !strings.Contains(err.Error(), `"extra": expected absent`) {
		t.Errorf("extra column: %v", err)
	}
}

// TestValidateAddedColumns checks that a table written before a column was
// added (one marked MetaAdded) validates, and that only such columns may be
// missing.
func TestValidateAddedColumns(t *testing.T) {
	expected := Cutouts()
	fields := expected.Fields()
	// The two columns added since the first release, oldest first.
	for i, name := range []string{"nonfinite_values", VoteCountsColumn} {
		f := fields[len(fields)-2+i]
		if f.Name != name || !isAdded(f) {
			t.Fatalf("cutouts column %d is %s, added %v; want %s", len(fields)-2+i, f.Name, isAdded(f), name)
		}
	}
	older := arrow.NewSchema(fields[:len(fields)-2], nil)
	if err := Validate("f", older, expected); err != nil {
		t.Errorf("cutouts table without nonfinite_values and vote_counts: %v", err)
	}
	if m := Missing(older, expected); len(m) != 2 || m[0].Name != "nonfinite_values" || m[1].Name != VoteCountsColumn {
		t.Errorf("Missing = %v", m)
	}
	if m := Missing(expected, expected); len(m) != 0 {
		t.Errorf("Missing of a complete schema = %v", m)
	}
	noRA := slices.Delete(slices.Clone(fields), 1, 2) // ra is nullable but not added
	if err := Validate("f", arrow.NewSchema(noRA, nil), expected); err == nil || !strings.Contains(err.Error(), `"ra": expected float64 (nullable), found missing`) {
		t.Errorf("cutouts table without ra: %v", err)
	}
}

func TestFingerprint(t *testing.T) {
	a := Cutouts()
	if Fingerprint(a) != Fingerprint(Cutouts()) || len(Fingerprint(a)) != 64 {
		t.Fatal("fingerprint not stable")
	}
	fields := slices.Clone(a.Fields())
	fields[0].Metadata = arrow.Metadata{}
	if Fingerprint(arrow.NewSchema(fields, nil)) != Fingerprint(a) {
		t.Error("metadata changed the fingerprint")
	}
	fields[1].Nullable = false
	if Fingerprint(arrow.NewSchema(fields, nil)) == Fingerprint(a) {
		t.Error("nullability did not change the fingerprint")
	}
	if Fingerprint(Metrics()) == Fingerprint(Rejects()) {
		t.Error("different schemas share a fingerprint")
	}
}
