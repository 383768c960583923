// Package ingest is the shared sink of the source stages: it validates
// cutouts, drops duplicates, and writes the cutouts and rejects tables.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// Cutout is one row of the cutouts table (see schemas.Cutouts). Pointer
// fields are nullable.
type Cutout struct {
	ObjectID                string
	RA, Dec                 *float64 // deg, ICRS
	Label                   *int16   // nil when unlabelled
	LabelName               *string
	Split                   string // "train", "val", "test" or ""
	Height, Width, Channels int32
	Pixels                  []byte   // uint8, height×width×channels (HWC)
	PixelScale              *float64 // arcsec/pixel
	Bands, Source           string
	Survey, Release         *string
	Redshift                *float64
	Raw                     []byte // optional float32 little-endian planar (bands, height, width); nil when absent
	NonFinite               *int32 // flux values that were NaN or infinite and set to 0; nil when the source has no float fluxes
	// VoteCounts are the volunteer votes per answer of SinkOptions.VoteTree,
	// in the order of its VoteColumns; nil when the object has none.
	VoteCounts []float32

	// Position locates the cutout in Source, e.g. "row 17", for the rejects
	// table. It is not stored with the cutout.
	Position string
}

// SinkOptions configure a Sink.
type SinkOptions struct {
	Cutouts, Rejects string            // output folders
	Manifest         artifact.Manifest // header of the cutouts manifest; the rejects table gets a copy named after its folder
	Metadata         map[string]string // stored in both tables
	MaxRejects       int64             // 0 means unlimited
	RowsPerPart      int64             // 0 means table.DefaultRowsPerPart
	Resumable        bool              // see table.CreateResumable, EndPart and Done
	// VoteTree and VoteColumns name the decision tree of the cutouts' vote
	// counts and its count columns ("<question>_<answer>"), in the order of
	// Cutout.VoteCounts; stored in the cutouts table's metadata. Empty: no
	// cutout may carry votes.
	VoteTree    string
	VoteColumns []string
}

// Summary counts what a Sink wrote.
type Summary struct {
	Rows       int64            // cutouts written
	Rejects    int64            // rows written to the rejects table, duplicates included
	Duplicates int64            // cutouts rejected because their object_id was already written
	PerClass   map[string]int64 // cutouts per label name ("unlabelled" without label)
}

// Unlabelled is the PerClass key of cutouts without a label.
const Unlabelled = "unlabelled"

// Batch limits: rows are buffered into Arrow records of at most batchRows
// rows or about batchBytes bytes before being written.
const (
	batchRows  = 256
	batchBytes = 16 << 20
)

// Sink validates cutouts and writes them, and the records it cannot use, to
// the cutouts and rejects tables. It is not safe for concurrent use.
type Sink struct {
	opt      SinkOptions
	stage    string
	cutouts  *table.Writer
	rejects  *table.Writer
	cb, rb   *array.RecordBuilder
	cw       *schemas.CutoutsWriter // appends to cb
	rw       *schemas.RejectsWriter // appends to rb
	buffered int64                  // bytes in cb

	seen     map[uint64]int64 // object_id hash -> row of the cutouts table
	summary  Summary
	finished bool
}

// NewSink creates both tables' writers. With opt.Resumable, the writers
// resume an interrupted run with the same manifest fingerprint: the cutouts
// kept from it count towards duplicates and the summary.
func NewSink(opt SinkOptions) (*Sink, error) {
	if opt.Cutouts == "" || opt.Rejects == "" {
		return nil, errors.New("ingest: both the cutouts and the rejects folder are needed")
	}
	if filepath.Clean(opt.Cutouts) == filepath.Clean(opt.Rejects) {
		return nil, fmt.Errorf("ingest: cutouts and rejects both go to %s", opt.Cutouts)
	}
	s := &Sink{
		opt:     opt,
		stage:   opt.Manifest.Stage,
		seen:    map[uint64]int64{},
		summary: Summary{PerClass: map[string]int64{}},
	}
	create := table.Create
	if opt.Resumable {
		create = table.CreateResumable
	}
	var err error
	s.cutouts, err = create(opt.Cutouts, schemas.Cutouts(), table.Options{
		RowsPerPart:  opt.RowsPerPart,
		RowGroupRows: schemas.CutoutsRowGroupRows,
		Metadata:     withVoteTree(opt),
		Manifest:     opt.Manifest,
	})
	if err != nil {
		return nil, err
	}
	s.rejects, err = create(opt.Rejects, schemas.Rejects(), table.Options{
		RowsPerPart: opt.RowsPerPart,
		Metadata:    opt.Metadata,
		Manifest:    rejectsManifest(opt),
	})
	if err != nil {
		s.cutouts.Abort()
		return nil, err
	}
	s.cb = array.NewRecordBuilder(memory.DefaultAllocator, schemas.Cutouts())
	s.rb = array.NewRecordBuilder(memory.DefaultAllocator, schemas.Rejects())
	if s.cw, err = schemas.NewCutoutsWriter(s.cb); err == nil {
		s.rw, err = schemas.NewRejectsWriter(s.rb)
	}
	if err != nil {
		s.Abort()
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if opt.Resumable {
		if err := s.resume(); err != nil {
			s.Abort()
			return nil, err
		}
	}
	return s, nil
}

// rejectsManifest is the manifest header of the rejects table: the cutouts'
// one, named after the rejects folder.
func rejectsManifest(opt SinkOptions) artifact.Manifest {
	m := opt.Manifest
	name := filepath.Base(opt.Rejects)
	if m.Name != "" && filepath.Dir(filepath.Clean(opt.Cutouts)) == filepath.Dir(filepath.Clean(opt.Rejects)) {
		name = filepath.ToSlash(filepath.Join(filepath.Dir(m.Name), name))
	}
	m.Name = name
	return m
}

// resume brings the two writers' completed keys in step (an interruption
// may fall between their EndParts) and rebuilds the duplicate set and the
// summary from the kept rows.
func (s *Sink) resume() error {
	ck, rk := s.cutouts.Keys(), s.rejects.Keys()
	for len(ck) > len(rk) {
		if err := s.cutouts.Forget(ck[len(ck)-1]); err != nil {
			return err
		}
		ck = ck[:len(ck)-1]
	}
	for len(rk) > len(ck) {
		if err := s.rejects.Forget(rk[len(rk)-1]); err != nil {
			return err
		}
		rk = rk[:len(rk)-1]
	}
	for i := range ck {
		if ck[i] != rk[i] {
			return fmt.Errorf("ingest: cannot resume: the cutouts and rejects tables completed different chunks (%q and %q); remove their staging folders", ck[i], rk[i])
		}
	}
	ctx := context.Background()
	columns := []string{"object_id", "label", "label_name"}
	sc := s.cutouts.Written().Scan(ctx, table.ScanOptions{Columns: columns})
	defer sc.Close()
	for sc.Next() {
		cr, err := schemas.NewCutoutsReader(sc.Record(), columns...)
		if err != nil {
			return fmt.Errorf("ingest: resume: %w", err)
		}
		ids, labels, names := cr.ObjectID, cr.Label, cr.LabelName
		for i := range ids.Len() {
			s.remember(ids.Value(i))
			s.count(labels, names, i)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("ingest: resume: %w", err)
	}
	s.summary.Rows = s.cutouts.Rows()
	rs := s.rejects.Written().Scan(ctx, table.ScanOptions{Columns: []string{"reason"}})
	defer rs.Close()
	for rs.Next() {
		reasons, err := schemas.Column[*array.String]("rejects", rs.Record(), "reason")
		if err != nil {
			return fmt.Errorf("ingest: resume: %w", err)
		}
		for i := range reasons.Len() {
			if isDuplicateReason(reasons.Value(i)) {
				s.summary.Duplicates++
			}
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("ingest: resume: %w", err)
	}
	s.summary.Rejects = s.rejects.Rows()
	return nil
}

const duplicatePrefix = "duplicate object_id"

func isDuplicateReason(r string) bool {
	return strings.HasPrefix(r, duplicatePrefix)
}

// Add validates c and buffers it for the cutouts table. An invalid cutout or
// a duplicate object_id becomes a row of the rejects table, not an error;
// the error is for failed writes and for exceeding MaxRejects.
func (s *Sink) Add(c Cutout) error {
	if s.finished {
		return errors.New("ingest: sink already committed or aborted")
	}
	if reason := check(&c); reason != "" {
		return s.Reject(c.Source, s.position(c), c.ObjectID, reason)
	}
	if reason := checkVotes(c.VoteCounts, s.opt.VoteColumns); reason != "" {
		return s.Reject(c.Source, s.position(c), c.ObjectID, reason)
	}
	if first, dup := s.seen[idHash(c.ObjectID)]; dup {
		s.summary.Duplicates++
		return s.Reject(c.Source, s.position(c), c.ObjectID,
			fmt.Sprintf("%s (first seen at row %d of the cutouts table)", duplicatePrefix, first))
	}
	s.remember(c.ObjectID)
	s.append(&c)
	s.summary.Rows++
	if s.cw.Len() >= batchRows || s.buffered >= batchBytes {
		return s.flushCutouts()
	}
	return nil
}

func (s *Sink) position(c Cutout) string {
	if c.Position != "" {
		return c.Position
	}
	return "object " + c.ObjectID
}

// remember records that id is the next row of the cutouts table.
func (s *Sink) remember(id string) {
	s.seen[idHash(id)] = int64(len(s.seen))
}

// idHash is the first 8 bytes of the SHA-256 of an object_id: duplicates are
// detected with 8 bytes of key per row, with a collision probability under
// 1e-7 for ten million rows.
func idHash(id string) uint64 {
	sum := sha256.Sum256([]byte(id))
	return binary.LittleEndian.Uint64(sum[:8])
}

func (s *Sink) count(labels *array.Int16, names *array.String, i int) {
	var label *int16
	var name *string
	if labels.IsValid(i) {
		v := labels.Value(i)
		label = &v
	}
	if names.IsValid(i) {
		v := names.Value(i)
		name = &v
	}
	s.summary.PerClass[classKey(label, name)]++
}

// check returns why c cannot be a row of the cutouts table, or "".
func check(c *Cutout) string {
	switch {
	case c.ObjectID == "":
		return "empty object_id"
	case c.Height <= 0 || c.Width <= 0 || c.Channels <= 0:
		return fmt.Sprintf("image size %d×%d×%d is not positive", c.Height, c.Width, c.Channels)
	case int64(len(c.Pixels)) != int64(c.Height)*int64(c.Width)*int64(c.Channels):
		return fmt.Sprintf("pixels: %d bytes, expected %d (height %d × width %d × channels %d)",
			len(c.Pixels), int64(c.Height)*int64(c.Width)*int64(c.Channels), c.Height, c.Width, c.Channels)
	case c.Split != "" && c.Split != schemas.SplitTrain && c.Split != schemas.SplitVal && c.Split != schemas.SplitTest:
		return fmt.Sprintf("split %q is not train, val, test or empty", c.Split)
	case c.Label != nil && *c.Label < 0:
		return fmt.Sprintf("label %d is negative", *c.Label)
	case c.RA != nil && !(*c.RA >= 0 && *c.RA < 360):
		return fmt.Sprintf("ra %g deg is outside [0, 360)", *c.RA)
	case c.Dec != nil && !(*c.Dec >= -90 && *c.Dec <= 90):
		return fmt.Sprintf("dec %g deg is outside [-90, 90]", *c.Dec)
	case c.PixelScale != nil && !(*c.PixelScale > 0 && !math.IsInf(*c.PixelScale, 1)):
		return fmt.Sprintf("pixel_scale %g arcsec/pixel is not positive and finite", *c.PixelScale)
	case c.Redshift != nil && (math.IsNaN(*c.Redshift) || math.IsInf(*c.Redshift, 0)):
		return fmt.Sprintf("redshift %g is not finite", *c.Redshift)
	case c.Raw != nil && (len(c.Raw) == 0 || int64(len(c.Raw))%(4*int64(c.Height)*int64(c.Width)) != 0):
		return fmt.Sprintf("raw: %d bytes is not a positive multiple of 4 × height %d × width %d", len(c.Raw), c.Height, c.Width)
	case c.NonFinite != nil && *c.NonFinite < 0:
		return fmt.Sprintf("nonfinite_values %d is negative", *c.NonFinite)
	}
	return ""
}

// checkVotes returns why vote counts cannot be stored for a tree with the
// given count columns, or "".
func checkVotes(counts []float32, columns []string) string {
	switch {
	case counts == nil:
		return ""
	case len(columns) == 0:
		return "vote counts, but the source names no decision tree"
	case len(counts) != len(columns):
		return fmt.Sprintf("%d vote counts for a tree of %d answers", len(counts), len(columns))
	}
	for i, v := range counts {
		if !(v >= 0) || math.IsInf(float64(v), 0) || v != float32(math.Trunc(float64(v))) {
			return fmt.Sprintf("vote count %s = %g: expected a whole number >= 0", columns[i], v)
		}
	}
	return ""
}

// withVoteTree returns the cutouts table's metadata: opt.Metadata, and the
// vote tree and its columns when there is one.
func withVoteTree(opt SinkOptions) map[string]string {
	if opt.VoteTree == "" {
		return opt.Metadata
	}
	md := maps.Clone(opt.Metadata)
	if md == nil {
		md = map[string]string{}
	}
	cols, _ := json.Marshal(opt.VoteColumns)
	md[schemas.MetaVoteTree], md[schemas.MetaVoteColumns] = opt.VoteTree, string(cols)
	return md
}

// append adds c to the cutouts record builder.
func (s *Sink) append(c *Cutout) {
	s.cw.Append(&schemas.CutoutRow{
		ObjectFields: schemas.ObjectFields{
			ObjectID: c.ObjectID, RA: schemas.NullFrom(c.RA), Dec: schemas.NullFrom(c.Dec),
			Label: schemas.NullFrom(c.Label), LabelName: schemas.NullFrom(c.LabelName), Split: c.Split,
		},
		Height: c.Height, Width: c.Width, Channels: c.Channels, Pixels: c.Pixels,
		PixelScale: schemas.NullFrom(c.PixelScale), Bands: c.Bands, Source: c.Source,
		Survey: schemas.NullFrom(c.Survey), Release: schemas.NullFrom(c.Release), Redshift: schemas.NullFrom(c.Redshift),
		Raw: c.Raw, NonFinite: schemas.NullFrom(c.NonFinite), VoteCounts: c.VoteCounts,
	})
	s.buffered += int64(len(c.Pixels) + len(c.Raw) + len(c.ObjectID) + 64)
	s.summary.PerClass[classKey(c.Label, c.LabelName)]++
}

// classKey is the Summary.PerClass key of a cutout: its label name, else
// its label index, else Unlabelled.
func classKey(label *int16, name *string) string {
	switch {
	case name != nil:
		return *name
	case label != nil:
		return strconv.Itoa(int(*label))
	}
	return Unlabelled
}

// Reject records a row of the rejects table: what could not be read, where,
// and why. objectID may be empty when unknown. It returns an error once more
// than MaxRejects rows were rejected.
func (s *Sink) Reject(source, position, objectID, reason string) error {
	if s.finished {
		return errors.New("ingest: sink already committed or aborted")
	}
	row := schemas.RejectRow{Stage: s.stage, Source: source, Position: position, Reason: reason}
	if objectID != "" {
		row.ObjectID = schemas.Some(objectID)
	}
	s.rw.Append(row)
	s.summary.Rejects++
	if s.opt.MaxRejects > 0 && s.summary.Rejects > s.opt.MaxRejects {
		return s.stop(fmt.Errorf("ingest: more than %d rejected records (max_rejects); the last: %s, %s: %s",
			s.opt.MaxRejects, source, position, reason))
	}
	if s.rw.Len() >= batchRows {
		return s.flushRejects()
	}
	return nil
}

// stop ends a sink that exceeded MaxRejects: the rejects table is committed,
// so that the user can read what was rejected and why, and the cutouts table
// is not (see Abort). The stage fails with err, which says where the rejects
// are; its rerun rebuilds both tables.
func (s *Sink) stop(err error) error {
	ferr := s.flushRejects()
	if ferr == nil {
		_, ferr = s.rejects.Commit()
	}
	s.Abort()
	if ferr != nil {
		return fmt.Errorf("%w (and the rejects table could not be committed: %v)", err, ferr)
	}
	return fmt.Errorf("%w; the %d rejected records are in %s", err, s.summary.Rejects, s.opt.Rejects)
}

func (s *Sink) flushCutouts() error {
	s.buffered = 0
	return flush(s.cb, s.cutouts)
}

func (s *Sink) flushRejects() error { return flush(s.rb, s.rejects) }

func flush(b *array.RecordBuilder, w *table.Writer) error {
	if b.Field(0).Len() == 0 {
		return nil
	}
	rec := b.NewRecord()
	defer rec.Release()
	return w.Write(rec)
}

// EndPart marks the end of one chunk of input, identified by key: with
// SinkOptions.Resumable, a restarted run's Done(key) is then true and the
// chunk's rows are kept.
func (s *Sink) EndPart(key string) error {
	if s.finished {
		return errors.New("ingest: sink already committed or aborted")
	}
	if err := s.flushCutouts(); err != nil {
		return err
	}
	if err := s.flushRejects(); err != nil {
		return err
	}
	if err := s.cutouts.EndPart(key); err != nil {
		return err
	}
	return s.rejects.EndPart(key)
}

// Done reports whether the chunk key was completed by EndPart, in this run
// or in an interrupted earlier one.
func (s *Sink) Done(key string) bool { return s.cutouts.Done(key) && s.rejects.Done(key) }

// Commit writes what is buffered and commits both tables; the rejects table
// is written even when empty.
func (s *Sink) Commit() (Summary, error) {
	if s.finished {
		return Summary{}, errors.New("ingest: sink already committed or aborted")
	}
	err := s.flushCutouts()
	if err == nil {
		err = s.flushRejects()
	}
	if err == nil {
		_, err = s.rejects.Commit()
	}
	if err == nil {
		_, err = s.cutouts.Commit()
	}
	if err != nil {
		s.Abort()
		return Summary{}, err
	}
	s.release()
	return s.summary, nil
}

// Abort stops without committing: it discards both tables, except that with
// SinkOptions.Resumable the chunks completed by EndPart are kept for a later
// run to resume. It is safe to call after Commit.
func (s *Sink) Abort() {
	if s.finished {
		return
	}
	s.cutouts.Abort()
	s.rejects.Abort()
	s.release()
}

func (s *Sink) release() {
	s.finished = true
	s.cb.Release()
	s.rb.Release()
	s.seen = nil
}
