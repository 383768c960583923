package predict

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/votes"
)

// FractionInterval is the probability of the central interval written for
// each vote fraction (the _lo and _hi columns).
const FractionInterval = 0.9

// voteHead returns the decision tree of a checkpoint trained on votes (its
// provenance task = "votes"), or nil for a classifier.
func voteHead(m *Model) (*votes.Tree, error) {
	if m.Meta.Provenance["task"] != "votes" {
		return nil, nil
	}
	tree := votes.DECaLS()
	if src, ok := m.Meta.Provenance["vote_tree_hcl"]; ok {
		var diags hcl.Diagnostics
		if tree, diags = votes.Parse([]byte(src), m.Path+" (vote_tree_hcl)"); diags.HasErrors() {
			return nil, fmt.Errorf("predict: %s: %s", m.Path, diags.Error())
		}
	}
	if name := m.Meta.Provenance["vote_tree"]; name != tree.Name {
		return nil, fmt.Errorf("predict: %s predicts votes over tree %q; this build knows %q", m.Path, name, tree.Name)
	}
	if !slices.Equal(m.Meta.ClassNames, tree.CountColumns()) {
		return nil, fmt.Errorf("predict: %s: its outputs are not the %d answers of tree %q in order", m.Path, tree.Answers(), tree.Name)
	}
	return tree, nil
}

// concentrations writes the Dirichlet concentration of each vote logit.
func concentrations(dst []float64, logits []float32) {
	for i, z := range logits {
		dst[i] = model.Concentration(z)
	}
}

// rowAppender appends the rows of an inferred batch to a record builder.
type rowAppender interface {
	Len() int
	appendBatch(bt *batch)
}

type classRows struct {
	p *Predictor
	*schemas.CatalogWriter
}

func (c classRows) appendBatch(bt *batch) { c.p.appendRows(c.CatalogWriter, bt) }

// voteRows writes the expected vote fractions of a vote head, from the
// concentrations averaged over the views.
type voteRows struct {
	tree *votes.Tree
	*schemas.VoteCatalogWriter
}

func (v voteRows) appendBatch(bt *batch) {
	answers := v.tree.Answers()
	row := schemas.VoteRow{Fraction: make([]float32, answers), Lo: make([]float32, answers), Hi: make([]float32, answers)}
	off := v.tree.Offsets()
	for i, r := range bt.rows {
		row.ObjectFields = r.object()
		alpha := bt.mean[i*answers : (i+1)*answers]
		for q, o := range off {
			end := o + len(v.tree.Questions[q].Answers)
			for j, f := range votes.Fractions(alpha[o:end], FractionInterval) {
				row.Fraction[o+j], row.Lo[o+j], row.Hi[o+j] = float32(f.Mean), float32(f.Lo), float32(f.Hi)
			}
		}
		v.Append(&row)
	}
}

// rowWriter binds the writer of the predictor's catalog to b.
func (p *Predictor) rowWriter(b *array.RecordBuilder) (rowAppender, error) {
	if p.tree != nil {
		w, err := schemas.NewVoteCatalogWriter(b, p.tree.FractionColumns())
		return voteRows{p.tree, w}, err
	}
	w, err := schemas.NewCatalogWriter(b, p.names)
	return classRows{p, w}, err
}
