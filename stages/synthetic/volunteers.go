package synthetic

import (
	"math"

	"github.com/astroformer/astroformer/votes"
)

// Truth is the morphology of a rendered galaxy, the parameters it was drawn
// with, which simulated volunteers judge.
type Truth struct {
	Featured  bool    // a disk, arms, clumps or tails: not a smooth galaxy
	EdgeOn    bool    // a disk seen edge-on
	AxisRatio float64 // apparent minor/major axis ratio (smooth and face-on disks), thickness for edge-on disks
	Bulge     float64 // fraction of the light in the bulge (1 for smooth galaxies)
	Bar       float64 // fraction of the light in a bar (0: none)
	Arms      int     // spiral arms (0: none)
	PitchDeg  float64 // pitch angle of the arms, degrees
	Merger    int     // MergerNone to MergerMerging
}

// Merger states of a Truth, the answers of the merging question.
const (
	MergerNone = iota
	MergerMinor
	MergerMajor
	MergerMerging
)

// VolunteerOptions set the crowd that votes on a galaxy.
type VolunteerOptions struct {
	// Volunteers is the mean number who see each galaxy (Poisson); Galaxy
	// Zoo DECaLS aimed at about 40.
	Volunteers float64
	// Noise is the largest share of a volunteer's answers given at random
	// instead of by the galaxy's morphology: each volunteer draws theirs
	// uniformly from [0, Noise].
	Noise float64
}

// DefaultVolunteers is about 40 volunteers a galaxy, up to 30% of whose
// answers are guesses.
func DefaultVolunteers() VolunteerOptions { return VolunteerOptions{Volunteers: 40, Noise: 0.3} }

// Votes simulates the Galaxy Zoo DECaLS volunteers who see object index of
// seed: vote counts in the order of votes.DECaLS().CountColumns(). Each
// volunteer walks the tree answering from the galaxy's true morphology,
// blurred by their own noise; so later questions get fewer votes. The
// result depends only on (seed, index, t, opt).
func Votes(tree *votes.Tree, t Truth, seed, index int64, opt VolunteerOptions) []float64 {
	var r rng
	r.reset(seed^0x766f746573, index) // a stream of its own: images do not change
	n := r.poisson(opt.Volunteers)
	names := make([]string, len(tree.Questions))
	for i, q := range tree.Questions {
		names[i] = q.Name
	}
	var noise float64
	choose := func(q int) int {
		p := answerProbabilities(names[q], t)
		if p == nil || len(p) != len(tree.Questions[q].Answers) {
			p = uniformOver(len(tree.Questions[q].Answers))
		}
		if r.float() < noise {
			return r.intn(len(p))
		}
		return pick(p, r.float())
	}
	counts := make([]float64, tree.Answers())
	for range n {
		noise = r.uniform(0, opt.Noise)
		one := tree.Simulate(1, choose)
		for i, c := range one {
			counts[i] += c
		}
	}
	return counts
}

// answerProbabilities returns what a careful volunteer answers to a
// question of the GZ DECaLS tree about t, or nil for a question it does not
// know.
func answerProbabilities(question string, t Truth) []float64 {
	switch question {
	case "smooth-or-featured":
		if t.Featured {
			return []float64{0.12, 0.86, 0.02}
		}
		return []float64{0.88, 0.1, 0.02}
	case "disk-edge-on":
		return yesNo(t.EdgeOn, 0.9)
	case "has-spiral-arms":
		return yesNo(t.Arms > 1, 0.85)
	case "bar":
		return soft(t.Bar, 0.15, 0.03, 0.0) // strong, weak, no
	case "bulge-size":
		return soft(t.Bulge, 0.6, 0.35, 0.2, 0.08, 0.0) // dominant to none
	case "how-rounded":
		return soft(t.AxisRatio, 0.87, 0.6, 0.32) // round, in-between, cigar
	case "edge-on-bulge":
		if t.Bulge < 0.1 {
			return []float64{0.05, 0.8, 0.15} // boxy, none, rounded
		}
		return []float64{0.2, 0.1, 0.7}
	case "spiral-winding":
		return soft(-t.PitchDeg, -9, -16, -26) // tight, medium, loose
	case "spiral-arm-count":
		p := make([]float64, 6) // 1, 2, 3, 4, more than 4, can't tell
		arm := min(max(t.Arms, 1), 5) - 1
		p[arm], p[5] = 0.7, 0.15
		for i := range 5 {
			if i != arm {
				p[i] = 0.15 / 4
			}
		}
		return p
	case "merging":
		p := []float64{0.03, 0.03, 0.03, 0.03}
		p[t.Merger] = 0.91
		return p
	}
	return nil
}

// yesNo is [yes, no] with the truth given probability p.
func yesNo(yes bool, p float64) []float64 {
	if yes {
		return []float64{p, 1 - p}
	}
	return []float64{1 - p, p}
}

// soft returns probabilities over answers whose typical values are
// centres, for a galaxy whose value is v: a softmax of minus the squared
// distance to each centre, in units of their spacing.
func soft(v float64, centres ...float64) []float64 {
	p := make([]float64, len(centres))
	scale := math.Abs(centres[0]-centres[len(centres)-1]) / float64(len(centres)-1)
	var sum float64
	for i, c := range centres {
		d := (v - c) / scale
		p[i] = math.Exp(-d * d)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

func uniformOver(n int) []float64 {
	p := make([]float64, n)
	for i := range p {
		p[i] = 1 / float64(n)
	}
	return p
}

// pick returns the index whose cumulative probability first exceeds u.
func pick(p []float64, u float64) int {
	for i, v := range p {
		if u < v {
			return i
		}
		u -= v
	}
	return len(p) - 1
}
