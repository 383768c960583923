// Package schemas defines the Arrow schema of every astroformer table, once.
//
// Each table (cutouts, rejects, catalog, metrics) is described by a function
// returning a fresh *arrow.Schema whose fields carry a unit and a description
// in their metadata. Validate compares a schema found on disk with the one a
// reader expects and reports the first difference as a *SchemaError.
package schemas

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
)

// Version is the version of the table schemas defined here. It is stored in
// every Parquet part file and changes whenever a schema changes incompatibly.
const Version = "1"

// Keys of the Arrow field metadata set on every field. Units are VOUnits
// (IVOA Units in the VO 1.0) strings, "" for a dimensionless value.
const (
	MetaUnit        = "unit"
	MetaDescription = "description"
)

// MetaUCD is the Arrow field metadata key of a column's IVOA Unified Content
// Descriptor (UCD1+), such as "pos.eq.ra;meta.main". It is set on the
// columns that have one; exports (FITS TUCDn, VOTable ucd) carry it.
const MetaUCD = "ucd"

// MetaAdded marks, in its field metadata, a nullable column added to a table
// after tables without it were written. Validate accepts a table that lacks
// such a column, and table.OpenAs reads it as all null; its value says when
// the column was added.
const MetaAdded = "added"

// MetaTable is the schema-level metadata key naming the table a schema
// describes ("cutouts", "rejects", "catalog", "metrics").
const MetaTable = "astroformer.table"

// CutoutsRowGroupRows is the Parquet row group size of cutouts tables. Row
// groups are a table's unit of random access, and training reads them in a
// random order: small ones let a bounded shuffle window mix classes even when
// the rows are sorted by class, as Galaxy10 DECaLS and folder-per-class
// sources have them (128 rows of 256×256×3 are 25 MB).
const CutoutsRowGroupRows = 128

// Split names used in the split column. An empty string means not assigned.
const (
	SplitTrain = "train"
	SplitVal   = "val"
	SplitTest  = "test"
)

// field builds an Arrow field with unit and description metadata.
func field(name string, typ arrow.DataType, nullable bool, unit, description string) arrow.Field {
	return arrow.Field{
		Name:     name,
		Type:     typ,
		Nullable: nullable,
		Metadata: arrow.NewMetadata(
			[]string{MetaUnit, MetaDescription},
			[]string{unit, description},
		),
	}
}

// withUCD sets the UCD of f.
func withUCD(f arrow.Field, ucd string) arrow.Field {
	keys := append(slices.Clone(f.Metadata.Keys()), MetaUCD)
	values := append(slices.Clone(f.Metadata.Values()), ucd)
	f.Metadata = arrow.NewMetadata(keys, values)
	return f
}

// added marks f, a nullable field, as added to its table at when.
func added(f arrow.Field, when string) arrow.Field {
	keys := append(slices.Clone(f.Metadata.Keys()), MetaAdded)
	values := append(slices.Clone(f.Metadata.Values()), when)
	f.Metadata = arrow.NewMetadata(keys, values)
	return f
}

func tableSchema(table string, fields []arrow.Field) *arrow.Schema {
	md := arrow.NewMetadata([]string{MetaTable}, []string{table})
	return arrow.NewSchema(fields, &md)
}

// Cutouts returns the schema of the cutouts table: one row per galaxy image.
// Pixels are raw uint8 bytes in height×width×channels (HWC) order.
func Cutouts() *arrow.Schema {
	return tableSchema("cutouts", []arrow.Field{
		withUCD(field("object_id", arrow.BinaryTypes.String, false, "", "unique identifier of the object within the table"), "meta.id;meta.main"),
		withUCD(field("ra", arrow.PrimitiveTypes.Float64, true, "deg", "right ascension, ICRS"), "pos.eq.ra;meta.main"),
		withUCD(field("dec", arrow.PrimitiveTypes.Float64, true, "deg", "declination, ICRS"), "pos.eq.dec;meta.main"),
		withUCD(field("label", arrow.PrimitiveTypes.Int16, true, "", "class index; null when unlabelled"), "meta.code.class"),
		withUCD(field("label_name", arrow.BinaryTypes.String, true, "", "class name of label"), "src.class"),
		withUCD(field("split", arrow.BinaryTypes.String, false, "", `dataset split: "train", "val", "test" or "" when not assigned`), "meta.dataset"),
		withUCD(field("height", arrow.PrimitiveTypes.Int32, false, "pixel", "image height"), "meta.number"),
		withUCD(field("width", arrow.PrimitiveTypes.Int32, false, "pixel", "image width"), "meta.number"),
		withUCD(field("channels", arrow.PrimitiveTypes.Int32, false, "", "number of image channels"), "meta.number"),
		field("pixels", arrow.BinaryTypes.Binary, false, "", "raw uint8 pixels, height×width×channels (HWC) order"),
		withUCD(field("pixel_scale", arrow.PrimitiveTypes.Float64, true, "arcsec/pixel", "angular size of one pixel"), "instr.scale"),
		withUCD(field("bands", arrow.BinaryTypes.String, false, "", `photometric bands of the channels in order, e.g. "grz"`), "instr.bandpass"),
		withUCD(field("source", arrow.BinaryTypes.String, false, "", "file or generator the cutout was read from"), "meta.ref"),
		withUCD(field("survey", arrow.BinaryTypes.String, true, "", "survey name"), "meta.dataset"),
		withUCD(field("release", arrow.BinaryTypes.String, true, "", "survey data release"), "meta.version"),
		withUCD(field("redshift", arrow.PrimitiveTypes.Float64, true, "", "redshift"), "src.redshift"),
		field("raw", arrow.BinaryTypes.Binary, true, "", "optional float32 little-endian planar (bands, height, width) fluxes as read from the source"),
		added(field("nonfinite_values", arrow.PrimitiveTypes.Int32, true, "", "flux values, over all bands, that were NaN or infinite in the source and were set to 0; null when the source has no float fluxes"), "2026-11"),
		added(withUCD(field(VoteCountsColumn, arrow.ListOfNonNullable(arrow.PrimitiveTypes.Float32), true, "",
			"volunteer vote counts per answer of a decision tree, in the order the table's metadata key astroformer.vote_columns names them; null when the object has no votes"), "meta.number"), "2026-12"),
	})
}

// The cutouts table's vote counts: the column, and the metadata keys that
// name the decision tree, its count columns ("<question>_<answer>", a JSON
// list in the order of the counts) and, when the counts were joined from
// one, the vote catalog's file name.
const (
	VoteCountsColumn = "vote_counts"
	MetaVoteTree     = "astroformer.vote_tree"
	MetaVoteColumns  = "astroformer.vote_columns"
	MetaVoteCatalog  = "astroformer.vote_catalog"
)

// Rejects returns the schema of the rejects table: one row per input record
// that a stage could not turn into an output row.
func Rejects() *arrow.Schema {
	return tableSchema("rejects", []arrow.Field{
		field("stage", arrow.BinaryTypes.String, false, "", "stage that rejected the record"),
		field("source", arrow.BinaryTypes.String, false, "", "file the record came from"),
		field("position", arrow.BinaryTypes.String, false, "", `position within the source, e.g. "row 17" or "byte 4096"`),
		field("object_id", arrow.BinaryTypes.String, true, "", "object identifier, when known"),
		field("reason", arrow.BinaryTypes.String, false, "", "why the record was rejected"),
	})
}

// Metrics returns the schema of the metrics table, in long format: one row
// per (scope, epoch, step, name, class) value with an optional interval.
func Metrics() *arrow.Schema {
	return tableSchema("metrics", []arrow.Field{
		field("scope", arrow.BinaryTypes.String, false, "", `what the value describes, e.g. "train", "val", "test", "eval"`),
		field("epoch", arrow.PrimitiveTypes.Int32, true, "", "training epoch"),
		field("step", arrow.PrimitiveTypes.Int64, true, "", "optimiser step"),
		field("name", arrow.BinaryTypes.String, false, "", "metric name"),
		field("class", arrow.BinaryTypes.String, true, "", "class name for per-class metrics"),
		field("value", arrow.PrimitiveTypes.Float64, false, "", "metric value"),
		field("lower", arrow.PrimitiveTypes.Float64, true, "", "lower bound of the confidence interval"),
		field("upper", arrow.PrimitiveTypes.Float64, true, "", "upper bound of the confidence interval"),
	})
}

// Galaxy10Classes returns the ten Galaxy10 DECals class names in label order.
func Galaxy10Classes() []string {
	return []string{
		"Disturbed Galaxies",
		"Merging Galaxies",
		"Round Smooth Galaxies",
		"In-between Round Smooth Galaxies",
		"Cigar Shaped Smooth Galaxies",
		"Barred Spiral Galaxies",
		"Unbarred Tight Spiral Galaxies",
		"Unbarred Loose Spiral Galaxies",
		"Edge-on Galaxies without Bulge",
		"Edge-on Galaxies with Bulge",
	}
}
