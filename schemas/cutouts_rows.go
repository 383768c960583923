package schemas

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// CutoutRow is one row of a cutouts table (see Cutouts). Pixels and Raw
// share the memory of the record they were read from.
type CutoutRow struct {
	ObjectFields
	Height, Width, Channels int32
	Pixels                  []byte
	PixelScale              Null[float64]
	Bands, Source           string
	Survey, Release         Null[string]
	Redshift                Null[float64]
	Raw                     []byte // nil when null
	NonFinite               Null[int32]
	// VoteCounts are the vote counts per answer (see VoteCountsColumn),
	// nil when null; read, they share the record's memory.
	VoteCounts []float32
}

// CutoutsReader reads the columns of a cutouts record, bound by name. A
// column not bound is nil and left zero in the rows Row returns.
type CutoutsReader struct {
	ObjectColumns
	Height, Width, Channels *array.Int32
	Pixels                  *array.Binary
	PixelScale              *array.Float64
	Bands, Source           *array.String
	Survey, Release         *array.String
	Redshift                *array.Float64
	Raw                     *array.Binary
	NonFinite               *array.Int32
	VoteCounts              *array.List
}

func (r *CutoutsReader) bindings() []binding {
	return append(r.ObjectColumns.bindings(),
		bindTo("height", &r.Height), bindTo("width", &r.Width), bindTo("channels", &r.Channels),
		bindTo("pixels", &r.Pixels), bindTo("pixel_scale", &r.PixelScale), bindTo("bands", &r.Bands),
		bindTo("source", &r.Source), bindTo("survey", &r.Survey), bindTo("release", &r.Release),
		bindTo("redshift", &r.Redshift), bindTo("raw", &r.Raw), bindTo("nonfinite_values", &r.NonFinite),
		bindTo(VoteCountsColumn, &r.VoteCounts),
	)
}

// NewCutoutsReader binds the columns of rec named in columns, or every
// column of the cutouts table when columns is empty, in whatever order rec
// holds them: pass the columns a scan was projected onto. It returns a
// *ColumnError for a column rec lacks or holds with another type.
func NewCutoutsReader(rec arrow.Record, columns ...string) (*CutoutsReader, error) {
	return newReader[CutoutsReader]("cutouts", Cutouts, rec, columns)
}

// Row returns row i of the bound columns.
func (r *CutoutsReader) Row(i int) CutoutRow {
	c := CutoutRow{
		ObjectFields: r.ObjectColumns.row(i),
		Height:       valueAt[int32](r.Height, i),
		Width:        valueAt[int32](r.Width, i),
		Channels:     valueAt[int32](r.Channels, i),
		Pixels:       valueAt[[]byte](r.Pixels, i),
		PixelScale:   nullAt[float64](r.PixelScale, i),
		Bands:        valueAt[string](r.Bands, i),
		Source:       valueAt[string](r.Source, i),
		Survey:       nullAt[string](r.Survey, i),
		Release:      nullAt[string](r.Release, i),
		Redshift:     nullAt[float64](r.Redshift, i),
		NonFinite:    nullAt[int32](r.NonFinite, i),
	}
	if raw := nullAt[[]byte](r.Raw, i); raw.Valid {
		c.Raw = raw.V
	}
	if r.VoteCounts != nil && r.VoteCounts.IsValid(i) {
		lo, hi := r.VoteCounts.ValueOffsets(i)
		c.VoteCounts = r.VoteCounts.ListValues().(*array.Float32).Float32Values()[lo:hi]
	}
	return c
}

// CutoutsWriter appends rows to a record builder of the cutouts table, its
// field builders bound by name.
type CutoutsWriter struct {
	objectBuilders
	height, width, channels *array.Int32Builder
	pixels                  *array.BinaryBuilder
	pixelScale              *array.Float64Builder
	bands, source           *array.StringBuilder
	survey, release         *array.StringBuilder
	redshift                *array.Float64Builder
	raw                     *array.BinaryBuilder
	nonFinite               *array.Int32Builder
	voteCounts              *array.ListBuilder
}

// NewCutoutsWriter binds the field builders of b, a builder of the Cutouts
// schema or of any schema with its columns in another order. It returns a
// *ColumnError for a column b lacks or builds with another type.
func NewCutoutsWriter(b *array.RecordBuilder) (*CutoutsWriter, error) {
	return newWriter[CutoutsWriter]("cutouts", Cutouts, b)
}

func (w *CutoutsWriter) bindings() []binding {
	return append(w.objectBuilders.bindings(),
		bindTo("height", &w.height), bindTo("width", &w.width), bindTo("channels", &w.channels),
		bindTo("pixels", &w.pixels), bindTo("pixel_scale", &w.pixelScale), bindTo("bands", &w.bands),
		bindTo("source", &w.source), bindTo("survey", &w.survey), bindTo("release", &w.release),
		bindTo("redshift", &w.redshift), bindTo("raw", &w.raw), bindTo("nonfinite_values", &w.nonFinite),
		bindTo(VoteCountsColumn, &w.voteCounts),
	)
}

// Append appends c. A nil Raw is appended as null.
func (w *CutoutsWriter) Append(c *CutoutRow) {
	w.objectBuilders.append(&c.ObjectFields)
	w.height.Append(c.Height)
	w.width.Append(c.Width)
	w.channels.Append(c.Channels)
	w.pixels.Append(c.Pixels)
	appendNull(w.pixelScale, c.PixelScale)
	w.bands.Append(c.Bands)
	w.source.Append(c.Source)
	appendNull(w.survey, c.Survey)
	appendNull(w.release, c.Release)
	appendNull(w.redshift, c.Redshift)
	if c.Raw != nil {
		w.raw.Append(c.Raw)
	} else {
		w.raw.AppendNull()
	}
	appendNull(w.nonFinite, c.NonFinite)
	if c.VoteCounts == nil {
		w.voteCounts.AppendNull()
		return
	}
	w.voteCounts.Append(true)
	w.voteCounts.ValueBuilder().(*array.Float32Builder).AppendValues(c.VoteCounts, nil)
}
