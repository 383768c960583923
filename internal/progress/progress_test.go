package progress

import (
	"bytes"
	"os"
	"testing"
)

func TestSilentOffTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var buf bytes.Buffer
	for _, out := range []struct {
		name string
		g    *Group
	}{{"pipe", New(w)}, {"buffer", New(&buf)}, {"nil group", nil}} {
		g := out.g
		if g.Active() {
			t.Errorf("%s: group is active", out.name)
		}
		b := g.Bar("work", 10)
		if b != nil {
			t.Errorf("%s: Bar returned a live bar", out.name)
		}
		allocs := testing.AllocsPerRun(100, func() {
			b := g.Bar("work", 10)
			b.Increment()
			b.IncrBy(3)
			b.SetTotal(20)
			b.Done()
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per use, want 0", out.name, allocs)
		}
		g.Close()
	}
	if buf.Len() != 0 {
		t.Errorf("silent group wrote %q", buf.String())
	}

	// Log lines pass straight through to the underlying writer.
	if _, err := New(&buf).Writer().Write([]byte("line\n")); err != nil || buf.String() != "line\n" {
		t.Errorf("Writer: wrote %q, err %v", buf.String(), err)
	}
	if w := (*Group)(nil).Writer(); w == nil {
		t.Error("nil group has a nil Writer")
	}
}

func TestObserve(t *testing.T) {
	var got []int64
	g := Observe(func(bar string, n int64) {
		if bar != "work" {
			t.Errorf("bar %q", bar)
		}
		got = append(got, n)
	})
	if g.Active() {
		t.Error("an observing group is active")
	}
	b := g.Bar("work", 10)
	b.Increment()
	b.IncrBy(3)
	b.SetTotal(4)
	b.Done()
	g.Close()
	if len(got) != 2 || got[0] != 1 || got[1] != 4 {
		t.Errorf("observed %v, want [1 4]", got)
	}
}
