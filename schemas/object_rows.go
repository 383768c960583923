package schemas

import "github.com/apache/arrow-go/v18/arrow/array"

// ObjectFields are the first columns of the cutouts and catalog tables: the
// object's identity, position and truth, when known, and its split.
type ObjectFields struct {
	ObjectID  string
	RA, Dec   Null[float64]
	Label     Null[int16]
	LabelName Null[string]
	Split     string
}

// ObjectColumns are the columns of ObjectFields in a cutouts or catalog
// record, bound by name; a column not bound is nil.
type ObjectColumns struct {
	ObjectID  *array.String
	RA, Dec   *array.Float64
	Label     *array.Int16
	LabelName *array.String
	Split     *array.String
}

func (c *ObjectColumns) bindings() []binding {
	return []binding{
		bindTo("object_id", &c.ObjectID), bindTo("ra", &c.RA), bindTo("dec", &c.Dec),
		bindTo("label", &c.Label), bindTo("label_name", &c.LabelName), bindTo("split", &c.Split),
	}
}

// row returns row i of the bound columns.
func (c *ObjectColumns) row(i int) ObjectFields {
	return ObjectFields{
		ObjectID:  valueAt[string](c.ObjectID, i),
		RA:        nullAt[float64](c.RA, i),
		Dec:       nullAt[float64](c.Dec, i),
		Label:     nullAt[int16](c.Label, i),
		LabelName: nullAt[string](c.LabelName, i),
		Split:     valueAt[string](c.Split, i),
	}
}

// objectBuilders are the field builders of the columns of ObjectFields in a
// builder of the cutouts or catalog table.
type objectBuilders struct {
	objectID         *array.StringBuilder
	ra, dec          *array.Float64Builder
	label            *array.Int16Builder
	labelName, split *array.StringBuilder
}

func (b *objectBuilders) bindings() []binding {
	return []binding{
		bindTo("object_id", &b.objectID), bindTo("ra", &b.ra), bindTo("dec", &b.dec),
		bindTo("label", &b.label), bindTo("label_name", &b.labelName), bindTo("split", &b.split),
	}
}

// append appends o.
func (b *objectBuilders) append(o *ObjectFields) {
	b.objectID.Append(o.ObjectID)
	appendNull(b.ra, o.RA)
	appendNull(b.dec, o.Dec)
	appendNull(b.label, o.Label)
	appendNull(b.labelName, o.LabelName)
	b.split.Append(o.Split)
}

// Len returns the number of rows appended and not yet built into a record.
func (b *objectBuilders) Len() int { return b.objectID.Len() }
