package synthetic

import (
	"slices"
	"testing"

	"github.com/astroformer/astroformer/votes"
)

// TestVotes simulates volunteers on rendered galaxies: the same object gets
// the same votes, about 40 volunteers see each, fewer reach later
// questions, and the majority answers follow the drawn morphology.
func TestVotes(t *testing.T) {
	tree := votes.DECaLS()
	r, err := NewRenderer(Options{Size: 32, Seed: 5, Weights: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	off := tree.Offsets()
	frac := func(counts []float64, question, answer string) float64 {
		q := tree.Question(question)
		a := slices.IndexFunc(tree.Questions[q].Answers, func(x votes.Answer) bool { return x.Name == answer })
		var n float64
		for i := range tree.Questions[q].Answers {
			n += counts[off[q]+i]
		}
		if n == 0 {
			return 0
		}
		return counts[off[q]+a] / n
	}
	type tally struct{ n, smooth, spiral, merger, first, armsAsked float64 }
	by := map[Class]*tally{}
	var obj Object
	for i := range int64(600) {
		r.Render(i, &obj)
		counts := Votes(tree, obj.Truth, 5, i, DefaultVolunteers())
		if i < 3 && !slices.Equal(counts, Votes(tree, obj.Truth, 5, i, DefaultVolunteers())) {
			t.Fatal("the same object got other votes")
		}
		tl := by[obj.Class]
		if tl == nil {
			tl = &tally{}
			by[obj.Class] = tl
		}
		tl.n++
		tl.smooth += frac(counts, "smooth-or-featured", "smooth")
		tl.spiral += frac(counts, "has-spiral-arms", "yes")
		tl.merger += frac(counts, "merging", "merger")
		tl.first += counts[0] + counts[1] + counts[2]
		q := off[tree.Question("has-spiral-arms")]
		tl.armsAsked += counts[q] + counts[q+1]
	}
	mean := func(c Class, v float64) float64 { return v / by[c].n }
	if m := mean(RoundSmooth, by[RoundSmooth].smooth); m < 0.6 {
		t.Errorf("round smooth galaxies: mean smooth fraction %.2f", m)
	}
	if m := mean(UnbarredLooseSpiral, by[UnbarredLooseSpiral].smooth); m > 0.4 {
		t.Errorf("loose spirals: mean smooth fraction %.2f", m)
	}
	if m := mean(BarredSpiral, by[BarredSpiral].spiral); m < 0.5 {
		t.Errorf("barred spirals: mean has-spiral-arms yes %.2f", m)
	}
	if m := mean(Merging, by[Merging].merger); m < 0.5 {
		t.Errorf("mergers: mean merger fraction %.2f", m)
	}
	var first, n float64
	for _, tl := range by {
		first += tl.first
		n += tl.n
	}
	if m := first / n; m < 37 || m > 43 {
		t.Errorf("%.1f volunteers per galaxy on average, want about 40", m)
	}
	// Volunteers who call a galaxy smooth are never asked about arms.
	if tl := by[RoundSmooth]; tl.armsAsked > 0.3*tl.first {
		t.Errorf("round smooth galaxies: %.0f votes on has-spiral-arms of %.0f on the first question", tl.armsAsked, tl.first)
	}
}
