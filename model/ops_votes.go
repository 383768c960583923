package model

import (
	"fmt"
	"math"
	"slices"

	"gorgonia.org/gorgonia"

	"github.com/astroformer/astroformer/votes"
)

// UseVoteLoss makes the head a vote head over a decision tree: groups are
// the answers of each question in order, summing to Spec.Classes. TrainStep
// then takes vote counts per answer as targets and minimises the
// Dirichlet-multinomial loss, and each output z is the concentration
// Concentration(z) of its answer. nil goes back to classification.
func (n *Net) UseVoteLoss(groups []int) error {
	if groups != nil {
		sum := 0
		for q, g := range groups {
			if g < 2 {
				return fmt.Errorf("model: vote question %d has %d answers: want at least 2", q, g)
			}
			sum += g
		}
		if sum != n.spec.Classes {
			return fmt.Errorf("model: vote questions have %d answers in all, but the head has %d outputs", sum, n.spec.Classes)
		}
	}
	n.voteGroups = slices.Clone(groups)
	n.closeGraphs()
	return nil
}

// Concentrations of the vote head, as Zoobot's: α = 1 + (MaxConcentration−1)·σ(z)
// for each logit z, so that every α lies in (1, MaxConcentration).
const MaxConcentration = 100

// Concentration returns the Dirichlet concentration of a vote logit.
func Concentration(z float32) float64 {
	return 1 + (MaxConcentration-1)/(1+math.Exp(-float64(z)))
}

// dirichletMultinomial is the mean over the batch of the negative
// Dirichlet-multinomial log-likelihood of vote counts, summed over the
// questions of a decision tree, with inputs (logits, counts) of shape [B,K]:
// K is every answer of every question, groups[q] answers per question in
// order, α = Concentration(logit). Without the multinomial coefficient (no
// dependence on α):
//
//	L = −(1/B)·Σₙ Σ_q [lnΓ(A) − lnΓ(N+A) + Σᵢ (lnΓ(kᵢ+αᵢ) − lnΓ(αᵢ))]
//
// with A and N the sums of α and of the counts k over question q. A
// question with no votes adds exactly 0, so unasked questions are masked
// by their counts.
type dirichletMultinomial struct {
	batch, answers int
	groups         []int
	dalpha         []float64 // ∂L/∂α of the last run, per batch and answer, times B
}

func (b *builder) dirichletMultinomial(name string, logits, counts *gorgonia.Node, groups []int) *gorgonia.Node {
	if !logits.Shape().Eq(counts.Shape()) || logits.Dims() != 2 {
		b.failf("%s: logits %v and counts %v", name, logits.Shape(), counts.Shape())
	}
	s := logits.Shape()
	total := 0
	for _, g := range groups {
		total += g
	}
	if total != s[1] {
		b.failf("%s: %d answers in %d questions, but %d logits per sample", name, total, len(groups), s[1])
	}
	k := &dirichletMultinomial{batch: s[0], answers: s[1], groups: groups, dalpha: make([]float64, s[0]*s[1])}
	return b.apply(name, nil, k, logits, counts)
}

func (k *dirichletMultinomial) forward(loss []float32, in [][]float32) {
	z, c := in[0], in[1]
	var total float64
	for n := range k.batch {
		off := n * k.answers
		for _, g := range k.groups {
			total += k.question(z[off:off+g], c[off:off+g], k.dalpha[off:off+g])
			off += g
		}
	}
	loss[0] = float32(total / float64(k.batch))
}

// question returns one question's negative log-likelihood and writes its
// gradient with respect to the concentrations into dalpha.
func (k *dirichletMultinomial) question(z, counts []float32, dalpha []float64) float64 {
	alpha, votesIn := make([]float64, len(z)), make([]float64, len(z))
	for i, v := range z {
		alpha[i], votesIn[i] = Concentration(v), float64(counts[i])
	}
	return votes.DirichletMultinomial(votesIn, alpha, dalpha)
}

func (k *dirichletMultinomial) wrt() []bool { return []bool{true, false} }

func (k *dirichletMultinomial) grads(b *builder, in gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	return gorgonia.Nodes{b.apply("votes.dlogits", in[0].Shape(), &dirichletMultinomialBack{k}, dy, in[0]), nil}
}

// dirichletMultinomialBack computes dz = dy·(∂L/∂α)·dα/dz/B from (dy, logits),
// with dα/dz = (MaxConcentration−1)·σ(z)·(1−σ(z)).
type dirichletMultinomialBack struct{ *dirichletMultinomial }

func (k *dirichletMultinomialBack) forward(dz []float32, in [][]float32) {
	g, z := float64(in[0][0])/float64(k.batch), in[1]
	for i, v := range z {
		s := 1 / (1 + math.Exp(-float64(v)))
		dz[i] = float32(g * k.dalpha[i] * (MaxConcentration - 1) * s * (1 - s))
	}
}
