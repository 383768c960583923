package export

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// cell is one value of a supported column: an integer (booleans too), a
// float or a string, or null.
type cell struct {
	null bool
	i    int64
	f    float64
	s    string
}

// getCell returns row i of arr, a column of a supported type.
func getCell(arr arrow.Array, i int) cell {
	if arr.IsNull(i) {
		return cell{null: true}
	}
	switch a := arr.(type) {
	case *array.String:
		return cell{s: a.Value(i)}
	case *array.Boolean:
		if a.Value(i) {
			return cell{i: 1}
		}
		return cell{}
	case *array.Int8:
		return cell{i: int64(a.Value(i))}
	case *array.Int16:
		return cell{i: int64(a.Value(i))}
	case *array.Int32:
		return cell{i: int64(a.Value(i))}
	case *array.Int64:
		return cell{i: a.Value(i)}
	case *array.Uint8:
		return cell{i: int64(a.Value(i))}
	case *array.Float32:
		return cell{f: float64(a.Value(i))}
	case *array.Float64:
		return cell{f: a.Value(i)}
	}
	panic(fmt.Sprintf("export: unsupported array %T", arr)) // newSource refused the type
}

// appendCells appends the cells of row i of arr: its value for a scalar
// column, every element for a fixed-size list (all null for a null list).
func appendCells(dst []cell, arr arrow.Array, i int) []cell {
	l, ok := arr.(*array.FixedSizeList)
	if !ok {
		return append(dst, getCell(arr, i))
	}
	n := repeat(l.DataType())
	if l.IsNull(i) {
		for range n {
			dst = append(dst, cell{null: true})
		}
		return dst
	}
	start, _ := l.ValueOffsets(i)
	values := l.ListValues()
	for j := range n {
		dst = append(dst, getCell(values, int(start)+j))
	}
	return dst
}

// elemType returns the element type of a fixed-size list, else t.
func elemType(t arrow.DataType) arrow.DataType {
	if l, ok := t.(*arrow.FixedSizeListType); ok {
		return l.Elem()
	}
	return t
}

// repeat returns the length of a fixed-size list, else 1.
func repeat(t arrow.DataType) int {
	if l, ok := t.(*arrow.FixedSizeListType); ok {
		return int(l.Len())
	}
	return 1
}

// isFloat reports whether t is a floating-point type.
func isFloat(t arrow.DataType) bool {
	return t.ID() == arrow.FLOAT32 || t.ID() == arrow.FLOAT64
}

// float32Bits returns the IEEE bits of a float32 cell, NaN for null.
func float32Bits(c cell) uint32 {
	if c.null {
		return math.Float32bits(float32(math.NaN()))
	}
	return math.Float32bits(float32(c.f))
}

// float64Bits returns the IEEE bits of a float64 cell, NaN for null.
func float64Bits(c cell) uint64 {
	if c.null {
		return math.Float64bits(math.NaN())
	}
	return math.Float64bits(c.f)
}
