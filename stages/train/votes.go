package train

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/train/loader"
	"github.com/astroformer/astroformer/votes"
)

// Tasks: what the network learns (the task attribute).
const (
	TaskClassify = ""      // one class per cutout, from label (the default)
	TaskVotes    = "votes" // volunteer vote counts over a decision tree, from vote_counts
)

// checkTask checks the task and what it rules out: votes are not mixed,
// smoothed or balanced by class.
func checkTask(s *Settings, bad badFunc) {
	switch s.Task {
	case TaskClassify:
	case TaskVotes:
		if s.Policy.MixupAlpha > 0 || s.Policy.CutMixAlpha > 0 {
			bad("task", "Mixup with votes", "task = \"votes\" trains on vote counts, which Mixup and CutMix do not mix; set mixup_alpha = 0 and cutmix_alpha = 0 in the policy block.")
		}
		if s.Balance != BalanceNone {
			bad("task", "Class balance with votes", fmt.Sprintf("balance = %q weighs classes, and votes have none; leave balance at %q.", s.Balance, BalanceNone))
		}
	default:
		bad("task", "Invalid task", fmt.Sprintf("task is %q; want %q (the default: classes) or %q (Galaxy Zoo vote counts).", s.Task, "", TaskVotes))
	}
}

// checkPrecision checks the precision, "fp32" or "bf16", and keeps "fp32",
// the default, out of the params so that it changes no fingerprint.
func checkPrecision(s *Settings, bad badFunc) {
	p, err := model.ParsePrecision(s.Precision)
	if err != nil {
		bad("precision", "Invalid precision", fmt.Sprintf(`precision is %q; want "fp32" (the default) or "bf16" (bfloat16 matrix products, on CPUs with AVX512_BF16).`, s.Precision))
		return
	}
	if p == model.FP32 {
		s.Precision = ""
	}
}

// decodeTree reads the tree file the tree attribute names, reporting its
// problems with their positions in that file, and records its hash.
func decodeTree(s *Settings, at func(string) *hcl.Range) hcl.Diagnostics {
	if s.Tree == "" {
		return nil
	}
	bad := func(summary, detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: at("tree")}}
	}
	if s.Task != TaskVotes {
		return bad("Tree without votes", "tree names the decision tree of vote counts; set task = \"votes\".")
	}
	tree, err := votes.ParseFile(s.Tree)
	var diags hcl.Diagnostics
	if errors.As(err, &diags) {
		return diags
	} else if err != nil {
		return bad("Unreadable tree", err.Error()+".")
	}
	sum := sha256.Sum256(tree.Source)
	s.TreeSHA256 = hex.EncodeToString(sum[:])
	return nil
}

// voteTree returns the decision tree of a table's vote counts: the file the
// tree attribute names, or the shipped GZ DECaLS tree; its name and count
// columns must be the table's.
func voteTree(p *Settings, name string, columns []string) (*votes.Tree, error) {
	tree := votes.DECaLS()
	if p.Tree != "" {
		var err error
		if tree, err = votes.ParseFile(p.Tree); err != nil {
			return nil, fmt.Errorf("train: tree: %w", err)
		}
		if sum := sha256.Sum256(tree.Source); hex.EncodeToString(sum[:]) != p.TreeSHA256 {
			return nil, fmt.Errorf("train: tree %s changed since the job was loaded", p.Tree)
		}
	}
	if name != tree.Name {
		return nil, fmt.Errorf("train: the input's votes are over tree %q (metadata %s); the stage trains on %q", name, schemas.MetaVoteTree, tree.Name)
	}
	want := tree.CountColumns()
	if len(want) != len(columns) {
		return nil, fmt.Errorf("train: the input has %d vote columns, tree %q %d answers", len(columns), tree.Name, len(want))
	}
	for i := range want {
		if want[i] != columns[i] {
			return nil, fmt.Errorf("train: vote column %d is %q, tree %q has %q there", i, columns[i], tree.Name, want[i])
		}
	}
	return tree, nil
}

// groups returns the answers per question of tree.
func groups(tree *votes.Tree) []int {
	g := make([]int, len(tree.Questions))
	for i, q := range tree.Questions {
		g[i] = len(q.Answers)
	}
	return g
}

// scoreVotes adds to r the vote loss of a batch (the tree's
// Dirichlet-multinomial negative log-likelihood per sample) and the
// vote-weighted absolute error of the expected fractions, with logits
// [n, answers] and counts [n, answers].
func scoreVotes(r *evalResult, tree *votes.Tree, logits, counts []float32, n int) error {
	a := tree.Answers()
	alpha, k := make([]float64, a), make([]float64, a)
	off := tree.Offsets()
	for i := range n {
		for j := range a {
			alpha[j], k[j] = model.Concentration(logits[i*a+j]), float64(counts[i*a+j])
		}
		loss, err := tree.TreeLoss(k, alpha, nil)
		if err != nil {
			return err
		}
		r.loss += loss
		for q, o := range off {
			end := o + len(tree.Questions[q].Answers)
			e, asked := votes.FractionError(alpha[o:end], k[o:end])
			r.absErr += asked * e
			r.votes += asked
		}
	}
	return nil
}

// finish returns the loader's Finish for epoch: mixing and class targets,
// or nothing for a vote head, whose targets are the counts the loader puts
// in.
func (t *trainer) finish(epoch int) func(*loader.Batch) error {
	if t.tree != nil {
		return nil
	}
	return func(b *loader.Batch) error { return t.mix(b, epoch) }
}

// better reports whether r beats the best epoch so far: a higher val
// top-1, or for a vote head a lower val vote loss.
func (t *trainer) better(r evalResult, b *best) bool {
	switch {
	case b == nil:
		return true
	case t.tree != nil:
		return r.loss < b.Loss
	}
	return r.top1 > b.Top1
}
