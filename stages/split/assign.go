package split

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/astroformer/astroformer/schemas"
)

// Fractions are the shares of each class that go to the train, val and test
// splits; they sum to 1.
type Fractions struct {
	Train, Val, Test float64
}

// DefaultFractions returns the default 80/10/10 split.
func DefaultFractions() Fractions {
	return Fractions{Train: 0.8, Val: 0.1, Test: 0.1}
}

// Check returns an error unless every fraction lies in [0, 1] and they sum
// to 1 within 1e-6.
func (f Fractions) Check() error {
	for _, v := range []struct {
		name string
		x    float64
	}{{"train", f.Train}, {"val", f.Val}, {"test", f.Test}} {
		if !(v.x >= 0 && v.x <= 1) {
			return fmt.Errorf("%s fraction %g is outside [0, 1]", v.name, v.x)
		}
	}
	if sum := f.Train + f.Val + f.Test; math.Abs(sum-1) > 1e-6 {
		return fmt.Errorf("fractions train %g + val %g + test %g sum to %g, not 1", f.Train, f.Val, f.Test, sum)
	}
	return nil
}

// Key returns the sort key of an object within its class: the first eight
// bytes of SHA-256(seed as 8 little-endian bytes ‖ object_id), big-endian.
// It depends on nothing else, so an object's key survives re-ingesting and
// re-ordering the table, and different seeds shuffle differently.
func Key(seed int64, objectID string) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(objectID))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// A Planner computes an exactly stratified split. Observe every labelled
// row once (8 bytes of memory each), then Plan: within each class, the
// objects ordered by Key go to train, val and test in the proportions of the
// fractions, rounded to whole objects; a split whose fraction is 0 gets none.
type Planner struct {
	f    Fractions
	seed int64
	keys map[int16][]uint64
}

// NewPlanner returns a Planner for fractions f (see Fractions.Check) and seed.
func NewPlanner(f Fractions, seed int64) *Planner {
	return &Planner{f: f, seed: seed, keys: map[int16][]uint64{}}
}

// Observe records a labelled row.
func (p *Planner) Observe(label int16, objectID string) {
	p.keys[label] = append(p.keys[label], Key(p.seed, objectID))
}

// Plan returns the split of the observed rows; the Planner is empty after.
func (p *Planner) Plan() *Plan {
	plan := &Plan{seed: p.seed, f: p.f, classes: make(map[int16]cuts, len(p.keys))}
	for label, keys := range p.keys {
		slices.Sort(keys)
		n := len(keys)
		// A zero fraction gets no objects, even when the others sum to
		// slightly less than 1.
		train, val := n, n
		if p.f.Val+p.f.Test > 0 {
			train = int(math.Round(p.f.Train * float64(n)))
		}
		if p.f.Test > 0 {
			val = min(n, int(math.Round((p.f.Train+p.f.Val)*float64(n))))
		}
		c := cuts{counts: [3]int64{int64(train), int64(val - train), int64(n - val)}}
		c.train, c.trainAll = bound(keys, train)
		c.val, c.valAll = bound(keys, val)
		plan.classes[label] = c
	}
	p.keys = map[int16][]uint64{}
	return plan
}

// bound returns the key of rank r, or all = true when r is past the end.
func bound(sorted []uint64, r int) (key uint64, all bool) {
	if r >= len(sorted) {
		return 0, true
	}
	return sorted[r], false
}

// cuts are the key thresholds of one class: keys below train go to train,
// then keys below val to val, the rest to test.
type cuts struct {
	train, val       uint64
	trainAll, valAll bool     // the threshold is past the largest key
	counts           [3]int64 // rows per split: train, val, test
}

// Plan assigns rows to splits. It is safe for concurrent use.
type Plan struct {
	seed    int64
	f       Fractions
	classes map[int16]cuts
}

// Assign returns the split of a row: "train", "val" or "test" for a label
// observed by the Planner, and "" (not assigned) for an unlabelled row or a
// label the Planner did not see.
func (p *Plan) Assign(label int16, labelled bool, objectID string) string {
	c, ok := p.classes[label]
	if !labelled || !ok {
		return ""
	}
	k := Key(p.seed, objectID)
	switch {
	case c.trainAll || k < c.train:
		return schemas.SplitTrain
	case c.valAll || k < c.val:
		return schemas.SplitVal
	default:
		return schemas.SplitTest
	}
}

// Labels returns the observed labels in increasing order.
func (p *Plan) Labels() []int16 { return slices.Sorted(maps.Keys(p.classes)) }

// Counts returns the number of rows of class label in train, val and test.
func (p *Plan) Counts(label int16) (train, val, test int64) {
	c := p.classes[label].counts
	return c[0], c[1], c[2]
}
