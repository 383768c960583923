package loader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/astroformer/astroformer/policy"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// Columns is the projection a Loader reads from a cutouts table.
func Columns() []string { return []string{"height", "width", "channels", "pixels"} }

// scanRows is the number of rows per record the Loader reads, which bounds
// the memory of one undecoded record (64 rows of 256×256×3 are 12.6 MB).
const scanRows = 64

// Config says what a Loader delivers.
type Config struct {
	Table *table.Table
	Index *Index
	// Counts, when set, is how many times each index row is drawn in the
	// epoch (Index.Len() values, e.g. a class-balanced resampling); nil
	// draws every row once.
	Counts []int
	// Window is the shuffle window in samples (see the package comment).
	// Zero reads the rows in table order: no shuffle.
	Window int
	// Seed and Epoch fix the order of the parts and of the window.
	Seed  int64
	Epoch int
	// BatchSize is the number of samples per batch.
	BatchSize int
	// Batches is the number of batches to deliver, counting skipped ones;
	// 0 delivers every draw, the last batch possibly short. The draw
	// sequence does not depend on it: fewer batches deliver a prefix.
	Batches int
	// Skip is the number of leading batches passed over without preparing
	// them, to resume an epoch; delivered batches keep their Index.
	Skip int
	// Workers is the number of goroutines preparing batches (default 1),
	// Prefetch the number of prepared batches that may wait for the
	// consumer (default 2).
	Workers, Prefetch int
	// C, H and W are the size of a prepared sample, Classes the width of
	// a batch's Targets rows (0: no targets).
	C, H, W int
	Classes int
	// Prepare writes the input of one image into dst (C·H·W values); draw
	// numbers the sample in the epoch's draw sequence. It is called from
	// several goroutines.
	Prepare func(dst []float32, img policy.Image, draw int) error
	// Votes makes each sample's Targets row its vote counts (the
	// vote_counts column, Classes values) instead of leaving them to
	// Finish: the targets of a vote head. Index it with ReadVoteIndex.
	Votes bool
	// Finish, if set, runs on every prepared batch before it is delivered,
	// in a worker goroutine; e.g. to mix it and write its Targets.
	Finish func(b *Batch) error
}

// Batch is a prepared batch. Its slices belong to the Loader: give it back
// with Release when done.
type Batch struct {
	Index   int       // batch number in the epoch
	N       int       // samples
	X       []float32 // N×C×H×W, NCHW
	Labels  []int     // class of each sample
	Rows    []int     // index row of each sample
	Draws   []int     // draw number of each sample in the epoch
	Targets []float32 // N×Classes, when Config.Classes > 0

	items []item
}

// item is one raw sample on its way to a batch.
type item struct {
	row, label, draw int
	h, w, c          int
	pix              []byte    // HWC, shared by the copies of a row drawn twice
	votes            []float32 // with Config.Votes: the vote counts
}

// Loader delivers the batches of one epoch. Next and Release are for one
// consumer goroutine.
type Loader struct {
	cfg      Config
	total    int // draws delivered, skipped ones included
	batches  int
	cancel   context.CancelFunc
	parent   context.Context
	jobs     chan *Batch
	done     chan *Batch
	out      chan *Batch
	free     chan *Batch
	poolSize int
	wg       sync.WaitGroup

	mu  sync.Mutex
	err error

	allocated int           // batches made so far; reader goroutine only
	next      int           // index of the next batch Next returns
	wait      time.Duration // time Next spent blocked
}

// Start checks cfg and starts the goroutines of a Loader. Close it when
// done, also after an error.
func Start(ctx context.Context, cfg Config) (*Loader, error) {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.Prefetch < 1 {
		cfg.Prefetch = 2
	}
	draws, err := check(&cfg)
	if err != nil {
		return nil, err
	}
	total := draws
	if cfg.Batches > 0 {
		total = min(total, cfg.Batches*cfg.BatchSize)
	}
	batches := (total + cfg.BatchSize - 1) / cfg.BatchSize
	inner, cancel := context.WithCancel(ctx)
	pool := cfg.Prefetch + cfg.Workers + 2 // + the reader's and the consumer's
	l := &Loader{
		cfg: cfg, total: total, batches: batches, cancel: cancel, parent: ctx,
		jobs:     make(chan *Batch),
		done:     make(chan *Batch),
		out:      make(chan *Batch, cfg.Prefetch),
		free:     make(chan *Batch, pool),
		poolSize: pool,
		next:     min(cfg.Skip, batches),
	}
	l.wg.Add(2 + cfg.Workers)
	go func() {
		defer l.wg.Done()
		defer close(l.jobs)
		if err := l.read(inner); err != nil {
			l.fail(err)
		}
	}()
	var workers sync.WaitGroup
	workers.Add(cfg.Workers)
	for range cfg.Workers {
		go func() {
			defer l.wg.Done()
			defer workers.Done()
			l.work(inner)
		}()
	}
	go func() {
		workers.Wait()
		close(l.done)
	}()
	go func() {
		defer l.wg.Done()
		defer close(l.out)
		l.collect(inner)
	}()
	return l, nil
}

// check validates cfg and returns the number of draws of the epoch.
func check(cfg *Config) (int, error) {
	switch {
	case cfg.Table == nil || cfg.Index == nil:
		return 0, errors.New("loader: no table or index")
	case cfg.BatchSize < 1:
		return 0, fmt.Errorf("loader: batch size %d, want at least 1", cfg.BatchSize)
	case cfg.C < 1 || cfg.H < 1 || cfg.W < 1:
		return 0, fmt.Errorf("loader: sample size %dx%dx%d (channels x height x width), want positive sizes", cfg.C, cfg.H, cfg.W)
	case cfg.Prepare == nil:
		return 0, errors.New("loader: no Prepare function")
	case cfg.Window < 0 || cfg.Skip < 0 || cfg.Batches < 0 || cfg.Classes < 0:
		return 0, fmt.Errorf("loader: negative window %d, skip %d, batches %d or classes %d", cfg.Window, cfg.Skip, cfg.Batches, cfg.Classes)
	}
	if cfg.Counts == nil {
		return cfg.Index.Len(), nil
	}
	if len(cfg.Counts) != cfg.Index.Len() {
		return 0, fmt.Errorf("loader: %d draw counts for %d rows", len(cfg.Counts), cfg.Index.Len())
	}
	draws := 0
	for k, n := range cfg.Counts {
		if n < 0 {
			return 0, fmt.Errorf("loader: row %d is drawn %d times", k, n)
		}
		draws += n
	}
	return draws, nil
}

// Batches returns the number of batches of the epoch, skipped ones
// included: Next delivers those from Config.Skip on.
func (l *Loader) Batches() int { return l.batches }

// Next returns the next batch in order, blocking until it is prepared. It
// returns false at the end of the epoch or on error; see Err.
func (l *Loader) Next() (*Batch, bool) {
	t0 := time.Now()
	b, ok := <-l.out
	l.wait += time.Since(t0)
	if ok {
		l.next++
	}
	return b, ok
}

// Wait returns the total time Next spent waiting for batches.
func (l *Loader) Wait() time.Duration { return l.wait }

// Release gives a batch's buffers back for reuse.
func (l *Loader) Release(b *Batch) {
	select {
	case l.free <- b:
	default: // cannot happen: the pool has room for every batch made
	}
}

// Err returns the error that ended the epoch early: a read, Prepare or
// Finish error, or the cancellation of the context given to Start. It is
// nil after every batch was delivered.
func (l *Loader) Err() error {
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	switch {
	case err != nil:
		return err
	case l.next >= l.batches:
		return nil
	case l.parent.Err() != nil:
		return l.parent.Err()
	}
	return fmt.Errorf("loader: epoch ended after %d of %d batches", l.next, l.batches)
}

// Close stops the goroutines and waits for them.
func (l *Loader) Close() {
	l.cancel()
	for range l.out {
	}
	l.wg.Wait()
}

func (l *Loader) fail(err error) {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	l.mu.Unlock()
	l.cancel()
}

// acquire returns an empty batch, reusing a released one when possible.
func (l *Loader) acquire(ctx context.Context) (*Batch, error) {
	if l.allocated < l.poolSize {
		select {
		case b := <-l.free:
			return b, nil
		default:
		}
		l.allocated++
		cfg := &l.cfg
		b := &Batch{
			X:      make([]float32, cfg.BatchSize*cfg.C*cfg.H*cfg.W),
			Labels: make([]int, cfg.BatchSize),
			Rows:   make([]int, cfg.BatchSize),
			Draws:  make([]int, cfg.BatchSize),
			items:  make([]item, 0, cfg.BatchSize),
		}
		if cfg.Classes > 0 {
			b.Targets = make([]float32, cfg.BatchSize*cfg.Classes)
		}
		return b, nil
	}
	select {
	case b := <-l.free:
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// read streams the parts, runs the shuffle window and hands out batch
// jobs of raw samples.
func (l *Loader) read(ctx context.Context) error {
	cfg := &l.cfg
	groups, err := l.groups()
	if err != nil {
		return err
	}
	var rng *rand.Rand
	if cfg.Window > 0 {
		rng = rand.New(rand.NewPCG(mix(uint64(cfg.Seed)^0x6c6f61646572), mix(uint64(cfg.Epoch))))
		rng.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	}
	if cfg.Skip >= l.batches {
		return nil
	}
	skip := cfg.Skip * cfg.BatchSize
	emitted := 0
	var cur *Batch
	emit := func(it item) error {
		it.draw = emitted
		emitted++
		if it.draw < skip {
			return nil
		}
		if cur == nil {
			var err error
			if cur, err = l.acquire(ctx); err != nil {
				return err
			}
			cur.Index = it.draw / cfg.BatchSize
			cur.items = cur.items[:0]
		}
		cur.items = append(cur.items, it)
		if len(cur.items) == cfg.BatchSize || emitted == l.total {
			select {
			case l.jobs <- cur:
				cur = nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	var window []item
	push := func(it item) error {
		switch {
		case cfg.Window == 0:
			return emit(it)
		case len(window) < cfg.Window:
			window = append(window, it)
			return nil
		}
		j := rng.IntN(len(window))
		out := window[j]
		window[j] = it
		return emit(out)
	}
	if err := l.readGroups(ctx, groups, push, func() bool { return emitted >= l.total }); err != nil {
		return err
	}
	for len(window) > 0 && emitted < l.total {
		j := rng.IntN(len(window))
		out := window[j]
		last := len(window) - 1
		window[j] = window[last]
		window[last] = item{}
		window = window[:last]
		if err := emit(out); err != nil {
			return err
		}
	}
	return nil
}

// groupRows are the indexed rows (ascending positions) of one row group.
type groupRows struct {
	table.GroupInfo
	rows []int
}

// groups lists the row groups holding indexed rows, in table order, with
// their rows.
func (l *Loader) groups() ([]groupRows, error) {
	cfg := &l.cfg
	infos, err := cfg.Table.Groups()
	if err != nil {
		return nil, fmt.Errorf("loader: %w", err)
	}
	byPart := cfg.Index.parts(cfg.Table.NumParts())
	var out []groupRows
	for _, g := range infos {
		rows := byPart[g.Part]
		n := 0
		for n < len(rows) && int64(cfg.Index.Pos[rows[n]]) < g.FirstRow+g.Rows {
			n++
		}
		if n > 0 {
			out = append(out, groupRows{GroupInfo: g, rows: rows[:n:n]})
		}
		byPart[g.Part] = rows[n:]
	}
	for p, rows := range byPart {
		if len(rows) > 0 {
			return nil, fmt.Errorf("loader: %s/%s has %d rows, but the index lists row %d", cfg.Table.Dir(),
				cfg.Table.Manifest().Parts[p].File, cfg.Table.Manifest().Parts[p].Rows, cfg.Index.Pos[rows[0]])
		}
	}
	return out, nil
}

// readGroups reads the indexed rows of groups, in that order, and pushes
// each as many times as it is drawn, until done reports true.
func (l *Loader) readGroups(ctx context.Context, groups []groupRows, push func(item) error, done func() bool) error {
	cfg := &l.cfg
	t := cfg.Table
	refs := make([]table.GroupRef, len(groups))
	for i, g := range groups {
		refs[i] = g.GroupRef
	}
	columns := Columns()
	if cfg.Votes {
		columns = append(columns, schemas.VoteCountsColumn)
	}
	sc := t.Scan(ctx, table.ScanOptions{Columns: columns, Groups: refs, BatchRows: scanRows})
	defer sc.Close()
	gi, next := 0, 0 // current group, and its next indexed row
	var read int64   // rows of the current group read so far
	for gi < len(groups) && !done() && sc.Next() {
		rec := sc.Record()
		g := &groups[gi]
		file := t.Manifest().Parts[g.Part].File
		cr, err := schemas.NewCutoutsReader(rec, columns...)
		if err != nil {
			return fmt.Errorf("loader: %s/%s: %w", t.Dir(), file, err)
		}
		height, width, channels, pixels := cr.Height, cr.Width, cr.Channels, cr.Pixels
		for i := range int(rec.NumRows()) {
			row := g.FirstRow + read + int64(i)
			if next == len(g.rows) || int64(cfg.Index.Pos[g.rows[next]]) != row {
				continue
			}
			k := g.rows[next]
			next++
			count := 1
			if cfg.Counts != nil {
				count = cfg.Counts[k]
			}
			if count == 0 {
				continue
			}
			it := item{row: k, label: cfg.Index.Labels[k],
				h: int(height.Value(i)), w: int(width.Value(i)), c: int(channels.Value(i))}
			pix := pixels.Value(i)
			if it.h < 1 || it.w < 1 || len(pix) != it.h*it.w*it.c {
				return fmt.Errorf("loader: %s/%s: row %d: %d pixel bytes for a %dx%dx%d image (height x width x channels)",
					t.Dir(), file, row, len(pix), it.h, it.w, it.c)
			}
			if it.c != cfg.C {
				return fmt.Errorf("loader: %s/%s: row %d has %d channels, the model takes %d", t.Dir(), file, row, it.c, cfg.C)
			}
			it.pix = bytes.Clone(pix)
			if cfg.Votes {
				if it.votes = slices.Clone(cr.Row(i).VoteCounts); len(it.votes) != cfg.Classes {
					return fmt.Errorf("loader: %s/%s: row %d has %d vote counts, the head %d outputs", t.Dir(), file, row, len(it.votes), cfg.Classes)
				}
			}
			for range count {
				if err := push(it); err != nil {
					return err
				}
			}
		}
		// Records never span row groups: move on once this one is read.
		if read += rec.NumRows(); read == g.Rows {
			if next < len(g.rows) {
				return fmt.Errorf("loader: %s/%s: row group %d ended before row %d of the index", t.Dir(), file, g.Group, cfg.Index.Pos[g.rows[next]])
			}
			gi, next, read = gi+1, 0, 0
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("loader: reading %s: %w", t.Dir(), err)
	}
	if gi < len(groups) && !done() {
		return fmt.Errorf("loader: %s: the table ended before row group %d of part %d", t.Dir(), groups[gi].Group, groups[gi].Part)
	}
	return nil
}

// work prepares batch jobs.
func (l *Loader) work(ctx context.Context) {
	cfg := &l.cfg
	size := cfg.C * cfg.H * cfg.W
	for b := range l.jobs {
		if err := l.prepare(b, size); err != nil {
			l.fail(err)
			return
		}
		select {
		case l.done <- b:
		case <-ctx.Done():
			return
		}
	}
}

func (l *Loader) prepare(b *Batch, size int) error {
	cfg := &l.cfg
	b.N = len(b.items)
	b.X = b.X[:b.N*size]
	b.Labels, b.Rows, b.Draws = b.Labels[:b.N], b.Rows[:b.N], b.Draws[:b.N]
	if b.Targets != nil {
		b.Targets = b.Targets[:b.N*cfg.Classes]
	}
	for i, it := range b.items {
		img, err := policy.FromHWC(it.pix, it.h, it.w, it.c)
		if err != nil {
			return fmt.Errorf("loader: row %d: %w", it.row, err)
		}
		if err := cfg.Prepare(b.X[i*size:(i+1)*size], img, it.draw); err != nil {
			return fmt.Errorf("loader: epoch %d, draw %d (row %d): %w", cfg.Epoch, it.draw, it.row, err)
		}
		b.Labels[i], b.Rows[i], b.Draws[i] = it.label, it.row, it.draw
		if cfg.Votes {
			copy(b.Targets[i*cfg.Classes:(i+1)*cfg.Classes], it.votes)
		}
	}
	clear(b.items) // drop the pixel copies
	b.items = b.items[:0]
	if cfg.Finish != nil {
		if err := cfg.Finish(b); err != nil {
			return fmt.Errorf("loader: epoch %d, batch %d: %w", cfg.Epoch, b.Index, err)
		}
	}
	return nil
}

// collect delivers prepared batches in order.
func (l *Loader) collect(ctx context.Context) {
	pending := map[int]*Batch{}
	next := min(l.cfg.Skip, l.batches)
	for {
		select {
		case b, ok := <-l.done:
			if !ok {
				return
			}
			pending[b.Index] = b
			for pending[next] != nil {
				select {
				case l.out <- pending[next]:
				case <-ctx.Done():
					return
				}
				delete(pending, next)
				next++
			}
		case <-ctx.Done():
			return
		}
	}
}

// mix is the SplitMix64 finaliser, to spread seeds over the PCG state.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
