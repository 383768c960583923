// Package progress draws progress bars on a terminal and does nothing at all
// anywhere else.
//
// A Group is created once per run for the standard error stream. When that
// stream is not a terminal (a pipe, a file, a CI log), the Group is inert: its
// bars are nil values whose methods return at once, so stages can report
// progress unconditionally and the logs carry the story instead.
package progress

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Group is a set of bars drawn together on one terminal. A nil *Group is
// valid and silent.
type Group struct {
	out      io.Writer
	p        *mpb.Progress
	refresh  chan any      // render requests: a ticker's and Close's
	stop     chan struct{} // closed by Close to stop the ticker
	shutdown chan any      // closed by mpb once it has shut down
	closed   atomic.Bool   // set once drawing has ended; writes go straight to out

	mu   sync.Mutex
	bars []*Bar

	observe func(bar string, n int64) // set by Observe
}

// refreshRate is how often bars are redrawn.
const refreshRate = 150 * time.Millisecond

// New returns a Group that draws on w if w is a terminal, and a silent Group
// otherwise. Only an *os.File can be a terminal.
func New(w io.Writer) *Group {
	f, ok := w.(*os.File)
	if !ok || !IsTerminal(f) {
		return &Group{out: w}
	}
	g := &Group{
		out:      w,
		refresh:  make(chan any),
		stop:     make(chan struct{}),
		shutdown: make(chan any),
	}
	g.p = mpb.New(
		mpb.WithOutput(w),
		mpb.WithWidth(40),
		mpb.PopCompletedMode(),
		mpb.WithManualRefresh(g.refresh),
		mpb.WithShutdownNotifier(g.shutdown),
	)
	go g.tick()
	return g
}

// tick requests a redraw every refreshRate until Close or shutdown. Redraws
// are requested here rather than by mpb so that Close can request the last
// one, which also prints the log lines written since the one before.
func (g *Group) tick() {
	t := time.NewTicker(refreshRate)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			select {
			case g.refresh <- now:
			case <-g.stop:
				return
			case <-g.shutdown:
				return
			}
		case <-g.stop:
			return
		case <-g.shutdown:
			return
		}
	}
}

// IsTerminal reports whether f is a terminal (including a Cygwin/MSYS one).
func IsTerminal(f *os.File) bool {
	fd := f.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}

// Active reports whether the group draws anything.
func (g *Group) Active() bool { return g != nil && g.p != nil }

// Writer returns the writer that log lines should go to so that they appear
// above the bars instead of tearing them: the group itself while it draws,
// the underlying writer otherwise.
func (g *Group) Writer() io.Writer {
	if g == nil {
		return io.Discard
	}
	if g.p == nil {
		return g.out
	}
	return groupWriter{g}
}

// groupWriter writes above the bars: mpb holds the bytes until the next
// redraw. Once drawing has ended, it writes to the underlying writer.
type groupWriter struct{ g *Group }

func (w groupWriter) Write(b []byte) (int, error) {
	if !w.g.closed.Load() {
		if n, err := w.g.p.Write(b); err == nil {
			return n, nil
		}
	}
	return w.g.out.Write(b)
}

// Observe returns a Group that draws nothing and calls f with a bar's name
// and its count after every Increment or IncrBy of one of its bars, on the
// goroutine that advanced it. Tests use it to follow a stage's progress and
// to interrupt it part-way (cancelling its context from f).
func Observe(f func(bar string, n int64)) *Group {
	return &Group{out: io.Discard, observe: f}
}

// Bar adds a bar labelled name that completes at total. A total of zero or
// less means "unknown yet"; set it later with SetTotal. On a silent group it
// returns nil, which is a valid, silent *Bar.
func (g *Group) Bar(name string, total int64) *Bar {
	if g != nil && g.observe != nil {
		return &Bar{name: name, observe: g.observe}
	}
	if !g.Active() {
		return nil
	}
	b := &Bar{b: g.p.AddBar(max(total, 0),
		mpb.PrependDecorators(
			decor.Name(name, decor.WCSyncSpaceR),
			decor.CountersNoUnit("%d / %d", decor.WCSyncSpace),
		),
		mpb.AppendDecorators(
			decor.Percentage(decor.WCSyncSpace),
			decor.OnAbort(decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO, decor.WCSyncSpace), "done"), "stopped"),
		),
	)}
	b.known.Store(total > 0)
	g.mu.Lock()
	g.bars = append(g.bars, b)
	g.mu.Unlock()
	return b
}

// Close stops drawing: bars that are not done are left where they stand,
// the bars and the log lines written through Writer are drawn a last time,
// and later writes go straight to the underlying writer. The Group must
// not be used for bars afterwards. Close on a silent group is a no-op.
func (g *Group) Close() {
	if !g.Active() || g.closed.Load() {
		return
	}
	close(g.stop)
	g.mu.Lock()
	bars := g.bars
	g.bars = nil
	g.mu.Unlock()
	for _, b := range bars {
		if !b.b.Completed() {
			b.b.Abort(false)
		}
	}
	select {
	case g.refresh <- time.Now():
	case <-g.shutdown:
	}
	g.p.Wait()
	g.closed.Store(true)
}

// Bar is one progress bar. A nil *Bar is valid and does nothing. Its
// methods may be called from several goroutines.
type Bar struct {
	b     *mpb.Bar
	known atomic.Bool // the total is known

	// A bar of an Observe group has no b: it counts and calls observe.
	name    string
	observe func(bar string, n int64)
	n       atomic.Int64
}

// Increment advances the bar by one.
func (b *Bar) Increment() {
	b.IncrBy(1)
}

// IncrBy advances the bar by n.
func (b *Bar) IncrBy(n int) {
	switch {
	case b == nil:
	case b.observe != nil:
		b.observe(b.name, b.n.Add(int64(n)))
	default:
		b.b.IncrInt64(int64(n))
	}
}

// SetTotal sets the amount at which the bar completes.
func (b *Bar) SetTotal(total int64) {
	if b != nil && b.b != nil {
		b.known.Store(true)
		b.b.SetTotal(total, false)
	}
}

// Done ends the bar: no more progress will come. A bar whose total was
// never known completes at its current value; a bar short of its total (a
// stage that failed or was interrupted) stays where it stopped.
func (b *Bar) Done() {
	switch {
	case b == nil || b.b == nil:
	case !b.known.Load():
		b.b.SetTotal(-1, true)
	case !b.b.Completed():
		b.b.Abort(false)
	}
}
