// Package vo describes Arrow schemas in the forms astronomy tools read: the
// FIELD elements of an IVOA VOTable (with units, UCDs and descriptions, as
// in VOParquet's data-less VOTable and in VOTable exports) and astropy's
// table_meta_yaml header (the ECSV-style YAML that astropy's Parquet reader
// takes units and descriptions from).
package vo

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/astroformer/astroformer/schemas"
)

// Keys of the Parquet key-value metadata of VOParquet (IVOA note
// "VOParquet", version 1.0) and of astropy's Parquet writer.
const (
	VOParquetVersionKey = "IVOA.VOTable-Parquet.version"
	VOParquetContentKey = "IVOA.VOTable-Parquet.content"
	VOParquetVersion    = "1.0"
	AstropyMetaKey      = "table_meta_yaml"
	AstropyLenPrefix    = "table::len::" // + column name: string length in characters
)

// Field is the VO description of one Arrow field.
type Field struct {
	Name        string
	Datatype    string // VOTable datatype: boolean, short, int, long, float, double, char, unsignedByte
	Arraysize   string // "*" for strings, binary and lists, the length of fixed-size lists; "" for scalars
	Unit        string // VOUnits
	UCD         string
	Description string
	Nullable    bool
	Type        arrow.DataType // the Arrow type described
}

// Describe returns the VO description of f. Types without a VOTable
// counterpart are described by the nearest wider one (unsigned integers by
// the next signed type, timestamps as long); lists by their element with
// arraysize "*", fixed-size lists by their element with their length.
func Describe(f arrow.Field) Field {
	d := Field{Name: f.Name, Nullable: f.Nullable, Type: f.Type}
	d.Unit, _ = f.Metadata.GetValue(schemas.MetaUnit)
	d.UCD, _ = f.Metadata.GetValue(schemas.MetaUCD)
	d.Description, _ = f.Metadata.GetValue(schemas.MetaDescription)
	t := f.Type
	switch lt := t.(type) {
	case *arrow.ListType:
		t, d.Arraysize = lt.Elem(), "*"
	case *arrow.FixedSizeListType:
		t, d.Arraysize = lt.Elem(), strconv.Itoa(int(lt.Len()))
	}
	d.Datatype = datatype(t)
	if t.ID() == arrow.STRING || t.ID() == arrow.BINARY {
		d.Arraysize = "*"
	}
	return d
}

// datatype returns the VOTable datatype of an Arrow primitive type.
func datatype(t arrow.DataType) string {
	switch t.ID() {
	case arrow.BOOL:
		return "boolean"
	case arrow.UINT8, arrow.BINARY:
		return "unsignedByte"
	case arrow.INT8, arrow.INT16:
		return "short"
	case arrow.UINT16, arrow.INT32:
		return "int"
	case arrow.FLOAT32:
		return "float"
	case arrow.FLOAT64:
		return "double"
	case arrow.STRING:
		return "char"
	default: // INT64, UINT32, UINT64, TIMESTAMP and the rest
		return "long"
	}
}

// Fields describes every field of s, in order.
func Fields(s *arrow.Schema) []Field {
	out := make([]Field, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = Describe(f)
	}
	return out
}

// Info is a name and value recorded as a VOTable INFO element.
type Info struct{ Name, Value string }

// WriteHead writes a VOTable 1.4 document up to and including the FIELD
// elements of its one table: the XML declaration, VOTABLE, RESOURCE with
// one INFO per element of infos, and TABLE. The caller writes the DATA
// element, if any, and then Tail.
func WriteHead(w io.Writer, tableName string, fields []Field, infos []Info) error {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<VOTABLE version="1.4" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
		` xmlns="http://www.ivoa.net/xml/VOTable/v1.3"` +
		` xsi:schemaLocation="http://www.ivoa.net/xml/VOTable/v1.3 http://www.ivoa.net/xml/VOTable/v1.3">` + "\n")
	b.WriteString("<RESOURCE>\n")
	for _, in := range infos {
		fmt.Fprintf(&b, "<INFO name=%s value=%s/>\n", attr(in.Name), attr(in.Value))
	}
	fmt.Fprintf(&b, "<TABLE name=%s>\n", attr(tableName))
	for _, f := range fields {
		fmt.Fprintf(&b, "<FIELD name=%s datatype=%q", attr(f.Name), f.Datatype)
		if f.Arraysize != "" {
			fmt.Fprintf(&b, " arraysize=%q", f.Arraysize)
		}
		if f.Unit != "" {
			fmt.Fprintf(&b, " unit=%s", attr(f.Unit))
		}
		if f.UCD != "" {
			fmt.Fprintf(&b, " ucd=%s", attr(f.UCD))
		}
		if f.Description == "" {
			b.WriteString("/>\n")
			continue
		}
		fmt.Fprintf(&b, ">\n  <DESCRIPTION>%s</DESCRIPTION>\n</FIELD>\n", text(f.Description))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Tail is what closes a document begun by WriteHead.
const Tail = "</TABLE>\n</RESOURCE>\n</VOTABLE>\n"

// VOParquetContent returns the value of VOParquetContentKey for a Parquet
// file of schema s: a VOTable without data whose FIELDs describe the
// columns, in the order of the Parquet columns.
func VOParquetContent(s *arrow.Schema, tableName string) string {
	var b strings.Builder
	WriteHead(&b, tableName, Fields(s), nil) // a strings.Builder does not fail
	b.WriteString(Tail)
	return b.String()
}

// attr returns v as a double-quoted, escaped XML attribute value.
func attr(v string) string { return `"` + text(v) + `"` }

// text escapes v for XML character data and attribute values.
func text(v string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(v)) // a strings.Builder does not fail
	return b.String()
}

// AstropyYAML returns the value of AstropyMetaKey for schema s: the
// "datatype" list (name, ECSV datatype, unit, description and UCD of every
// column) and the table metadata meta, in the YAML of astropy's
// get_yaml_from_table. Every string is written as a JSON string, which is
// a valid YAML double-quoted scalar.
func AstropyYAML(s *arrow.Schema, meta map[string]string, keys []string) string {
	var b strings.Builder
	b.WriteString("datatype:\n")
	for _, f := range Fields(s) {
		fmt.Fprintf(&b, "- {name: %s, datatype: %s", quote(f.Name), ecsvType(f.Type))
		if f.Unit != "" {
			fmt.Fprintf(&b, ", unit: %s", quote(f.Unit))
		}
		if f.Description != "" {
			fmt.Fprintf(&b, ", description: %s", quote(f.Description))
		}
		if f.UCD != "" {
			fmt.Fprintf(&b, ", meta: {ucd: %s}", quote(f.UCD))
		}
		b.WriteString("}\n")
	}
	if len(keys) > 0 {
		b.WriteString("meta: !!omap\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "- {%s: %s}\n", quote(k), quote(meta[k]))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// quote returns v as a JSON string.
func quote(v string) string {
	data, _ := json.Marshal(v) // a string always marshals
	return string(data)
}

// ecsvType returns the ECSV datatype of an Arrow type: the numpy name for
// numbers and booleans, "string" otherwise.
func ecsvType(t arrow.DataType) string {
	switch t.ID() {
	case arrow.BOOL:
		return "bool"
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64:
		return t.Name()
	}
	return "string"
}
