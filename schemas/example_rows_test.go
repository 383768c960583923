package schemas_test

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/schemas"
)

// Rows are appended and read through typed writers and readers that bind
// the columns by name, so code never depends on the order of a schema's
// columns; a scan projected onto some columns names them to the reader.
func ExampleNewMetricsReader() {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schemas.Metrics())
	defer b.Release()
	w, err := schemas.NewMetricsWriter(b)
	if err != nil {
		panic(err)
	}
	w.Append(schemas.MetricsRow{Scope: "val", Epoch: schemas.Some[int32](3), Name: "top1", Value: 0.91})
	w.Append(schemas.MetricsRow{Scope: "eval", Name: "f1", Class: schemas.Some("spiral"), Value: 0.8})
	rec := b.NewRecord()
	defer rec.Release()

	r, err := schemas.NewMetricsReader(rec, "name", "class", "value")
	if err != nil {
		panic(err)
	}
	for i := range int(rec.NumRows()) {
		m := r.Row(i)
		fmt.Println(m.Name, m.Class.Valid, m.Class.V, m.Value)
	}
	_, err = schemas.NewCutoutsReader(rec, "pixels")
	fmt.Println(err)
	// Output:
	// top1 false  0.91
	// f1 true spiral 0.8
	// cutouts: no column "pixels" (expected binary)
}
