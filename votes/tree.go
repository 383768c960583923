// Package votes holds Galaxy Zoo decision trees and the statistics of
// volunteer votes over them: the vote-count and vote-fraction columns of a
// tree, the Dirichlet-multinomial likelihood of the counts that Zoobot
// (Walmsley et al. 2022) trains on, and the expected fractions and their
// intervals that a catalog reports.
//
// A tree is data, an HCL file: its questions in order, the first being asked
// of every galaxy, each with its answers and the question an answer leads to.
// DECaLS returns the Galaxy Zoo DECaLS tree, which ships with the package;
// Parse reads another (GZ2, GZ DESI, a survey's own) and reports every
// mistake with its file, line and column.
package votes

import (
	_ "embed"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Tree is a decision tree: questions, each with its answers.
type Tree struct {
	Name      string
	Questions []Question // the first is asked of every galaxy
	// Source is the tree file it was parsed from, for a checkpoint to carry.
	Source []byte
}

// Question is one question of a tree.
type Question struct {
	Name    string
	Answers []Answer
}

// Answer is one answer of a question; Next is the question it leads to, or
// "" where the classification ends.
type Answer struct {
	Name string
	Next string
}

//go:embed trees/gz_decals.hcl
var decalsSource []byte

// DECaLS returns the Galaxy Zoo DECaLS decision tree: ten questions and 34
// answers, from smooth-or-featured to merging.
func DECaLS() *Tree {
	t, diags := Parse(decalsSource, "gz_decals.hcl")
	if diags.HasErrors() {
		panic("votes: the shipped GZ DECaLS tree is invalid: " + diags.Error())
	}
	return t
}

// The HCL layout of a tree file.
type fileBody struct {
	Tree []treeBlock `hcl:"tree,block"`
}

type treeBlock struct {
	Name      string          `hcl:"name,label"`
	Questions []questionBlock `hcl:"question,block"`
}

type questionBlock struct {
	Name    string        `hcl:"name,label"`
	Answers []answerBlock `hcl:"answer,block"`
	Range   hcl.Range     `hcl:",def_range"`
}

type answerBlock struct {
	Name  string    `hcl:"name,label"`
	Next  *string   `hcl:"next,optional"`
	Range hcl.Range `hcl:",def_range"`
}

// ParseFile reads and parses the tree file at path. Its error is the
// file's read error, or Parse's hcl.Diagnostics.
func ParseFile(path string) (*Tree, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, diags := Parse(src, path)
	if diags.HasErrors() {
		return nil, diags
	}
	return t, nil
}

// Parse reads a tree file: one `tree "<name>"` block of `question` blocks,
// each with `answer` blocks that may name the `next` question. It reports
// every problem with its position: no or several trees, a question or
// answer named twice or with a name that is not lower-case letters, digits
// and dashes, a question with fewer than two answers, a next question that
// does not exist, a loop, and a question no answer leads to.
func Parse(src []byte, filename string) (*Tree, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	var body fileBody
	if diags = gohcl.DecodeBody(f.Body, nil, &body); diags.HasErrors() {
		return nil, diags
	}
	if len(body.Tree) != 1 {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "One tree per file",
			Detail:  fmt.Sprintf("%s has %d tree blocks; a tree file holds exactly one.", filename, len(body.Tree)),
			Subject: f.Body.MissingItemRange().Ptr()}}
	}
	tb := body.Tree[0]
	t := &Tree{Name: tb.Name, Source: src}
	for _, qb := range tb.Questions {
		q := Question{Name: qb.Name}
		for _, ab := range qb.Answers {
			a := Answer{Name: ab.Name}
			if ab.Next != nil {
				a.Next = *ab.Next
			}
			q.Answers = append(q.Answers, a)
		}
		t.Questions = append(t.Questions, q)
	}
	return t, check(tb)
}

// check reports the problems of a decoded tree with their positions.
func check(tb treeBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	bad := func(r hcl.Range, summary, detail string) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: r.Ptr()})
	}
	if len(tb.Questions) == 0 {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No questions", Detail: fmt.Sprintf("tree %q has no question blocks.", tb.Name)}}
	}
	index := map[string]int{}
	for i, q := range tb.Questions {
		if err := checkName(q.Name); err != nil {
			bad(q.Range, "Invalid question name", fmt.Sprintf("question %q: %v.", q.Name, err))
		}
		if _, dup := index[q.Name]; dup {
			bad(q.Range, "Question named twice", fmt.Sprintf("question %q is defined twice.", q.Name))
		}
		index[q.Name] = i
		if len(q.Answers) < 2 {
			bad(q.Range, "Too few answers", fmt.Sprintf("question %q has %d answer(s); a question needs at least two.", q.Name, len(q.Answers)))
		}
		seen := map[string]bool{}
		for _, a := range q.Answers {
			if err := checkName(a.Name); err != nil {
				bad(a.Range, "Invalid answer name", fmt.Sprintf("answer %q of %q: %v.", a.Name, q.Name, err))
			}
			if seen[a.Name] {
				bad(a.Range, "Answer named twice", fmt.Sprintf("question %q has answer %q twice.", q.Name, a.Name))
			}
			seen[a.Name] = true
		}
	}
	for _, q := range tb.Questions {
		for _, a := range q.Answers {
			if a.Next != nil {
				if _, ok := index[*a.Next]; !ok {
					bad(a.Range, "Unknown next question", fmt.Sprintf("answer %q of %q leads to %q, which is not a question of tree %q.", a.Name, q.Name, *a.Next, tb.Name))
				}
			}
		}
	}
	cols := map[string]string{}
	for _, q := range tb.Questions {
		for _, a := range q.Answers {
			col := "f_" + snake(q.Name) + "_" + snake(a.Name)
			if other, dup := cols[col]; dup {
				bad(a.Range, "Column names collide", fmt.Sprintf("answer %q of %q and %s both make the column %q.", a.Name, q.Name, other, col))
			}
			cols[col] = fmt.Sprintf("answer %q of %q", a.Name, q.Name)
		}
	}
	if diags.HasErrors() {
		return diags
	}
	return append(diags, checkGraph(tb, index)...)
}

// checkGraph reports loops and questions that no path from the first one
// reaches.
func checkGraph(tb treeBlock, index map[string]int) hcl.Diagnostics {
	const (
		unseen = iota
		open
		done
	)
	state := make([]int, len(tb.Questions))
	var diags hcl.Diagnostics
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = open
		for _, a := range tb.Questions[i].Answers {
			if a.Next == nil {
				continue
			}
			j := index[*a.Next]
			switch state[j] {
			case open:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Loop in the tree",
					Detail:  fmt.Sprintf("answer %q of %q leads back to %q, which leads to it.", a.Name, tb.Questions[i].Name, *a.Next),
					Subject: a.Range.Ptr()})
				return false
			case unseen:
				if !visit(j) {
					return false
				}
			}
		}
		state[i] = done
		return true
	}
	if !visit(0) {
		return diags
	}
	for i, q := range tb.Questions {
		if state[i] == unseen {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unreachable question",
				Detail:  fmt.Sprintf("no answer leads to question %q from the first question %q.", q.Name, tb.Questions[0].Name),
				Subject: q.Range.Ptr()})
		}
	}
	return diags
}

// checkName accepts lower-case ASCII letters, digits and single dashes
// inside, so that column names made from names are unique and portable.
func checkName(s string) error {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return fmt.Errorf("want lower-case letters, digits and single dashes inside")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("character %q: want lower-case letters, digits and dashes", r)
		}
	}
	return nil
}

// Answers returns the number of answers over all questions: the width of
// the network's output for the tree.
func (t *Tree) Answers() int {
	n := 0
	for _, q := range t.Questions {
		n += len(q.Answers)
	}
	return n
}

// Offsets returns, for each question, the index of its first answer in the
// tree's answers in order; the answers of question q are
// Offsets()[q] to Offsets()[q]+len(Questions[q].Answers)-1.
func (t *Tree) Offsets() []int {
	off := make([]int, len(t.Questions))
	n := 0
	for i, q := range t.Questions {
		off[i] = n
		n += len(q.Answers)
	}
	return off
}

// CountColumns returns the vote-count column names, "<question>_<answer>"
// as the GZ DECaLS release spells them, in answer order.
func (t *Tree) CountColumns() []string {
	return t.columns(func(q, a string) string { return q + "_" + a })
}

// FractionColumns returns the catalog's expected vote-fraction columns,
// "f_<question>_<answer>" in snake case (f_smooth_or_featured_smooth), in
// answer order.
func (t *Tree) FractionColumns() []string {
	return t.columns(func(q, a string) string { return "f_" + snake(q) + "_" + snake(a) })
}

func (t *Tree) columns(name func(q, a string) string) []string {
	var cols []string
	for _, q := range t.Questions {
		for _, a := range q.Answers {
			cols = append(cols, name(q.Name, a.Name))
		}
	}
	return cols
}

func snake(s string) string { return strings.ReplaceAll(s, "-", "_") }

// Question returns the index of the question called name, or -1.
func (t *Tree) Question(name string) int {
	return slices.IndexFunc(t.Questions, func(q Question) bool { return q.Name == name })
}

// Simulate returns the vote counts (in answer order) of volunteers who each
// walk the tree from its first question, taking at each question the
// answer choose returns (an index into its answers) and going on to the
// question it leads to. So later questions get only the votes of the
// volunteers whose answers led there, as in Galaxy Zoo.
func (t *Tree) Simulate(volunteers int, choose func(question int) int) []float64 {
	counts := make([]float64, t.Answers())
	off := t.Offsets()
	next := make([][]int, len(t.Questions)) // question index each answer leads to, -1 at the end
	for i, q := range t.Questions {
		for _, a := range q.Answers {
			next[i] = append(next[i], t.Question(a.Next))
		}
	}
	for range volunteers {
		for q := 0; q >= 0; {
			a := choose(q)
			counts[off[q]+a]++
			q = next[q][a]
		}
	}
	return counts
}
