package model

import (
	"fmt"
	"slices"

	"gorgonia.org/gorgonia"
)

// share gives the ops of a graph built with shared set their value buffers,
// views of one arena, so that values whose lifetimes do not overlap share
// memory: a value is alive from the op that writes it to the last node that
// reads it, in the order the tape machine runs the graph (gorgonia.Compile's:
// the reverse of gorgonia.Sort), and through gorgonia's own nodes (the sums
// of gradients), which may write into their input, to their last reader.
// The values of keep stay alive to the end, to be read after a run. So an
// evaluation graph holds about the largest few activations at once instead
// of all of them, and a training graph frees each activation once the
// backward pass has used it.
//
// Offsets in the arena are planned greedily by size, largest first, each
// value at the lowest offset clear of every value alive at the same time:
// a small value never pins a large buffer (a parameter gradient, kept to
// the end, would otherwise hold on to the freed buffer of an activation),
// and the arena ends close to the largest sum of values alive at once.
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

	var values []*span
	for i, n := range order {
		if o, ok := n.Op().(*op); ok && o.data == nil { // not an input, nor a scalar with its own buffer
			values = append(values, &span{op: o, start: i, end: end[n], size: o.size()})
		}
	}
	arena := make([]float32, plan(values))
	for _, v := range values {
		v.op.bind(arena[v.off : v.off+v.size : v.off+v.size])
	}
	return len(arena), nil
}

// span is a value of the graph: its op, the positions in the run order of
// the op that writes it and of its last reader, its size and its planned
// offset in the arena (all in float32 elements).
type span struct {
	op               *op
	start, end, size int
	off              int
}

// arenaAlign keeps every value on a 64-byte boundary, the width of an
// AVX-512 register.
const arenaAlign = 16

// plan sets the offset of every value, largest first, at the lowest offset
// where it overlaps no value already placed whose lifetime meets its own,
// and returns the size of the arena that holds them.
func plan(values []*span) int {
	bySize := slices.Clone(values)
	slices.SortStableFunc(bySize, func(a, b *span) int { return b.size - a.size })
	var placed, meets []*span
	total := 0
	for _, v := range bySize {
		meets = meets[:0]
		for _, p := range placed {
			if p.start <= v.end && v.start <= p.end {
				meets = append(meets, p)
			}
		}
		slices.SortFunc(meets, func(a, b *span) int { return a.off - b.off })
		off := 0
		for _, p := range meets {
			if p.off-off >= v.size {
				break
			}
			off = max(off, p.off+roundUp(p.size, arenaAlign))
		}
		v.off = off
		placed = append(placed, v)
		total = max(total, off+roundUp(v.size, arenaAlign))
	}
	return total
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }
