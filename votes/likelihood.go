package votes

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// DirichletMultinomial returns the negative log-likelihood of the vote
// counts k of one question under a Dirichlet-multinomial with
// concentrations alpha, without the multinomial coefficient (it does not
// depend on alpha), and its gradient with respect to alpha:
//
//	−log p(k | α) = −[lnΓ(A) − lnΓ(N+A) + Σᵢ (lnΓ(kᵢ+αᵢ) − lnΓ(αᵢ))],  A = Σα, N = Σk
//	∂/∂αᵢ        = −[ψ(A) − ψ(N+A) + ψ(kᵢ+αᵢ) − ψ(αᵢ)]
//
// This is Zoobot's loss: a galaxy with few votes is less certain, so it
// pulls the model less, and a question nobody was asked (N = 0) contributes
// exactly 0. grad, when not nil, receives the gradient (len(alpha) values).
func DirichletMultinomial(k, alpha, grad []float64) float64 {
	var n, a float64
	for i := range k {
		n += k[i]
		a += alpha[i]
	}
	if n == 0 {
		clear(grad)
		return 0
	}
	lgA, _ := math.Lgamma(a)
	lgNA, _ := math.Lgamma(n + a)
	ll := lgA - lgNA
	common := mathext.Digamma(a) - mathext.Digamma(n+a)
	for i := range k {
		lgKA, _ := math.Lgamma(k[i] + alpha[i])
		lgAl, _ := math.Lgamma(alpha[i])
		ll += lgKA - lgAl
		if grad != nil {
			grad[i] = -(common + mathext.Digamma(k[i]+alpha[i]) - mathext.Digamma(alpha[i]))
		}
	}
	return -ll
}

// TreeLoss returns the loss of one galaxy over a tree: the sum over
// questions of DirichletMultinomial, with counts and alpha laid out as the
// tree's answers in order (Tree.Offsets), and its gradient into grad when
// not nil. Questions with no votes count for nothing.
func (t *Tree) TreeLoss(counts, alpha, grad []float64) (float64, error) {
	if len(counts) != t.Answers() || len(alpha) != t.Answers() || grad != nil && len(grad) != t.Answers() {
		return 0, fmt.Errorf("votes: %d counts, %d concentrations for tree %q of %d answers", len(counts), len(alpha), t.Name, t.Answers())
	}
	var loss float64
	for q, off := range t.Offsets() {
		end := off + len(t.Questions[q].Answers)
		var g []float64
		if grad != nil {
			g = grad[off:end]
		}
		loss += DirichletMultinomial(counts[off:end], alpha[off:end], g)
	}
	return loss, nil
}

// Fraction is a question's expected vote fraction for one answer and its
// central interval.
type Fraction struct {
	Mean, Lo, Hi float64
}

// Fractions returns, for the concentrations alpha of one question, each
// answer's expected vote fraction αᵢ/A and the central interval holding
// level (0.9 for 90%) of the probability of its Beta(αᵢ, A−αᵢ) marginal.
// The means sum to 1.
func Fractions(alpha []float64, level float64) []Fraction {
	var a float64
	for _, v := range alpha {
		a += v
	}
	out := make([]Fraction, len(alpha))
	tail := (1 - level) / 2
	for i, v := range alpha {
		b := distuv.Beta{Alpha: v, Beta: a - v}
		out[i] = Fraction{Mean: v / a, Lo: b.Quantile(tail), Hi: b.Quantile(1 - tail)}
	}
	return out
}

// FractionError compares one question's predicted fractions (or any
// positive weights, normalised here: Dirichlet concentrations do) with its
// vote counts: it returns the mean over the answers of |predicted −
// observed fraction|, and the number of votes (0 when nobody was asked, and
// then the error is 0).
func FractionError(pred, counts []float64) (meanAbsErr, votes float64) {
	var total float64
	for i := range pred {
		total += pred[i]
		votes += counts[i]
	}
	if votes == 0 || total == 0 {
		return 0, votes
	}
	for i := range pred {
		meanAbsErr += math.Abs(pred[i]/total - counts[i]/votes)
	}
	return meanAbsErr / float64(len(pred)), votes
}
