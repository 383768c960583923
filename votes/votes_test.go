package votes

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestDECaLS(t *testing.T) {
	tr := DECaLS()
	if len(tr.Questions) != 10 || tr.Answers() != 34 || tr.Questions[0].Name != "smooth-or-featured" {
		t.Fatalf("tree %q: %d questions, %d answers, first %q", tr.Name, len(tr.Questions), tr.Answers(), tr.Questions[0].Name)
	}
	counts, fractions := tr.CountColumns(), tr.FractionColumns()
	if counts[0] != "smooth-or-featured_smooth" || fractions[0] != "f_smooth_or_featured_smooth" || len(fractions) != 34 {
		t.Errorf("columns %q, %q", counts[:2], fractions[:2])
	}
	if i := slices.Index(fractions, "f_spiral_arm_count_more_than_4"); i < 0 {
		t.Errorf("no f_spiral_arm_count_more_than_4 in %q", fractions)
	}
	q := tr.Questions[tr.Question("has-spiral-arms")]
	if q.Answers[0].Next != "spiral-winding" || q.Answers[1].Next != "bar" {
		t.Errorf("has-spiral-arms leads to %+v", q.Answers)
	}
	off := tr.Offsets()
	if off[0] != 0 || off[1] != 3 || off[len(off)-1] != 30 {
		t.Errorf("offsets %v", off)
	}
}

func TestParseDiagnostics(t *testing.T) {
	head := "tree \"t\" {\n"
	for _, tc := range []struct {
		src, summary string
		line         int
	}{
		{head + "question \"a\" {\nanswer \"x\" { next = \"b\" }\nanswer \"y\" {}\n}\n}", "Unknown next question", 3},
		{head + "question \"a\" {\nanswer \"x\" {}\n}\n}", "Too few answers", 2},
		{head + "question \"A\" {\nanswer \"x\" {}\nanswer \"y\" {}\n}\n}", "Invalid question name", 2},
		{head + "question \"a\" {\nanswer \"x\" {}\nanswer \"x\" {}\n}\n}", "Answer named twice", 4},
		{head + "question \"a\" {\nanswer \"x\" { next = \"b\" }\nanswer \"y\" {}\n}\nquestion \"b\" {\nanswer \"x\" { next = \"a\" }\nanswer \"y\" {}\n}\n}", "Loop in the tree", 7},
		{head + "question \"a\" {\nanswer \"x\" {}\nanswer \"y\" {}\n}\nquestion \"b\" {\nanswer \"x\" {}\nanswer \"y\" {}\n}\n}", "Unreachable question", 6},
		{head + "question \"a-b\" {\nanswer \"c\" { next = \"a\" }\nanswer \"d\" {}\n}\nquestion \"a\" {\nanswer \"b-c\" {}\nanswer \"e\" {}\n}\n}", "Column names collide", 7},
		{"tree \"t\" {}\ntree \"u\" {}", "One tree per file", 0},
	} {
		_, diags := Parse([]byte(tc.src), "t.hcl")
		if !diags.HasErrors() {
			t.Errorf("%q: no error", tc.src)
			continue
		}
		d := diags[0]
		if d.Summary != tc.summary || tc.line > 0 && (d.Subject == nil || d.Subject.Start.Line != tc.line) {
			t.Errorf("%q: %q at %v, want %q on line %d", tc.src, d.Summary, d.Subject, tc.summary, tc.line)
		}
	}
	if _, diags := Parse([]byte("tree \"t\" {\nquestion \"a\" {\nanswer \"x\" {}\nanswer \"y\" {}\n}\n}"), "ok.hcl"); diags.HasErrors() {
		t.Errorf("a valid tree: %s", diags)
	}
}

// TestDirichletMultinomial checks the loss against values worked out by
// hand from p(k | α) = Γ(A)/Γ(N+A) · Πᵢ Γ(kᵢ+αᵢ)/Γ(αᵢ).
func TestDirichletMultinomial(t *testing.T) {
	for _, tc := range []struct {
		k, alpha []float64
		want     float64
	}{
		{[]float64{1, 0}, []float64{1, 1}, math.Log(2)},  // a uniform prior: one vote is a coin toss
		{[]float64{2, 1}, []float64{1, 1}, math.Log(12)}, // Γ(3)Γ(2)/Γ(5) = 1/12
		{[]float64{3, 0, 1}, []float64{2, 1, 0.5}, -math.Log(24 * 0.5 / (3.5 * 4.5 * 5.5 * 6.5))},
		{[]float64{0, 0, 0}, []float64{5, 1, 2}, 0}, // not asked: no loss
	} {
		if got := DirichletMultinomial(tc.k, tc.alpha, nil); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("k %v, alpha %v: loss %.15g, want %.15g", tc.k, tc.alpha, got, tc.want)
		}
	}
}

func TestDirichletMultinomialGradient(t *testing.T) {
	k, alpha := []float64{12, 3, 0, 1}, []float64{4.5, 1.2, 0.7, 2.0}
	grad := make([]float64, 4)
	DirichletMultinomial(k, alpha, grad)
	for i := range alpha {
		const h = 1e-6
		up, down := slices.Clone(alpha), slices.Clone(alpha)
		up[i] += h
		down[i] -= h
		fd := (DirichletMultinomial(k, up, nil) - DirichletMultinomial(k, down, nil)) / (2 * h)
		if math.Abs(fd-grad[i]) > 1e-6 {
			t.Errorf("d/dalpha[%d] = %g, finite difference %g", i, grad[i], fd)
		}
	}
	zero := []float64{7, 7, 7, 7}
	DirichletMultinomial([]float64{0, 0, 0, 0}, alpha, zero)
	if slices.ContainsFunc(zero, func(v float64) bool { return v != 0 }) {
		t.Errorf("gradient of an unasked question %v", zero)
	}
}

// TestTreeLossMasks sums the questions asked and ignores the others: a
// galaxy voted smooth has no votes on the disk questions.
func TestTreeLossMasks(t *testing.T) {
	tr := DECaLS()
	counts, alpha := make([]float64, tr.Answers()), make([]float64, tr.Answers())
	for i := range alpha {
		alpha[i] = 1 + float64(i%5)
	}
	off := tr.Offsets()
	counts[off[0]] = 30 // smooth
	counts[off[0]+1] = 8
	hr := off[tr.Question("how-rounded")]
	counts[hr], counts[hr+1] = 20, 10
	grad := make([]float64, tr.Answers())
	got, err := tr.TreeLoss(counts, alpha, grad)
	if err != nil {
		t.Fatal(err)
	}
	want := DirichletMultinomial(counts[0:3], alpha[0:3], nil) + DirichletMultinomial(counts[hr:hr+3], alpha[hr:hr+3], nil)
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("tree loss %g, want the two asked questions' %g", got, want)
	}
	bar := off[tr.Question("bar")]
	if grad[bar] != 0 || grad[0] == 0 {
		t.Errorf("gradient: bar (not asked) %g, smooth %g", grad[bar], grad[0])
	}
	if _, err := tr.TreeLoss(counts[:5], alpha, nil); err == nil || !strings.Contains(err.Error(), "34 answers") {
		t.Errorf("short counts: %v", err)
	}
}

func TestFractions(t *testing.T) {
	f := Fractions([]float64{1, 1}, 0.9)
	if math.Abs(f[0].Mean-0.5) > 1e-12 || math.Abs(f[0].Lo-0.05) > 1e-9 || math.Abs(f[0].Hi-0.95) > 1e-9 {
		t.Errorf("uniform: %+v, want mean 0.5 in [0.05, 0.95]", f[0])
	}
	f = Fractions([]float64{40, 8, 2}, 0.9)
	var sum float64
	for _, x := range f {
		sum += x.Mean
		if !(x.Lo < x.Mean && x.Mean < x.Hi) {
			t.Errorf("interval %+v does not hold its mean", x)
		}
	}
	if math.Abs(sum-1) > 1e-12 || math.Abs(f[0].Mean-0.8) > 1e-12 {
		t.Errorf("means %+v sum to %g", f, sum)
	}
	if wide, narrow := Fractions([]float64{4, 1}, 0.9)[0], Fractions([]float64{40, 10}, 0.9)[0]; !(wide.Hi-wide.Lo > narrow.Hi-narrow.Lo) {
		t.Errorf("more concentration should narrow the interval: %+v vs %+v", wide, narrow)
	}
}

// TestSimulate walks volunteers down the tree: every one answers the first
// question, and a question gets the votes of the answers leading to it.
func TestSimulate(t *testing.T) {
	tr := DECaLS()
	i := 0
	// Volunteers alternate between the first and the second answer everywhere.
	counts := tr.Simulate(40, func(q int) int { i++; return i % 2 })
	off := tr.Offsets()
	first := counts[0] + counts[1] + counts[2]
	if first != 40 {
		t.Errorf("%g votes on the first question, want 40", first)
	}
	for qi, q := range tr.Questions {
		var asked float64
		for a := range q.Answers {
			asked += counts[off[qi]+a]
		}
		var led float64
		for pi, p := range tr.Questions {
			for a, ans := range p.Answers {
				if ans.Next == q.Name {
					led += counts[off[pi]+a]
				}
			}
		}
		if qi > 0 && asked != led {
			t.Errorf("%s: %g votes, but %g answers lead to it", q.Name, asked, led)
		}
	}
}

func TestFractionError(t *testing.T) {
	// Predicted 0.5, 0.5 (concentrations 2, 2) against 3 votes of 4 and 1.
	if err, n := FractionError([]float64{2, 2}, []float64{3, 1}); math.Abs(err-0.25) > 1e-12 || n != 4 {
		t.Errorf("FractionError = %g over %g votes, want 0.25 over 4", err, n)
	}
	if err, n := FractionError([]float64{1, 1, 1}, []float64{0, 0, 0}); err != 0 || n != 0 {
		t.Errorf("an unasked question: %g, %g", err, n)
	}
}
