package split

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/astroformer/astroformer/schemas"
)

type object struct {
	id    string
	label int16
	split string // the input split; "" for none
}

// objects returns n[c] objects of each class c.
func objects(n ...int) []object {
	var objs []object
	for c, k := range n {
		for i := range k {
			objs = append(objs, object{id: fmt.Sprintf("OBJ-%d-%05d", c, i), label: int16(c)})
		}
	}
	return objs
}

func assign(f Fractions, seed int64, objs []object) map[string]string {
	p := NewPlanner(f, seed)
	for _, o := range objs {
		p.Observe(o.label, o.id)
	}
	plan := p.Plan()
	got := map[string]string{}
	for _, o := range objs {
		got[o.id] = plan.Assign(o.label, true, o.id)
	}
	return got
}

func TestStratified(t *testing.T) {
	sizes := []int{1081, 1853, 30, 7, 1, 0, 334}
	objs := objects(sizes...)
	f := DefaultFractions()
	got := assign(f, 42, objs)
	counts := map[int16]map[string]int{}
	for _, o := range objs {
		if counts[o.label] == nil {
			counts[o.label] = map[string]int{}
		}
		counts[o.label][got[o.id]]++
	}
	for c, n := range sizes {
		want := map[string]int{}
		train := int(float64(n)*f.Train + 0.5)
		val := int(float64(n)*(f.Train+f.Val)+0.5) - train
		want[schemas.SplitTrain], want[schemas.SplitVal], want[schemas.SplitTest] = train, val, n-train-val
		for _, split := range []string{schemas.SplitTrain, schemas.SplitVal, schemas.SplitTest} {
			if counts[int16(c)][split] != want[split] {
				t.Errorf("class %d (%d objects): %d in %s, want %d", c, n, counts[int16(c)][split], split, want[split])
			}
		}
	}
	// The Plan's counts agree.
	p := NewPlanner(f, 42)
	for _, o := range objs {
		p.Observe(o.label, o.id)
	}
	plan := p.Plan()
	for _, l := range plan.Labels() {
		tr, va, te := plan.Counts(l)
		c := counts[l]
		if int(tr) != c[schemas.SplitTrain] || int(va) != c[schemas.SplitVal] || int(te) != c[schemas.SplitTest] {
			t.Errorf("class %d: Counts %d/%d/%d, assigned %v", l, tr, va, te, c)
		}
	}
	if got := plan.Assign(0, false, objs[0].id); got != "" {
		t.Errorf("unlabelled row assigned %q, want \"\"", got)
	}
	if got := plan.Assign(99, true, "unseen"); got != "" {
		t.Errorf("row of an unseen class assigned %q, want \"\"", got)
	}
}

func TestStableUnderReordering(t *testing.T) {
	objs := objects(500, 300, 20)
	want := assign(DefaultFractions(), 7, objs)
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
	got := assign(DefaultFractions(), 7, objs)
	for id, split := range want {
		if got[id] != split {
			t.Fatalf("%s: %q after shuffling, %q before", id, got[id], split)
		}
	}
	// Adding objects moves few of the old ones.
	more := append(objs, object{id: "NEW-1", label: 0}, object{id: "NEW-2", label: 1}, object{id: "NEW-3", label: 0})
	got = assign(DefaultFractions(), 7, more)
	moved := 0
	for id, split := range want {
		if got[id] != split {
			moved++
		}
	}
	if moved > 6 {
		t.Errorf("adding 3 objects moved %d others", moved)
	}
}

func TestSeedsDiffer(t *testing.T) {
	objs := objects(400, 400)
	a, b := assign(DefaultFractions(), 1, objs), assign(DefaultFractions(), 2, objs)
	differ := 0
	for id := range a {
		if a[id] != b[id] {
			differ++
		}
	}
	// Two independent 80/10/10 draws agree on 0.8²+0.1²+0.1² = 66% of objects.
	if differ < len(objs)/5 {
		t.Errorf("seeds 1 and 2 differ on %d of %d objects", differ, len(objs))
	}
}

func TestFractionsCheck(t *testing.T) {
	for _, f := range []Fractions{{0.8, 0.1, 0.1}, {1, 0, 0}, {0.7, 0.15, 0.15}} {
		if err := f.Check(); err != nil {
			t.Errorf("%+v: %v", f, err)
		}
	}
	for _, f := range []Fractions{{0.8, 0.1, 0.2}, {1.1, -0.1, 0}, {0.5, 0.5, 0.5}} {
		if err := f.Check(); err == nil {
			t.Errorf("%+v: no error", f)
		}
	}
}

func TestZeroFractions(t *testing.T) {
	sizes := []int{37, 5, 1}
	objs := objects(sizes...)
	for _, f := range []Fractions{{0.9, 0.1, 0}, {1, 0, 0}, {0, 0, 1}, {0.5, 0, 0.5}, {0, 1, 0}, {0.9999995, 0, 0}} {
		got := assign(f, 3, objs)
		counts := map[int16][3]int64{}
		for _, o := range objs {
			j, ok := splitIndex(got[o.id])
			if !ok {
				t.Fatalf("%+v: %s assigned %q", f, o.id, got[o.id])
			}
			n := counts[o.label]
			n[j]++
			counts[o.label] = n
		}
		for c, n := range sizes {
			for j, x := range []float64{f.Train, f.Val, f.Test} {
				if x == 0 && counts[int16(c)][j] != 0 {
					t.Errorf("%+v: class %d (%d objects): %d in a split of fraction 0", f, c, n, counts[int16(c)][j])
				}
			}
		}
		if f == (Fractions{0.9, 0.1, 0}) && counts[0] != [3]int64{33, 4, 0} {
			t.Errorf("%+v: class 0 split %v, want [33 4 0]", f, counts[0])
		}
	}
}
