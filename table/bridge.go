package table

// The bridge between Arrow and parquet-go: one Parquet leaf column per Arrow
// field, built from the Arrow schema, with conversions of Arrow arrays to
// Parquet values and of Parquet values back into Arrow builders.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// arrowSchemaKey is the Parquet key-value metadata key under which Arrow
// writers (Arrow C++, pyarrow, arrow-go) store the base64 IPC-serialised
// Arrow schema.
const arrowSchemaKey = "ARROW:schema"

// orderedGroup is a Parquet group whose fields keep the order of the Arrow
// schema (parquet.Group sorts them by name), so that Arrow readers that match
// the stored Arrow schema to Parquet columns by position read them right.
type orderedGroup []parquet.Field

func (g orderedGroup) ID() int                           { return 0 }
func (g orderedGroup) String() string                    { return fmt.Sprintf("group(%d fields)", len(g)) }
func (g orderedGroup) Type() parquet.Type                { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool                    { return false }
func (g orderedGroup) Repeated() bool                    { return false }
func (g orderedGroup) Required() bool                    { return true }
func (g orderedGroup) Leaf() bool                        { return false }
func (g orderedGroup) Fields() []parquet.Field           { return g }
func (g orderedGroup) Encoding() encoding.Encoding       { return nil }
func (g orderedGroup) Compression() compress.Codec       { return nil }
func (g orderedGroup) GoType() reflect.Type              { return reflect.TypeFor[map[string]any]() }
func (g orderedGroup) Name() string                      { return "" }
func (g orderedGroup) Value(reflect.Value) reflect.Value { return reflect.Value{} }

// namedNode names a node inside an orderedGroup.
type namedNode struct {
	parquet.Node
	name string
}

func (n namedNode) Name() string                      { return n.name }
func (n namedNode) Value(reflect.Value) reflect.Value { return reflect.Value{} }

// column maps one Arrow field to its Parquet leaf column.
type column struct {
	field  arrow.Field
	path   []string // path of the leaf in the Parquet schema
	node   parquet.Node
	list   bool           // field is a list of a primitive type
	leaf   arrow.DataType // the field's type, or its element type for lists
	scale  int64          // timestamps in seconds are stored in milliseconds
	maxDef int            // definition level of a present leaf value
	// Lists only: a list at definition level >= listDef is not null, an
	// element slot exists at >= listDef+1.
	listDef int
}

// parquetSchema builds the Parquet schema of an Arrow schema.
func parquetSchema(s *arrow.Schema) (*parquet.Schema, []column, error) {
	cols := make([]column, s.NumFields())
	group := make(orderedGroup, s.NumFields())
	seen := make(map[string]bool, s.NumFields())
	for i, f := range s.Fields() {
		if f.Name == "" || seen[f.Name] {
			return nil, nil, fmt.Errorf("column %d: name %q is empty or not unique", i, f.Name)
		}
		seen[f.Name] = true
		c, err := newColumn(f)
		if err != nil {
			return nil, nil, err
		}
		cols[i] = c
		group[i] = namedNode{Node: c.node, name: f.Name}
	}
	return parquet.NewSchema("schema", group), cols, nil
}

func newColumn(f arrow.Field) (column, error) {
	c := column{field: f, path: []string{f.Name}, leaf: f.Type, scale: 1}
	elemNullable := false
	if lt, ok := f.Type.(arrow.ListLikeType); ok && (f.Type.ID() == arrow.LIST || f.Type.ID() == arrow.FIXED_SIZE_LIST) {
		// Fixed-size lists are stored as Parquet lists too; the stored
		// Arrow schema gives readers their size back.
		c.list = true
		c.leaf = lt.Elem()
		elemNullable = lt.ElemField().Nullable
		c.path = []string{f.Name, "list", "element"}
	}
	leaf, scale, err := leafNode(c.leaf)
	if err != nil {
		return column{}, fmt.Errorf("column %q: %w", f.Name, err)
	}
	c.scale = scale
	node := leaf
	if c.list {
		if elemNullable {
			node = parquet.Optional(node)
		}
		node = parquet.List(node)
	}
	if f.Nullable {
		node = parquet.Optional(node)
		c.listDef = 1
	}
	c.node = node
	c.maxDef = c.listDef
	if c.list {
		c.maxDef++ // the repeated level
		if elemNullable {
			c.maxDef++
		}
	}
	return c, nil
}

// leafNodes are the Parquet nodes of the primitive Arrow types whose values
// are stored as they are, all but timestamps.
var leafNodes = map[arrow.Type]parquet.Node{
	arrow.BOOL:    parquet.Leaf(parquet.BooleanType),
	arrow.INT8:    parquet.Int(8),
	arrow.INT16:   parquet.Int(16),
	arrow.INT32:   parquet.Int(32),
	arrow.INT64:   parquet.Int(64),
	arrow.UINT8:   parquet.Uint(8),
	arrow.UINT16:  parquet.Uint(16),
	arrow.UINT32:  parquet.Uint(32),
	arrow.UINT64:  parquet.Uint(64),
	arrow.FLOAT32: parquet.Leaf(parquet.FloatType),
	arrow.FLOAT64: parquet.Leaf(parquet.DoubleType),
	arrow.STRING:  parquet.String(),
	arrow.BINARY:  parquet.Leaf(parquet.ByteArrayType),
}

// timestampUnits are the Parquet unit of the timestamps of each Arrow unit
// and the factor their values are multiplied by when stored: Parquet has no
// seconds.
var timestampUnits = map[arrow.TimeUnit]struct {
	unit  parquet.TimeUnit
	scale int64
}{
	arrow.Second:      {parquet.Millisecond, 1000},
	arrow.Millisecond: {parquet.Millisecond, 1},
	arrow.Microsecond: {parquet.Microsecond, 1},
	arrow.Nanosecond:  {parquet.Nanosecond, 1},
}

// leafNode returns the Parquet node of a primitive Arrow type and the factor
// its values are multiplied by when stored.
func leafNode(t arrow.DataType) (parquet.Node, int64, error) {
	if node, ok := leafNodes[t.ID()]; ok {
		return node, 1, nil
	}
	if ts, ok := t.(*arrow.TimestampType); ok {
		if u, ok := timestampUnits[ts.Unit]; ok {
			return parquet.TimestampAdjusted(u.unit, ts.TimeZone != ""), u.scale, nil
		}
	}
	return nil, 0, fmt.Errorf("unsupported Arrow type %s", t)
}

// isBlob reports whether a column holds binary values, whose min/max
// statistics would be large and meaningless.
func (c *column) isBlob() bool { return c.leaf.ID() == arrow.BINARY }

// appendValues appends the Parquet values of arr, a column of c, to dst.
// columnIndex is the index of c's leaf in the Parquet schema; firstRow, the
// table row of arr's first element, for error messages.
func (c *column) appendValues(dst []parquet.Value, arr arrow.Array, columnIndex int, firstRow int64) ([]parquet.Value, error) {
	values := arr // the values read by get: arr's, or its lists' elements
	list, isList := arr.(array.ListLike)
	if c.list {
		if !isList {
			return dst, fmt.Errorf("column %q: got a %s array, want a list", c.field.Name, arr.DataType())
		}
		values = list.ListValues()
	}
	get, err := valueGetter(values, c.scale)
	if err != nil {
		return dst, fmt.Errorf("column %q: %w", c.field.Name, err)
	}
	for i := 0; i < arr.Len(); i++ {
		switch {
		case arr.IsNull(i):
			if !c.field.Nullable {
				return dst, fmt.Errorf("row %d: column %q: null in a non-nullable column", firstRow+int64(i), c.field.Name)
			}
			dst = append(dst, parquet.NullValue().Level(0, 0, columnIndex))
		case !c.list:
			dst = append(dst, get(i).Level(0, c.maxDef, columnIndex))
		default:
			start, end := list.ValueOffsets(i)
			if dst, err = c.appendElements(dst, values, get, int(start), int(end), columnIndex, firstRow+int64(i)); err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}

// appendElements appends the Parquet values of the list of row, a non-null
// list holding the elements start to end of elems, read by get.
func (c *column) appendElements(dst []parquet.Value, elems arrow.Array, get func(i int) parquet.Value, start, end, columnIndex int, row int64) ([]parquet.Value, error) {
	if start == end {
		return append(dst, parquet.NullValue().Level(0, c.listDef, columnIndex)), nil
	}
	elemNullable := c.maxDef > c.listDef+1
	for j := start; j < end; j++ {
		rep := 1
		if j == start {
			rep = 0
		}
		if elems.IsNull(j) {
			if !elemNullable {
				return dst, fmt.Errorf("row %d: column %q: null element in a list of non-nullable elements", row, c.field.Name)
			}
			dst = append(dst, parquet.NullValue().Level(rep, c.listDef+1, columnIndex))
			continue
		}
		dst = append(dst, get(j).Level(rep, c.maxDef, columnIndex))
	}
	return dst, nil
}

// valueGetter returns a function reading element i of arr as a Parquet value.
// Byte arrays alias the Arrow buffers; parquet-go copies them when written.
func valueGetter(arr arrow.Array, scale int64) (func(i int) parquet.Value, error) {
	switch a := arr.(type) {
	case *array.Boolean:
		return func(i int) parquet.Value { return parquet.BooleanValue(a.Value(i)) }, nil
	case *array.Int8:
		return int32Getter(a.Int8Values()), nil
	case *array.Int16:
		return int32Getter(a.Int16Values()), nil
	case *array.Int32:
		return func(i int) parquet.Value { return parquet.Int32Value(a.Value(i)) }, nil
	case *array.Int64:
		return func(i int) parquet.Value { return parquet.Int64Value(a.Value(i)) }, nil
	case *array.Uint8:
		return int32Getter(a.Uint8Values()), nil
	case *array.Uint16:
		return int32Getter(a.Uint16Values()), nil
	case *array.Uint32:
		return int32Getter(a.Uint32Values()), nil
	case *array.Uint64:
		return func(i int) parquet.Value { return parquet.Int64Value(int64(a.Value(i))) }, nil
	case *array.Float32:
		return func(i int) parquet.Value { return parquet.FloatValue(a.Value(i)) }, nil
	case *array.Float64:
		return func(i int) parquet.Value { return parquet.DoubleValue(a.Value(i)) }, nil
	case *array.String:
		data, offsets := a.ValueBytes(), a.ValueOffsets()
		base := offsets[0]
		return func(i int) parquet.Value {
			return parquet.ByteArrayValue(data[offsets[i]-base : offsets[i+1]-base])
		}, nil
	case *array.Binary:
		return func(i int) parquet.Value { return parquet.ByteArrayValue(a.Value(i)) }, nil
	case *array.Timestamp:
		return func(i int) parquet.Value { return parquet.Int64Value(int64(a.Value(i)) * scale) }, nil
	}
	return nil, fmt.Errorf("unsupported Arrow array %T", arr)
}

// narrowInt is an integer type that Parquet stores as INT32 and that is not
// int32 itself.
type narrowInt interface {
	int8 | int16 | uint8 | uint16 | uint32
}

// int32Getter returns a function reading element i of values as a Parquet
// INT32 value.
func int32Getter[T narrowInt](values []T) func(i int) parquet.Value {
	return func(i int) parquet.Value { return parquet.Int32Value(int32(values[i])) }
}

// listBuilder is what list and fixed-size list builders have in common.
type listBuilder interface {
	Append(bool)
	ValueBuilder() array.Builder
}

// appender adds the values of one Parquet leaf column to an Arrow builder.
type appender struct {
	c      *column
	b      array.Builder
	elems  array.Builder // lists: the element builder
	put    func(parquet.Value)
	rowsIn int // rows started by the values appended so far
}

func newAppender(c *column, b array.Builder) (*appender, error) {
	a := &appender{c: c, b: b}
	target := b
	if c.list {
		lb, ok := b.(listBuilder)
		if !ok {
			return nil, fmt.Errorf("column %q: builder %T is not a list builder", c.field.Name, b)
		}
		a.elems = lb.ValueBuilder()
		target = a.elems
	}
	put, err := valuePutter(target, c.scale)
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", c.field.Name, err)
	}
	a.put = put
	return a, nil
}

// add appends one Parquet value. For lists, a value at repetition level 0
// starts a new row.
func (a *appender) add(v parquet.Value) {
	def := v.DefinitionLevel()
	if !a.c.list {
		a.rowsIn++
		if def < a.c.maxDef {
			a.b.AppendNull()
			return
		}
		a.put(v)
		return
	}
	if v.RepetitionLevel() == 0 {
		a.rowsIn++
		if def < a.c.listDef {
			a.b.AppendNull()
			return
		}
		a.b.(listBuilder).Append(true)
	}
	switch {
	case def <= a.c.listDef: // empty list
	case def < a.c.maxDef:
		a.elems.AppendNull()
	default:
		a.put(v)
	}
}

// valuePutter returns a function appending a non-null Parquet value to b.
func valuePutter(b array.Builder, scale int64) (func(parquet.Value), error) {
	switch b := b.(type) {
	case *array.BooleanBuilder:
		return func(v parquet.Value) { b.Append(v.Boolean()) }, nil
	case *array.Int8Builder:
		return int32Putter(b), nil
	case *array.Int16Builder:
		return int32Putter(b), nil
	case *array.Int32Builder:
		return func(v parquet.Value) { b.Append(v.Int32()) }, nil
	case *array.Int64Builder:
		return func(v parquet.Value) { b.Append(v.Int64()) }, nil
	case *array.Uint8Builder:
		return int32Putter(b), nil
	case *array.Uint16Builder:
		return int32Putter(b), nil
	case *array.Uint32Builder:
		return int32Putter(b), nil
	case *array.Uint64Builder:
		return func(v parquet.Value) { b.Append(uint64(v.Int64())) }, nil
	case *array.Float32Builder:
		return func(v parquet.Value) { b.Append(v.Float()) }, nil
	case *array.Float64Builder:
		return func(v parquet.Value) { b.Append(v.Double()) }, nil
	case *array.StringBuilder:
		return func(v parquet.Value) { b.BinaryBuilder.Append(v.ByteArray()) }, nil
	case *array.BinaryBuilder:
		return func(v parquet.Value) { b.Append(v.ByteArray()) }, nil
	case *array.TimestampBuilder:
		return func(v parquet.Value) { b.Append(arrow.Timestamp(v.Int64() / scale)) }, nil
	}
	return nil, fmt.Errorf("unsupported Arrow builder %T", b)
}

// int32Putter returns a function appending a Parquet INT32 value to b, an
// Arrow builder of a narrower integer type.
func int32Putter[T narrowInt](b interface{ Append(T) }) func(parquet.Value) {
	return func(v parquet.Value) { b.Append(T(v.Int32())) }
}

// encodeArrowSchema serialises s as Arrow writers do for ARROW:schema: an
// IPC stream holding only the schema message, base64-encoded.
func encodeArrowSchema(s *arrow.Schema) (string, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(s))
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// decodeArrowSchema reverses encodeArrowSchema.
func decodeArrowSchema(v string) (*arrow.Schema, error) {
	data, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		// Some writers omit the padding.
		data, err = base64.RawStdEncoding.DecodeString(v)
		if err != nil {
			return nil, err
		}
	}
	r, err := ipc.NewReader(bytes.NewReader(data), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	return r.Schema(), nil
}
