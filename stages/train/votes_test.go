package train

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
	"github.com/astroformer/astroformer/stages/synthetic"
	"github.com/astroformer/astroformer/votes"
)

// voteTable writes a cutouts table of n synthetic 32x32 galaxies with
// simulated GZ DECaLS votes, two in three train and the rest val.
func voteTable(t *testing.T, dir string, n int) {
	t.Helper()
	tree := votes.DECaLS()
	sink, err := ingest.NewSink(ingest.SinkOptions{Cutouts: dir, Rejects: dir + "_rejects",
		Manifest: artifact.Manifest{Name: filepath.Base(dir), Fingerprint: "votes-fixture"},
		VoteTree: tree.Name, VoteColumns: tree.CountColumns()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := synthetic.NewRenderer(synthetic.Options{Size: 32, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var obj synthetic.Object
	for i := range int64(n) {
		r.Render(i, &obj)
		split := schemas.SplitTrain
		if i%3 == 2 {
			split = schemas.SplitVal
		}
		c := ingest.Cutout{ObjectID: synthetic.ObjectID(i), Split: split, Height: 32, Width: 32, Channels: 3,
			Pixels: append([]byte(nil), obj.Pixels...), Bands: "grz", Source: "test"}
		for _, v := range synthetic.Votes(tree, obj.Truth, 3, i, synthetic.DefaultVolunteers()) {
			c.VoteCounts = append(c.VoteCounts, float32(v))
		}
		if err := sink.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestTrainVotes trains a vote head on simulated volunteers: the run
// records the vote loss and the fraction error of the val split, selects
// on the loss, and its checkpoints say what they are.
func TestTrainVotes(t *testing.T) {
	dir := t.TempDir()
	voteTable(t, filepath.Join(dir, "cutouts"), 72)
	s, env := newRun(t, dir, "task = \"votes\"\nepochs = 3\nselect = \"best\"")
	run(t, s, env)
	got := metrics(t, filepath.Join(dir, "model_metrics"))
	for e := '1'; e <= '3'; e++ {
		loss, mae := got["val/loss/"+string(e)], got["val/fraction_mae/"+string(e)]
		if !(loss > 0) || math.IsInf(loss, 0) || !(mae > 0 && mae < 1) {
			t.Errorf("epoch %c: val loss %g, fraction MAE %g", e, loss, mae)
		}
		if _, ok := got["val/top1/"+string(e)]; ok {
			t.Errorf("epoch %c: a top-1 for a vote head", e)
		}
	}
	final, meta := tensors(t, filepath.Join(dir, "model", ModelFile))
	if meta.Classes != 34 || len(final["head.fc.bias"]) != 34 || meta.Provenance["task"] != TaskVotes || meta.Provenance["vote_tree"] != "gz_decals" {
		t.Errorf("checkpoint: %d outputs, provenance %v", meta.Classes, meta.Provenance)
	}
	if meta.ClassNames[0] != "smooth-or-featured_smooth" {
		t.Errorf("output names %q…", meta.ClassNames[:2])
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "model"))
	if err != nil || m.Metadata["best_loss"] == "" || m.Metadata["best_top1"] != "" {
		t.Errorf("model manifest metadata %v (%v)", m.Metadata, err)
	}
	if sum := strings.Join(env.Summary(), "\n"); !strings.Contains(sum, "val vote loss") {
		t.Errorf("summary:\n%s", sum)
	}
}

func TestDecodeTask(t *testing.T) {
	base := "input = \"c\"\noutput = \"m\"\n"
	decltest.CheckDiagnostics(t, Decode, "train", []decltest.Case{
		{Src: base + `task = "regression"`, Summary: "Invalid task", Line: 3},
		{Src: base + "task = \"votes\"\npolicy {\n  mixup_alpha = 0.8\n}", Summary: "Mixup with votes", Line: 3},
		{Src: base + "task = \"votes\"\nbalance = \"sampler\"", Summary: "Class balance with votes", Line: 3},
	})
}

// TestDecodeTree reads the tree file a vote task names, reporting its
// mistakes at their place in that file.
func TestDecodeTree(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "gz2.hcl"), filepath.Join(dir, "bad.hcl")
	writeFile(t, good, "tree \"gz2\" {\n  question \"smooth\" {\n    answer \"yes\" {}\n    answer \"no\" {}\n  }\n}\n")
	writeFile(t, bad, "tree \"gz2\" {\n  question \"smooth\" {\n    answer \"yes\" { next = \"nowhere\" }\n    answer \"no\" {}\n  }\n}\n")
	base := "input = \"c\"\noutput = \"m\"\ntask = \"votes\"\n"
	s, diags := decode(t, base+"tree = \""+good+"\"")
	if diags.HasErrors() || s.Params().(Settings).TreeSHA256 == "" {
		t.Fatalf("a valid tree: %s", diags)
	}
	_, diags = decode(t, base+"tree = \""+bad+"\"")
	if !diags.HasErrors() || diags[0].Summary != "Unknown next question" || diags[0].Subject.Filename != bad || diags[0].Subject.Start.Line != 3 {
		t.Errorf("a tree with a dangling answer: %v", diags)
	}
	decltest.CheckDiagnostics(t, Decode, "train", []decltest.Case{
		{Src: "input = \"c\"\noutput = \"m\"\ntree = \"" + good + "\"", Summary: "Tree without votes", Line: 3},
		{Src: base + `tree = "no/such.hcl"`, Summary: "Unreadable tree", Line: 4},
	})
	p := Settings{Tree: good}
	if _, err := voteTree(&p, "gz2", []string{"smooth_yes", "smooth_no"}); err == nil || !strings.Contains(err.Error(), "changed since") {
		t.Errorf("a tree without its hash: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
