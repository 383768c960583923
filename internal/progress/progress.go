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

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Group is a set of bars drawn together on one terminal. A nil *Group is
// valid and silent.
type Group struct {
	out  io.Writer
	p    *mpb.Progress
	mu   sync.Mutex
	bars []*Bar
}

// New returns a Group that draws on w if w is a terminal, and a silent Group
// otherwise. Only an *os.File can be a terminal.
func New(w io.Writer) *Group {
	f, ok := w.(*os.File)
	if !ok || !IsTerminal(f) {
		return &Group{out: w}
	}
	return &Group{
		out: w,
		p:   mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.PopCompletedMode()),
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

// groupWriter writes above the bars and falls back to the underlying writer
// once the group is closed.
type groupWriter struct{ g *Group }

func (w groupWriter) Write(b []byte) (int, error) {
	n, err := w.g.p.Write(b)
	if err != nil {
		return w.g.out.Write(b)
	}
	return n, nil
}

// Bar adds a bar labelled name that completes at total. A total of zero or
// less means "unknown yet"; set it later with SetTotal. On a silent group it
// returns nil, which is a valid, silent *Bar.
func (g *Group) Bar(name string, total int64) *Bar {
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
			decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO, decor.WCSyncSpace), "done"),
		),
	)}
	g.mu.Lock()
	g.bars = append(g.bars, b)
	g.mu.Unlock()
	return b
}

// Close stops drawing: bars that are not done are dropped where they stand,
// and Close waits until the terminal has been updated for the last time.
// The Group must not be used afterwards. Close on a silent group is a no-op.
func (g *Group) Close() {
	if !g.Active() {
		return
	}
	g.mu.Lock()
	bars := g.bars
	g.bars = nil
	g.mu.Unlock()
	for _, b := range bars {
		if !b.b.Completed() {
			b.b.Abort(false)
		}
	}
	g.p.Wait()
}

// Bar is one progress bar. A nil *Bar is valid and does nothing.
type Bar struct {
	b *mpb.Bar
}

// Increment advances the bar by one.
func (b *Bar) Increment() {
	if b != nil {
		b.b.IncrInt64(1)
	}
}

// IncrBy advances the bar by n.
func (b *Bar) IncrBy(n int) {
	if b != nil {
		b.b.IncrInt64(int64(n))
	}
}

// SetTotal changes the amount at which the bar completes.
func (b *Bar) SetTotal(total int64) {
	if b != nil {
		b.b.SetTotal(total, false)
	}
}

// Done marks the bar complete at its current value, whatever its total.
func (b *Bar) Done() {
	if b != nil {
		b.b.SetTotal(-1, true)
	}
}
