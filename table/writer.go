// Package table stores tables on disk: a folder of Parquet part files
// (part-00000.parquet, ...) and a _manifest.json, written atomically through
// package artifact.
//
// A Writer streams Arrow records into bounded row groups and parts; a Table
// scans them back as Arrow records, reading only the requested columns, row
// group by row group. Every part stores the Arrow schema (field metadata
// included) under the ARROW:schema key, so Arrow readers such as pyarrow
// restore it, and describes its columns for astronomy tools too: VOParquet's
// data-less VOTable (TOPCAT) and astropy's table_meta_yaml. CreateFile writes
// single Parquet files the same way, for layouts such as HATS.
package table

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/parquet-go/parquet-go"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/schemas"
)

// Manifest is the manifest of a table folder.
type Manifest = artifact.Manifest

// Defaults of Options.
const (
	DefaultRowsPerPart   = 16384
	DefaultRowGroupRows  = 1024
	DefaultRowGroupBytes = 32 << 20
)

// Keys of the Parquet key-value metadata written in every part, defined
// in schemas.
const (
	MetaSchemaVersion = schemas.MetaSchemaVersion
	MetaProducer      = schemas.MetaProducer
	MetaStage         = schemas.MetaStage
	MetaParams        = schemas.MetaParams
)

// progressFile records, in the staging folder of a resumable writer, the
// parts and keys completed so far.
const progressFile = ".progress.json"

// Options configure a Writer. Zero values take the defaults.
type Options struct {
	RowsPerPart   int64 // rows per part file (DefaultRowsPerPart)
	RowGroupRows  int64 // rows per Parquet row group (DefaultRowGroupRows)
	RowGroupBytes int64 // a row group is also closed once its input reaches this size (DefaultRowGroupBytes)
	// Metadata is stored in the key-value metadata of every part and in
	// the manifest.
	Metadata map[string]string
	// Manifest is the header of the manifest written by Commit; Format,
	// SchemaFingerprint, Rows and Parts are filled in.
	Manifest artifact.Manifest
}

func (o *Options) setDefaults() {
	if o.RowsPerPart <= 0 {
		o.RowsPerPart = DefaultRowsPerPart
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.RowGroupBytes <= 0 {
		o.RowGroupBytes = DefaultRowGroupBytes
	}
}

// Writer writes one table. It is not safe for concurrent use.
type Writer struct {
	dir       string
	staging   string
	schema    *arrow.Schema
	pqSchema  *parquet.Schema
	columns   []column
	writerOpt []parquet.WriterOption
	opt       Options
	resumable bool

	parts []artifact.Part
	keys  []string // completed keys, in order
	marks []int    // per key, the number of parts when it completed
	done  map[string]bool
	rows  int64

	part       *partWriter
	groupRows  int64
	groupBytes int64
	enc        encoder
	finished   bool
	err        error // sticky, see fail
}

// partWriter is the part file being written.
type partWriter struct {
	name string
	f    *os.File
	hash hash.Hash
	size int64
	pw   *parquet.Writer
	rows int64
}

func (p *partWriter) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	p.hash.Write(b[:n])
	p.size += int64(n)
	return n, err
}

// Create starts writing a table of the given schema into dir. Nothing is
// visible at dir until Commit; Abort discards the work.
func Create(dir string, schema *arrow.Schema, opt Options) (*Writer, error) {
	w, err := newWriter(dir, schema, opt)
	if err != nil {
		return nil, err
	}
	if w.staging, err = artifact.Stage(dir); err != nil {
		return nil, err
	}
	return w, nil
}

// CreateResumable is Create for a writer that survives being killed. Its
// staging folder is derived from opt.Manifest.Fingerprint (required) and the
// schema: a later CreateResumable with the same ones finds the parts that
// were completed by EndPart, and Done reports their keys so that the caller
// can skip the input they came from. Rows written after the last EndPart of
// a killed run are dropped. A different fingerprint starts afresh.
func CreateResumable(dir string, schema *arrow.Schema, opt Options) (*Writer, error) {
	if opt.Manifest.Fingerprint == "" {
		return nil, fmt.Errorf("create table %s: a resumable writer needs Options.Manifest.Fingerprint", dir)
	}
	w, err := newWriter(dir, schema, opt)
	if err != nil {
		return nil, err
	}
	w.resumable = true
	sum := sha256.Sum256([]byte(opt.Manifest.Fingerprint + "\x00" + schemas.Fingerprint(schema)))
	staging, resumed, err := artifact.StageResumable(dir, hex.EncodeToString(sum[:8]))
	if err != nil {
		return nil, err
	}
	w.staging = staging
	if resumed {
		if err := w.resume(); err != nil {
			return nil, fmt.Errorf("resume table %s: %w", dir, err)
		}
	}
	return w, nil
}

func newWriter(dir string, schema *arrow.Schema, opt Options) (*Writer, error) {
	opt.setDefaults()
	pqSchema, cols, encoded, err := fileSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("create table %s: %w", dir, err)
	}
	md := maps.Clone(opt.Metadata)
	if md == nil {
		md = map[string]string{}
	}
	md[MetaSchemaVersion] = schemas.Version
	md[MetaProducer] = opt.Manifest.Producer
	md[MetaStage] = opt.Manifest.Stage
	md[MetaParams] = string(opt.Manifest.Params)
	wopts := writerOptions(schema, pqSchema, cols, encoded, md)
	return &Writer{
		dir:       dir,
		schema:    schema,
		pqSchema:  pqSchema,
		columns:   cols,
		enc:       newEncoder(cols),
		writerOpt: wopts,
		opt:       opt,
		done:      map[string]bool{},
	}, nil
}

// Schema returns the schema of the table being written.
func (w *Writer) Schema() *arrow.Schema { return w.schema }

// Rows returns the number of rows written so far, including rows kept from
// an interrupted run.
func (w *Writer) Rows() int64 { return w.rows }

// Write appends the rows of rec, whose columns must match the writer's schema
// by position, name and type.
func (w *Writer) Write(rec arrow.Record) error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := sameLayout(w.dir, rec.Schema(), w.schema); err != nil {
		return err
	}
	n := rec.NumRows()
	if n == 0 {
		return nil
	}
	rowBytes := max(recordBytes(rec)/n, 1)
	for lo := int64(0); lo < n; {
		if w.part == nil {
			if err := w.openPart(); err != nil {
				return err
			}
		}
		hi := min(n,
			lo+w.opt.RowsPerPart-w.part.rows,
			lo+w.opt.RowGroupRows-w.groupRows,
			lo+max((w.opt.RowGroupBytes-w.groupBytes)/rowBytes, 1))
		if err := w.writeRows(rec, lo, hi); err != nil {
			return err
		}
		w.groupBytes += (hi - lo) * rowBytes
		if w.groupRows >= w.opt.RowGroupRows || w.groupBytes >= w.opt.RowGroupBytes {
			if err := w.flushRowGroup(); err != nil {
				return err
			}
		}
		if w.part.rows >= w.opt.RowsPerPart {
			if err := w.closePart(); err != nil {
				return err
			}
		}
		lo = hi
	}
	return nil
}

// writeRows writes rows [lo, hi) of rec into the current row group. All
// columns are converted before any is written, so that an invalid value
// leaves the row group as it was.
func (w *Writer) writeRows(rec arrow.Record, lo, hi int64) error {
	if err := w.enc.convert(rec, lo, hi, w.rows); err != nil {
		return fmt.Errorf("write table %s: %w", w.dir, err)
	}
	if err := w.enc.write(w.part.pw); err != nil {
		return w.fail(fmt.Errorf("write table %s: %s: %w", w.dir, w.part.name, err))
	}
	w.groupRows += hi - lo
	w.part.rows += hi - lo
	w.rows += hi - lo
	return nil
}

// fail makes err the answer to every later call but Abort: after a failed
// write the part on disk is in an unknown state.
func (w *Writer) fail(err error) error {
	w.err = err
	return err
}

// usable returns why the writer cannot take more calls, or nil.
func (w *Writer) usable() error {
	if w.finished {
		return fmt.Errorf("table %s: writer already committed or aborted", w.dir)
	}
	return w.err
}

func (w *Writer) flushRowGroup() error {
	if w.groupRows > 0 {
		if err := w.part.pw.Flush(); err != nil {
			return w.fail(fmt.Errorf("write table %s: %s: %w", w.dir, w.part.name, err))
		}
	}
	w.groupRows, w.groupBytes = 0, 0
	return nil
}

func (w *Writer) openPart() error {
	name := fmt.Sprintf("part-%05d.parquet", len(w.parts))
	f, err := os.Create(filepath.Join(w.staging, name))
	if err != nil {
		return fmt.Errorf("write table %s: %w", w.dir, err)
	}
	p := &partWriter{name: name, f: f, hash: sha256.New()}
	p.pw = parquet.NewWriter(p, w.writerOpt...)
	w.part = p
	w.enc.startFile()
	w.groupRows, w.groupBytes = 0, 0
	return nil
}

// closePart finishes the current part file and flushes it to disk.
func (w *Writer) closePart() error {
	p := w.part
	w.part = nil
	w.enc.setLengths(p.pw)
	err := p.pw.Close()
	if err == nil {
		err = p.f.Sync()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A part that did not close is unusable; on a full disk, removing it
		// gives the space back at once rather than at the next run.
		os.Remove(filepath.Join(w.staging, p.name))
		return w.fail(fmt.Errorf("write table %s: %s: %w", w.dir, p.name, err))
	}
	w.parts = append(w.parts, artifact.Part{
		File:   p.name,
		Rows:   p.rows,
		Bytes:  p.size,
		SHA256: hex.EncodeToString(p.hash.Sum(nil)),
	})
	w.groupRows, w.groupBytes = 0, 0
	return nil
}

// EndPart closes the current part, if any, and records key as completed:
// for a resumable writer durably, so that Done(key) is true after a restart.
// Callers call EndPart after writing the rows of one chunk of input.
func (w *Writer) EndPart(key string) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.part != nil {
		if err := w.closePart(); err != nil {
			return err
		}
	}
	if !w.done[key] {
		w.done[key] = true
		w.keys = append(w.keys, key)
		w.marks = append(w.marks, len(w.parts))
	}
	return w.saveProgress()
}

// saveProgress durably records the completed parts and keys of a resumable
// writer.
func (w *Writer) saveProgress() error {
	if !w.resumable {
		return nil
	}
	data, err := json.Marshal(progress{
		SchemaFingerprint: schemas.Fingerprint(w.schema),
		Parts:             w.parts,
		Keys:              w.keys,
		Marks:             w.marks,
	})
	if err == nil {
		err = artifact.WriteFileSync(filepath.Join(w.staging, progressFile), data)
	}
	if err != nil {
		return w.fail(fmt.Errorf("write table %s: record progress: %w", w.dir, err))
	}
	return nil
}

// Done reports whether EndPart(key) completed, in this run or, for a
// resumable writer, in an interrupted earlier one.
func (w *Writer) Done(key string) bool { return w.done[key] }

// Keys returns the completed keys, in the order of their EndPart.
func (w *Writer) Keys() []string { return slices.Clone(w.keys) }

// Forget undoes the last EndPart: key, which must be the last completed key,
// is no longer done and the rows written between the EndPart before it and
// its own are removed, along with any rows written since. Callers use it to
// bring several resumable writers fed from the same input back in step.
func (w *Writer) Forget(key string) error {
	if err := w.usable(); err != nil {
		return err
	}
	if len(w.keys) == 0 || w.keys[len(w.keys)-1] != key {
		return fmt.Errorf("write table %s: forget %q: not the last completed key", w.dir, key)
	}
	if w.part != nil {
		if err := w.closePart(); err != nil {
			return err
		}
	}
	keep := 0
	if n := len(w.marks); n > 1 {
		keep = w.marks[n-2]
	}
	for _, p := range w.parts[keep:] {
		if err := os.Remove(filepath.Join(w.staging, p.File)); err != nil {
			return fmt.Errorf("write table %s: forget %q: %w", w.dir, key, err)
		}
		w.rows -= p.Rows
	}
	w.parts = w.parts[:keep]
	w.keys = w.keys[:len(w.keys)-1]
	w.marks = w.marks[:len(w.marks)-1]
	delete(w.done, key)
	return w.saveProgress()
}

// Written returns a Table over the parts completed so far, in the staging
// folder: after a resumable writer restarted, the rows it kept. It is valid
// until the writer writes, forgets, commits or aborts.
func (w *Writer) Written() *Table {
	return &Table{
		dir:    w.staging,
		schema: w.schema,
		manifest: &Manifest{
			Format:            artifact.TableFormat,
			SchemaFingerprint: schemas.Fingerprint(w.schema),
			Rows:              sumRows(w.parts),
			Parts:             slices.Clone(w.parts),
		},
	}
}

func sumRows(parts []artifact.Part) int64 {
	var n int64
	for _, p := range parts {
		n += p.Rows
	}
	return n
}

// progress is the content of progressFile.
type progress struct {
	SchemaFingerprint string          `json:"schema_fingerprint"`
	Parts             []artifact.Part `json:"parts"`
	Keys              []string        `json:"keys"`
	Marks             []int           `json:"marks"` // per key, the number of parts when it completed
}

// resume restores the state recorded in the staging folder by EndPart and
// removes the files written after it. Parts whose size changed make it start
// afresh.
func (w *Writer) resume() error {
	var p progress
	data, err := os.ReadFile(filepath.Join(w.staging, progressFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if json.Unmarshal(data, &p) != nil || p.SchemaFingerprint != schemas.Fingerprint(w.schema) ||
			len(p.Marks) != len(p.Keys) || !partsIntact(w.staging, p.Parts) {
			p = progress{}
		}
	}
	keep := map[string]bool{progressFile: true}
	for _, part := range p.Parts {
		keep[part.File] = true
	}
	entries, err := os.ReadDir(w.staging)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !keep[e.Name()] && e.Name()[0] != '.' {
			if err := os.RemoveAll(filepath.Join(w.staging, e.Name())); err != nil {
				return err
			}
		}
	}
	if len(p.Parts) == 0 && len(p.Keys) == 0 {
		os.Remove(filepath.Join(w.staging, progressFile))
	}
	w.parts, w.keys, w.marks = p.Parts, p.Keys, p.Marks
	for _, k := range p.Keys {
		w.done[k] = true
	}
	w.rows = sumRows(p.Parts)
	return nil
}

func partsIntact(dir string, parts []artifact.Part) bool {
	for i, p := range parts {
		info, err := os.Stat(filepath.Join(dir, p.File))
		if err != nil || info.Size() != p.Bytes || p.File != fmt.Sprintf("part-%05d.parquet", i) {
			return false
		}
	}
	return true
}

// Commit finishes the table: it closes the last part (writing an empty one
// if the table has no rows, so that the schema is always on disk), writes
// the manifest and moves the folder into place atomically.
func (w *Writer) Commit() (*Manifest, error) {
	if err := w.usable(); err != nil {
		return nil, err
	}
	if w.part == nil && len(w.parts) == 0 {
		if err := w.openPart(); err != nil {
			return nil, err
		}
	}
	if w.part != nil {
		if err := w.closePart(); err != nil {
			return nil, err
		}
	}
	m := w.opt.Manifest
	m.Format = artifact.TableFormat
	m.SchemaFingerprint = schemas.Fingerprint(w.schema)
	m.Rows = w.rows
	m.Parts = w.parts
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	if len(w.opt.Metadata) > 0 {
		md := maps.Clone(m.Metadata)
		if md == nil {
			md = map[string]string{}
		}
		maps.Copy(md, w.opt.Metadata)
		m.Metadata = md
	}
	if err := os.Remove(filepath.Join(w.staging, progressFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("commit table %s: %w", w.dir, err)
	}
	if err := artifact.WriteManifest(w.staging, &m); err != nil {
		return nil, err
	}
	if err := artifact.Commit(w.staging, w.dir); err != nil {
		return nil, err
	}
	w.finished = true
	return &m, nil
}

// Abort stops the writer without committing. A plain writer discards
// everything written. A resumable writer keeps the parts completed by EndPart
// for a later CreateResumable with the same fingerprint, so that an
// interrupted or cancelled stage picks up where it stopped; it drops only
// the rows written since. Abort is safe to call after Commit, where it does
// nothing.
func (w *Writer) Abort() error {
	if w.finished {
		return nil
	}
	w.finished = true
	var unfinished string
	if w.part != nil {
		w.part.f.Close()
		unfinished = w.part.name
		w.part = nil
	}
	if !w.resumable {
		return artifact.Discard(w.staging)
	}
	if unfinished != "" {
		if err := os.Remove(filepath.Join(w.staging, unfinished)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("abort table %s: %w", w.dir, err)
		}
	}
	return nil
}

// sameLayout checks that found has the columns of want, in the same order,
// with the same types; nullability is checked on the values.
func sameLayout(dir string, found, want *arrow.Schema) error {
	if found.Equal(want) {
		return nil
	}
	for i, f := range want.Fields() {
		if i >= found.NumFields() {
			return &schemas.SchemaError{File: dir, Column: f.Name, Expected: schemas.DescribeField(f), Found: "missing"}
		}
		g := found.Field(i)
		if g.Name != f.Name {
			return &schemas.SchemaError{File: dir, Column: f.Name, Expected: fmt.Sprintf("column %d", i),
				Found: fmt.Sprintf("column %d is %q", i, g.Name)}
		}
		if !arrow.TypeEqual(g.Type, f.Type) {
			return &schemas.SchemaError{File: dir, Column: f.Name, Expected: schemas.DescribeField(f), Found: schemas.DescribeField(g)}
		}
	}
	if found.NumFields() > want.NumFields() {
		g := found.Field(want.NumFields())
		return &schemas.SchemaError{File: dir, Column: g.Name, Expected: "absent", Found: schemas.DescribeField(g)}
	}
	return nil
}
