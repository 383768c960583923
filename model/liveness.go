package model

import (
	"fmt"
	"slices"

	"gorgonia.org/gorgonia"
)

// share gives the ops of a graph built with shared set their value buffers,
// reusing a buffer once every node that reads the value it held has run: a
// value is alive from the op that writes it to the last node that reads it,
// in the order the tape machine runs the graph (gorgonia.Compile's: the
// reverse of gorgonia.Sort), and through gorgonia's own nodes (the sums of
// gradients), which may write into their input, to their last reader. The
// values of keep stay alive to the end, to be read after a run. A free
// buffer is reused for the smallest later value it holds. So an evaluation
// graph holds about the largest few activations at once instead of all of
// them, and a training graph frees each activation once the backward pass
// has used it.
//
// Only the graph's edges are followed: it relies on every kernel reading
// other ops' values only through its inputs (a gradient kernel gets the
// forward values it needs as inputs; what a kernel keeps between its
// forward and backward runs is in buffers of its own). It returns the
// number of float32 elements allocated.
func (b *builder) share(keep ...*gorgonia.Node) (int, error) {
	sorted, err := gorgonia.Sort(b.g)
	if err != nil {
		return 0, fmt.Errorf("model: ordering the graph: %w", err)
	}
	order := slices.Clone(sorted)
	slices.Reverse(order)
	at := make(map[*gorgonia.Node]int, len(order))
	for i, n := range order {
		at[n] = i
	}
	end := make(map[*gorgonia.Node]int, len(order)) // position of the last reader
	for _, n := range keep {
		end[n] = len(order)
	}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		e := max(end[n], i)
		readers := b.g.To(n.ID())
		for readers.Next() {
			r := readers.Node().(*gorgonia.Node)
			e = max(e, at[r])
			if _, ours := r.Op().(*op); !ours {
				e = max(e, end[r])
			}
		}
		end[n] = e
	}

	type live struct {
		buf []float32
		end int
	}
	var alive []live
	var free [][]float32
	allocated := 0
	for i, n := range order {
		o, ok := n.Op().(*op)
		if !ok || o.data != nil {
			continue // an input, or a scalar with its own buffer
		}
		// Values whose last reader ran before this op are dead.
		alive = slices.DeleteFunc(alive, func(l live) bool {
			if l.end < i {
				free = append(free, l.buf)
				return true
			}
			return false
		})
		size := o.size()
		best := -1
		for j, buf := range free {
			if cap(buf) >= size && (best < 0 || cap(buf) < cap(free[best])) {
				best = j
			}
		}
		var buf []float32
		if best >= 0 {
			buf = free[best][:size]
			free = slices.Delete(free, best, best+1)
		} else {
			buf = make([]float32, size)
			allocated += size
		}
		o.bind(buf)
		alive = append(alive, live{buf: buf[:cap(buf)], end: end[n]})
	}
	return allocated, nil
}
