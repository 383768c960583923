package predict

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/policy"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/votes"
)

// Defaults of Options.
const (
	DefaultBatchSize = 32
	DefaultCropPct   = 1 // keep the whole cutout when the checkpoint does not say
	MaxTTA           = 8
)

// outputRows is how many rows a Sink receives per record, at most.
const outputRows = 4096

// Options control a Predictor. Zero values take the defaults.
type Options struct {
	// TTA is the number of test-time views averaged per cutout, 1..8: the
	// evaluation view, then its mirror images and rotations in the order of
	// policy.Dihedral (views 5-8 need a square model input). Default 1.
	TTA int
	// BatchSize is the number of cutouts per forward pass (default 32).
	BatchSize int
	// Workers is the number of goroutines decoding and preprocessing
	// cutouts ahead of the model (default GOMAXPROCS).
	Workers int
	// ClassNames replace the checkpoint's class names.
	ClassNames []string
	// CropPct replaces the checkpoint's evaluation crop fraction (default
	// Model.CropPct, else DefaultCropPct).
	CropPct float64
	// Embeddings adds the embedding column (schemas.EmbeddingField): the
	// pooled pre-logits representation, averaged over the views.
	Embeddings bool
	// Precision is the precision of the model's matrix products: fp32
	// (the default, also "") or bf16 (see model.BF16), which falls back to
	// fp32 with a warning on Log where the CPU lacks AVX512_BF16. Options()
	// reports the one that runs.
	Precision model.Precision
	// Log receives the fallback warning (nil: discarded).
	Log hclog.Logger
}

// Predictor turns cutouts into catalog rows with one model. Its Run streams
// a cutouts table through a bounded pipeline: a reader goroutine, Workers
// goroutines that decode pixels and build the normalised views of each
// batch, the model, and a goroutine that builds the output records.
type Predictor struct {
	model    *Model
	tree     *votes.Tree // a vote head's decision tree; nil for a classifier
	embedder Embedder    // nil without embeddings
	opt      Options
	names    []string
	aug      *policy.Augmenter
	norm     policy.Normalizer
	schema   *arrow.Schema
	imgSize  int       // C*H*W of one model input
	views    sync.Pool // *[]float32 of BatchSize·imgSize values: a batch's view, reused
}

// NewPredictor checks opt against the model and returns a Predictor.
func NewPredictor(m *Model, opt Options) (*Predictor, error) {
	meta := m.Meta
	if err := opt.setDefaults(m); err != nil {
		return nil, err
	}
	prec, err := setPrecision(m, opt.Precision, opt.Log)
	if err != nil {
		return nil, err
	}
	opt.Precision = prec
	names := m.ClassNames()
	if opt.ClassNames != nil {
		names = opt.ClassNames
	}
	if err := checkClassNames(names, meta.Classes); err != nil {
		return nil, fmt.Errorf("predict: %s: %w", m.Path, err)
	}
	norm, err := normalizer(m)
	if err != nil {
		return nil, err
	}
	cfg := policy.Defaults()
	cfg.Height, cfg.Width, cfg.CropPct = meta.ImageH, meta.ImageW, opt.CropPct
	cfg.Rot90 = false // training-only; it would require a square input
	cfg.Mean, cfg.Std = norm.Mean, norm.Std
	aug, err := policy.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("predict: evaluation transform of %s: %w", m.Path, err)
	}
	tree, err := voteHead(m)
	if err != nil {
		return nil, err
	}
	schema := schemas.Catalog(names, opt.TTA > 1)
	if tree != nil {
		if opt.Embeddings {
			return nil, fmt.Errorf("predict: %s is a vote head; embeddings are written for classifiers only", m.Path)
		}
		schema = schemas.VoteCatalog(tree.FractionColumns())
	}
	var embedder Embedder
	if opt.Embeddings {
		var ok bool
		if embedder, ok = m.Net.(Embedder); !ok {
			return nil, fmt.Errorf("predict: %s: the model gives no embeddings", m.Path)
		}
		schema = arrow.NewSchema(append(schema.Fields(), schemas.EmbeddingField(embedder.EmbeddingWidth())), nil)
	}
	return &Predictor{
		model:    m,
		tree:     tree,
		embedder: embedder,
		opt:      opt,
		names:    names,
		aug:      aug,
		norm:     norm,
		schema:   schema,
		imgSize:  meta.InChans * meta.ImageH * meta.ImageW,
	}, nil
}

// setDefaults fills in the options left at zero and checks the number of
// views against the model m.
func (opt *Options) setDefaults(m *Model) error {
	meta := m.Meta
	if opt.TTA == 0 {
		opt.TTA = 1
	}
	if opt.TTA < 1 || opt.TTA > MaxTTA {
		return fmt.Errorf("predict: tta %d: want 1 to %d views", opt.TTA, MaxTTA)
	}
	if opt.TTA > 4 && meta.ImageH != meta.ImageW {
		return fmt.Errorf("predict: tta %d: views beyond 4 turn the image a quarter and need a square model input; %s takes %dx%d, use tta 4 or less",
			opt.TTA, m.Path, meta.ImageH, meta.ImageW)
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.CropPct == 0 {
		opt.CropPct = m.CropPct
	}
	if opt.CropPct == 0 {
		opt.CropPct = DefaultCropPct
	}
	return nil
}

// normalizer returns the input normalisation recorded in m's checkpoint,
// or none (mean 0, std 1) when it records none.
func normalizer(m *Model) (policy.Normalizer, error) {
	meta := m.Meta
	norm := policy.Normalizer{Mean: []float64{0}, Std: []float64{1}}
	if len(meta.Normalize.Mean) > 0 || len(meta.Normalize.Std) > 0 {
		norm = policy.Normalizer{Mean: float64s(meta.Normalize.Mean), Std: float64s(meta.Normalize.Std)}
	}
	if err := norm.Validate(); err != nil {
		return norm, fmt.Errorf("predict: checkpoint %s: %w", m.Path, err)
	}
	if n := len(norm.Mean); n != 1 && n != meta.InChans {
		return norm, fmt.Errorf("predict: checkpoint %s: normalisation for %d channels, the model takes %d", m.Path, n, meta.InChans)
	}
	return norm, nil
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// Schema returns the schema of the catalog rows: schemas.Catalog with the
// predictor's class names, with the _std columns when TTA > 1.
func (p *Predictor) Schema() *arrow.Schema { return p.schema }

// ClassNames returns the class names, in model output order.
func (p *Predictor) ClassNames() []string { return p.names }

// Options returns the options in effect, defaults filled in.
func (p *Predictor) Options() Options { return p.opt }

// Metadata returns the key-value metadata describing the model and the
// preprocessing, for the catalog's Parquet footers and manifest.
func (p *Predictor) Metadata() map[string]string {
	meta := p.model.Meta
	names, _ := json.Marshal(p.names)
	norm, _ := json.Marshal(map[string][]float32{"mean": float32s(p.norm.Mean), "std": float32s(p.norm.Std)})
	md := map[string]string{
		catalog.MetaClassNames:       string(names),
		catalog.MetaModelVariant:     meta.Variant,
		catalog.MetaCheckpoint:       p.model.Path,
		catalog.MetaCheckpointSHA256: p.model.SHA256,
		catalog.MetaImageSize:        fmt.Sprintf("%dx%d", meta.ImageH, meta.ImageW),
		catalog.MetaInChans:          strconv.Itoa(meta.InChans),
		catalog.MetaNormalize:        string(norm),
		catalog.MetaCropPct:          strconv.FormatFloat(p.opt.CropPct, 'g', -1, 64),
		catalog.MetaTTAViews:         strconv.Itoa(p.opt.TTA),
	}
	if p.opt.Precision != model.FP32 {
		md[MetaPrecision] = string(p.opt.Precision)
	}
	if p.embedder != nil {
		md[schemas.MetaEmbeddingWidth] = strconv.Itoa(p.embedder.EmbeddingWidth())
	}
	if p.tree != nil {
		cols, _ := json.Marshal(p.tree.FractionColumns())
		md[schemas.MetaVoteTree], md[schemas.MetaVoteColumns] = p.tree.Name, string(cols)
	}
	return md
}

// Sink receives catalog records in input order. *table.Writer and
// *ipc.Writer are sinks.
type Sink interface {
	Write(arrow.Record) error
}

// ResumableSink is a Sink that records durable progress, as a writer made by
// table.CreateResumable does: Run skips the input chunks whose key is Done
// and calls EndPart after writing each chunk.
type ResumableSink interface {
	Sink
	Done(key string) bool
	EndPart(key string) error
}

// Stats describe a Run.
type Stats struct {
	Rows     int64         // cutouts predicted by this run
	Resumed  int64         // rows kept from an interrupted earlier run
	Views    int           // test-time views per cutout
	Elapsed  time.Duration // wall time of the run
	Forwards int           // forward passes
}

// CutoutsPerSecond returns the prediction throughput.
func (s Stats) CutoutsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Rows) / s.Elapsed.Seconds()
}

// cutoutColumns returns the columns Run reads, bound by name by readCutout's
// caller.
func cutoutColumns() []string {
	return []string{"object_id", "ra", "dec", "label", "label_name", "split", "height", "width", "channels", "pixels"}
}

// cutout is one input row.
type cutout struct {
	row       int64 // in the input table
	id        string
	ra, dec   float64
	hasRA     bool
	hasDec    bool
	label     int16
	hasLabel  bool
	labelName string
	hasName   bool
	split     string
	h, w, c   int
	pixels    []byte
}

// batch is the unit of work of the pipeline.
type batch struct {
	seq     int
	rows    []cutout
	endOf   string      // key of the input chunk this batch completes, or ""
	resumed int64       // rows of a chunk done by an earlier run, skipped
	x       [][]float32 // per view: the normalised images, NCHW
	mean    []float64   // [rows*classes] after inference
	std     []float64
	embed   []float32 // [rows*width] after inference, with embeddings
}

// chunk is the part of one input part file a run reads.
type chunk struct {
	part   int
	lo, hi int64 // rows within the part
	first  int64 // row of lo in the table
}

func (c chunk) key() string { return fmt.Sprintf("part %d rows %d-%d", c.part, c.lo, c.hi) }

// chunks returns the input chunks of shard s: the parts overlapping its
// rows, cut to them.
func chunks(in *table.Table, s catalog.Shard) []chunk {
	lo, hi := s.Rows(in.Rows())
	var out []chunk
	var offset int64
	for i, p := range in.Manifest().Parts {
		a, b := max(lo, offset), min(hi, offset+p.Rows)
		if a < b {
			out = append(out, chunk{part: i, lo: a - offset, hi: b - offset, first: a})
		}
		offset += p.Rows
	}
	return out
}

// Run predicts the rows of in that shard s covers (catalog.Shard{Count: 1}
// for all of them) and writes them to sink in input order. The input must
// have the cutouts schema (table.OpenAs with schemas.Cutouts()). progress,
// when not nil, is called from one goroutine with the number of rows done
// (or skipped as resumed) after each batch. At most 2·Workers+6 batches are
// in flight, each of TTA·BatchSize·C·H·W float32 values plus, until it is
// prepared, the record of about scanBytes of pixels its cutouts are views
// of.
func (p *Predictor) Run(ctx context.Context, in *table.Table, s catalog.Shard, sink Sink, progress func(rows int)) (Stats, error) {
	start := time.Now()
	if err := s.Validate(); err != nil {
		return Stats{}, err
	}
	if progress == nil {
		progress = func(int) {}
	}
	resumable, _ := sink.(ResumableSink)
	stats := Stats{Views: p.opt.TTA}
	g, gctx := errgroup.WithContext(ctx)
	raw := make(chan *batch, p.opt.Workers)
	ready := make(chan *batch, p.opt.Workers)
	inferred := make(chan *batch, 2)
	// window holds a token for every batch between the reader and the
	// writer, so that a slow batch cannot let the others pile up.
	window := make(chan struct{}, p.window())
	send := func(ch chan<- *batch, b *batch) error {
		select {
		case ch <- b:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	}

	// The sink is not safe for concurrent use: ask it which chunks are
	// done before the writer starts.
	chs := chunks(in, s)
	done := make([]bool, len(chs))
	for i, ch := range chs {
		done[i] = resumable != nil && resumable.Done(ch.key())
	}
	g.Go(func() error {
		defer close(raw)
		return p.read(gctx, in, chs, done, func(b *batch) error {
			select {
			case window <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			return send(raw, b)
		})
	})
	var workers sync.WaitGroup
	for range p.opt.Workers {
		workers.Add(1)
		g.Go(func() error {
			defer workers.Done()
			for b := range raw {
				if err := gctx.Err(); err != nil {
					return err
				}
				if err := p.prepare(b); err != nil {
					return fmt.Errorf("predict %s: %w", in.Dir(), err)
				}
				if err := send(ready, b); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		workers.Wait()
		close(ready)
		return nil
	})
	g.Go(func() error {
		defer close(inferred)
		pending := map[int]*batch{}
		next := 0
		for arrived := range ready {
			pending[arrived.seq] = arrived
			for b := pending[next]; b != nil; b = pending[next] {
				delete(pending, next)
				next++
				if err := p.infer(b); err != nil {
					return fmt.Errorf("predict %s: %w", in.Dir(), err)
				}
				if len(b.rows) > 0 {
					stats.Forwards += p.opt.TTA
				}
				if err := send(inferred, b); err != nil {
					return err
				}
			}
		}
		return nil
	})
	g.Go(func() error {
		var err error
		stats.Rows, stats.Resumed, err = p.write(gctx, inferred, sink, resumable, func(n int) {
			<-window
			progress(n)
		})
		return err
	})
	err := g.Wait()
	stats.Elapsed = time.Since(start)
	return stats, err
}

// window returns the most batches in flight at once: one being read, two
// per worker (waiting and being prepared), two waiting for and one in the
// model, two waiting for and one in the writer.
func (p *Predictor) window() int { return 2*p.opt.Workers + 6 }

// read scans the chunks and emits batches of up to BatchSize cutouts; a
// batch never spans two chunks, and the last one of a chunk (possibly
// empty) carries its key. A chunk done by an earlier run (done[i]) is not
// read: an empty batch reports its rows as resumed.
func (p *Predictor) read(ctx context.Context, in *table.Table, chs []chunk, done []bool, emit func(*batch) error) error {
	seq := 0
	for i, ch := range chs {
		if done[i] {
			if err := emit(&batch{seq: seq, resumed: ch.hi - ch.lo}); err != nil {
				return err
			}
			seq++
			continue
		}
		// The records hold a whole number of batches, about scanBytes of
		// pixels, and Go-allocated buffers: a cutout's pixels are a view of
		// its record's, kept alive by the garbage collector until prepare
		// drops them.
		sc := in.Scan(ctx, table.ScanOptions{Columns: cutoutColumns(), Parts: []int{ch.part}, BatchRows: p.scanRows(), Allocator: memory.NewGoAllocator()})
		b := &batch{seq: seq}
		var row int64 // within the part
		for sc.Next() {
			rec := sc.Record()
			cr, err := schemas.NewCutoutsReader(rec, cutoutColumns()...)
			if err != nil {
				sc.Close()
				return fmt.Errorf("predict: %s: %w", in.Dir(), err)
			}
			n := rec.NumRows()
			a, z := max(ch.lo-row, 0), min(ch.hi-row, n)
			for r := a; r < z; r++ {
				b.rows = append(b.rows, readCutout(cr, int(r), ch.first+row+r-ch.lo))
				if len(b.rows) == p.opt.BatchSize {
					if err := emit(b); err != nil {
						sc.Close()
						return err
					}
					seq++
					b = &batch{seq: seq}
				}
			}
			row += n
			if row >= ch.hi {
				break
			}
		}
		err := sc.Err()
		sc.Close()
		if err != nil {
			return fmt.Errorf("predict: reading %s: %w", in.Dir(), err)
		}
		if row < ch.hi {
			return fmt.Errorf("predict: %s part %d ended after %d rows, before row %d", in.Dir(), ch.part, row, ch.hi)
		}
		b.endOf = ch.key()
		if err := emit(b); err != nil {
			return err
		}
		seq++
	}
	return nil
}

// scanBytes is about the most pixel bytes of one record read by
// Predictor.read (a model input's values counted as bytes).
const scanBytes = 4 << 20

// scanRows is the rows of one record read by Predictor.read: a whole
// number of batches, at least one, of about scanBytes of pixels, so that
// reading costs little per cutout.
func (p *Predictor) scanRows() int {
	return p.opt.BatchSize * max(1, scanBytes/(p.opt.BatchSize*p.imgSize))
}

// readCutout reads row i of a record of cutoutColumns, read by cr; its
// pixels are a view of the record's.
func readCutout(cr *schemas.CutoutsReader, i int, row int64) cutout {
	c := cr.Row(i)
	return cutout{
		row: row, id: c.ObjectID,
		ra: c.RA.V, hasRA: c.RA.Valid,
		dec: c.Dec.V, hasDec: c.Dec.Valid,
		label: c.Label.V, hasLabel: c.Label.Valid,
		labelName: c.LabelName.V, hasName: c.LabelName.Valid,
		split: c.Split,
		h:     int(c.Height), w: int(c.Width), c: int(c.Channels),
		pixels: c.Pixels,
	}
}

// prepare decodes the cutouts of b into its normalised views.
func (p *Predictor) prepare(b *batch) error {
	meta := p.model.Meta
	b.x = make([][]float32, p.opt.TTA)
	for v := range b.x {
		b.x[v] = p.view(len(b.rows))
	}
	for i := range b.rows {
		r := &b.rows[i]
		if r.c != meta.InChans {
			return fmt.Errorf("object %q (row %d): %d channels, but the model takes %d", r.id, r.row, r.c, meta.InChans)
		}
		if p.opt.TTA == 1 && p.aug.EvalKeeps(r.h, r.w) {
			// The evaluation view is the cutout itself: normalised straight
			// from its bytes, the same values without the copies.
			if err := p.norm.HWCInto(b.x[0][i*p.imgSize:(i+1)*p.imgSize], r.pixels, r.h, r.w, r.c); err != nil {
				return fmt.Errorf("object %q (row %d): %w", r.id, r.row, err)
			}
			r.pixels = nil
			continue
		}
		img, err := policy.FromHWC(r.pixels, r.h, r.w, r.c)
		if err != nil {
			return fmt.Errorf("object %q (row %d): %w", r.id, r.row, err)
		}
		for v, view := range p.aug.TTAViews(img, p.opt.TTA) {
			if err := p.norm.Into(b.x[v][i*p.imgSize:(i+1)*p.imgSize], view); err != nil {
				return fmt.Errorf("object %q (row %d): %w", r.id, r.row, err)
			}
		}
		r.pixels = nil
	}
	return nil
}

// view returns a buffer for one view of n cutouts, reused from an earlier
// batch where one is free: prepare writes every value of it.
func (p *Predictor) view(n int) []float32 {
	if x, ok := p.views.Get().(*[]float32); ok && cap(*x) >= n*p.imgSize {
		return (*x)[:n*p.imgSize]
	}
	return make([]float32, max(n, p.opt.BatchSize)*p.imgSize)[:n*p.imgSize]
}

// infer runs the model on every view of b and combines the probabilities.
// Logits that are NaN or ±Inf for any row in any view fail the batch with
// a *NonFiniteError: finite logits give finite probabilities, entropy and
// argmax, whereas a NaN would pass through softmax into a catalog row of
// NaN confidence, class 0 and entropy 0.
func (p *Predictor) infer(b *batch) error {
	n, classes := len(b.rows), p.model.Meta.Classes
	if n == 0 {
		return nil
	}
	probs := make([]float64, p.opt.TTA*n*classes)
	bad := make([]bool, n)
	if p.embedder != nil {
		b.embed = make([]float32, n*p.embedder.EmbeddingWidth())
	}
	for v, x := range b.x {
		logits, emb, err := p.forward(x, n)
		if err != nil {
			return fmt.Errorf("rows %d to %d: %w", b.rows[0].row, b.rows[n-1].row, err)
		}
		if len(logits) != n*classes {
			return fmt.Errorf("rows %d to %d: the model returned %d logits for %d cutouts of %d classes", b.rows[0].row, b.rows[n-1].row, len(logits), n, classes)
		}
		for i := range n {
			row := logits[i*classes : (i+1)*classes]
			if count, _ := model.NonFinite(row); count > 0 {
				bad[i] = true
				continue
			}
			if p.tree != nil {
				concentrations(probs[(v*n+i)*classes:(v*n+i+1)*classes], row)
				continue
			}
			softmax(probs[(v*n+i)*classes:(v*n+i+1)*classes], row)
		}
		for j, e := range emb {
			b.embed[j] += e / float32(p.opt.TTA)
		}
	}
	if err := nonFinite(p.model.Path, b.rows, bad); err != nil {
		return err
	}
	for _, x := range b.x {
		p.views.Put(&x)
	}
	b.x = nil
	b.mean, b.std = combineViews(probs, p.opt.TTA, n, classes)
	return nil
}

// forward runs the model on n views, with their embeddings when the
// catalog has them.
func (p *Predictor) forward(x []float32, n int) (logits, embeddings []float32, err error) {
	if p.embedder != nil {
		return p.embedder.ForwardEmbed(x, n)
	}
	logits, err = p.model.Net.Forward(x, n)
	return logits, nil, err
}

// NonFiniteError is the error of a batch for which the model returned NaN
// or infinite logits: a checkpoint whose activations overflow, or inputs
// it cannot handle. Run stops at the first such batch, in input order, and
// WriteTable then commits no catalog.
type NonFiniteError struct {
	Checkpoint string   // the model's checkpoint file
	IDs        []string // the object_id of each cutout concerned, in input order
	Rows       []int64  // their rows in the input table
	Batch      int      // the cutouts in the batch
	From, To   int64    // the batch's first and last rows
}

// listedIDs is how many object_ids a NonFiniteError names.
const listedIDs = 10

func (e *NonFiniteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the model %s returned NaN or infinite logits for %d of the %d cutouts of rows %d to %d: ",
		e.Checkpoint, len(e.IDs), e.Batch, e.From, e.To)
	for i, id := range e.IDs[:min(len(e.IDs), listedIDs)] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "object %q (row %d)", id, e.Rows[i])
	}
	if more := len(e.IDs) - listedIDs; more > 0 {
		fmt.Fprintf(&b, " and %d more", more)
	}
	b.WriteString("; check the checkpoint and these cutouts")
	return b.String()
}

// nonFinite returns a *NonFiniteError naming the rows marked bad, or nil
// when there are none. rows is not empty.
func nonFinite(checkpoint string, rows []cutout, bad []bool) error {
	e := NonFiniteError{Checkpoint: checkpoint, Batch: len(rows), From: rows[0].row, To: rows[len(rows)-1].row}
	for i, r := range rows {
		if bad[i] {
			e.IDs = append(e.IDs, r.id)
			e.Rows = append(e.Rows, r.row)
		}
	}
	if len(e.IDs) == 0 {
		return nil
	}
	return &e
}

// write builds the catalog records from the inferred batches, in order,
// and hands them to sink; after the last batch of a chunk it calls EndPart
// on a resumable sink. It returns the number of rows written and of rows
// resumed.
func (p *Predictor) write(ctx context.Context, done <-chan *batch, sink Sink, rs ResumableSink, progress func(int)) (rows, resumed int64, err error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, p.schema)
	defer b.Release()
	cw, err := p.rowWriter(b)
	if err != nil {
		return 0, 0, fmt.Errorf("predict: %w", err)
	}
	flush := func() error {
		if cw.Len() == 0 {
			return nil
		}
		rec := b.NewRecord()
		defer rec.Release()
		return sink.Write(rec)
	}
	for bt := range done {
		if err := ctx.Err(); err != nil {
			return rows, resumed, err
		}
		cw.appendBatch(bt)
		rows += int64(len(bt.rows))
		resumed += bt.resumed
		if cw.Len() >= outputRows || bt.endOf != "" {
			if err := flush(); err != nil {
				return rows, resumed, err
			}
		}
		if bt.endOf != "" && rs != nil {
			if err := rs.EndPart(bt.endOf); err != nil {
				return rows, resumed, err
			}
		}
		progress(len(bt.rows) + int(bt.resumed))
	}
	return rows, resumed, flush()
}

// appendRows appends the catalog rows of an inferred batch to w.
func (p *Predictor) appendRows(w *schemas.CatalogWriter, bt *batch) {
	classes := len(p.names)
	row := schemas.CatalogRow{Probs: make([]float32, classes), TTAViews: int16(p.opt.TTA)}
	if p.opt.TTA > 1 {
		row.ProbStds = make([]float32, classes)
	}
	for i, r := range bt.rows {
		mean := bt.mean[i*classes : (i+1)*classes]
		row.ObjectFields = r.object()
		k := argmax(mean)
		row.PredictedClass, row.PredictedLabel, row.Confidence = int16(k), p.names[k], float32(mean[k])
		for c, v := range mean {
			row.Probs[c] = float32(v)
		}
		row.Entropy = float32(entropy(mean))
		if row.ProbStds != nil {
			for c, v := range bt.std[i*classes : (i+1)*classes] {
				row.ProbStds[c] = float32(v)
			}
		}
		if p.embedder != nil {
			width := p.embedder.EmbeddingWidth()
			row.Embedding = bt.embed[i*width : (i+1)*width]
		}
		w.Append(&row)
	}
}

// object returns the catalog's object columns of a cutout.
func (r *cutout) object() schemas.ObjectFields {
	return schemas.ObjectFields{
		ObjectID:  r.id,
		RA:        schemas.Null[float64]{V: r.ra, Valid: r.hasRA},
		Dec:       schemas.Null[float64]{V: r.dec, Valid: r.hasDec},
		Label:     schemas.Null[int16]{V: r.label, Valid: r.hasLabel},
		LabelName: schemas.Null[string]{V: r.labelName, Valid: r.hasName},
		Split:     r.split,
	}
}
