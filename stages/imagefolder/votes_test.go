package imagefolder

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
	"github.com/astroformer/astroformer/votes"
)

// miniTree is a decision tree of two questions, for vote catalogs a test
// can write by hand.
const miniTree = `tree "mini" {
  question "smooth" {
    answer "yes" {}
    answer "no" { next = "bar" }
  }
  question "bar" {
    answer "strong" {}
    answer "none" {}
  }
}
`

// TestVotesFromCatalog joins a vote-count catalog, with columns of its own
// and in its own row order, to a folder of images on object_id.
func TestVotesFromCatalog(t *testing.T) {
	root := makeFolder(t)
	dir := t.TempDir()
	tree := filepath.Join(dir, "mini.hcl")
	sourcetest.WriteFile(t, tree, []byte(miniTree))
	catalog := filepath.Join(dir, "gz.csv")
	sourcetest.WriteFile(t, catalog, []byte("iauname,ra,smooth_no,smooth_yes,bar_strong,bar_none,smooth_total-votes\n"+
		"spiral/c.jpeg,1,30,10,20,8,40\n"+
		"elliptical/g.png,2,2,38,,,40\n"+ // nobody reached the bar question
		"spiral/b.png,3,5,-1,4,1,4\n"+
		"not/in/the/folder.png,4,1,1,1,0,2\n"))
	s := sourcetest.MustDecode(t, Decode, `path = "`+root+`"
output = "cutouts"
size = 8
votes = "`+catalog+`"
votes_key = "iauname"
vote_tree = "`+tree+`"`)
	var logs bytes.Buffer
	env := sourcetest.Env(t, t.TempDir(), s, hclog.New(&hclog.LoggerOptions{Output: &logs}))
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	rows, md := sourcetest.Cutouts(t, env.Path("cutouts"))
	want := map[string][]float32{
		"elliptical/g.png":    {38, 2, 0, 0},
		"spiral/c.jpeg":       {10, 30, 20, 8},
		"spiral/deeper/a.PNG": nil, // no catalog row
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		if w, ok := want[r.ObjectID]; !ok || !slices.Equal(r.VoteCounts, w) || (w == nil) != (r.VoteCounts == nil) {
			t.Errorf("%s: vote counts %v, want %v", r.ObjectID, r.VoteCounts, w)
		}
	}
	if md[schemas.MetaVoteTree] != "mini" || md[schemas.MetaVoteCatalog] != "gz.csv" ||
		md[schemas.MetaVoteColumns] != `["smooth_yes","smooth_no","bar_strong","bar_none"]` {
		t.Errorf("metadata %v", md)
	}
	var reason string
	for _, r := range sourcetest.Rejects(t, env.Path("cutouts_rejects")) {
		if r.ObjectID == "spiral/b.png" {
			reason = r.Reason
		}
	}
	if !strings.Contains(reason, "vote counts: "+catalog+": line 4, column smooth_yes: -1 is not a whole number of votes") {
		t.Errorf("reject of spiral/b.png: %q", reason)
	}
	for _, line := range []string{"with_votes=2 without_catalog_row=1 rejected_bad_counts=1",
		`vote-count catalog rows match no cutout`, `examples=not/in/the/folder.png`} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("log lacks %q:\n%s", line, logs.String())
		}
	}
}

// TestVotesFromManifest reads the counts from the manifest that lists the
// images, with the shipped GZ DECaLS tree.
func TestVotesFromManifest(t *testing.T) {
	root := makeFolder(t)
	cols := votes.DECaLS().CountColumns()
	counts := make([]string, len(cols))
	want := make([]float32, len(cols))
	for i := range counts {
		counts[i], want[i] = "0", 0
	}
	counts[0], want[0] = "12", 12
	manifest := filepath.Join(root, "manifest.csv")
	sourcetest.WriteFile(t, manifest, []byte("path,object_id,"+strings.Join(cols, ",")+"\n"+
		"spiral/b.png,J1,"+strings.Join(counts, ",")+"\n"))
	s := sourcetest.MustDecode(t, Decode, `path = "`+manifest+`"
output = "cutouts"
size = 8
votes = "`+manifest+`"`)
	env := sourcetest.Env(t, t.TempDir(), s, nil)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	rows, md := sourcetest.Cutouts(t, env.Path("cutouts"))
	if len(rows) != 1 || rows[0].ObjectID != "J1" || !slices.Equal(rows[0].VoteCounts, want) || md[schemas.MetaVoteTree] != "gz_decals" {
		t.Fatalf("rows %+v, metadata %v", rows, md)
	}
}

func TestVotesDecodeErrors(t *testing.T) {
	dir := t.TempDir()
	badTree := filepath.Join(dir, "bad.hcl")
	sourcetest.WriteFile(t, badTree, []byte("tree \"t\" {\n  question \"q\" {\n    answer \"a\" { next = \"nowhere\" }\n    answer \"b\" {}\n  }\n}\n"))
	catalog := filepath.Join(dir, "v.csv")
	sourcetest.WriteFile(t, catalog, []byte("object_id\n"))
	for _, tc := range []struct{ attrs, want string }{
		{`vote_tree = "` + badTree + `"`, "job.hcl:4,13-" + strconv.Itoa(13+len(badTree)+2) + ": Vote attribute without votes"},
		{`votes_key = "iauname"`, "job.hcl:4,13-22: Vote attribute without votes"},
		{`votes = "v.txt"`, "job.hcl:4,9-16: Invalid vote-count catalog"},
		{`votes = "` + dir + `/missing.csv"`, "Unreadable vote-count catalog"},
		{`votes = "` + catalog + `"
vote_tree = "` + badTree + `"`, "bad.hcl:3"},
	} {
		_, diags := sourcetest.Decode(t, Decode, "path = \"x\"\noutput = \"cutouts\"\nsize = 8\n"+tc.attrs)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.attrs, diags, tc.want)
		}
	}
}

func TestVotesCatalogErrorFailsRun(t *testing.T) {
	root := makeFolder(t)
	catalog := filepath.Join(t.TempDir(), "v.csv")
	if err := os.WriteFile(catalog, []byte("object_id,smooth-or-featured_smooth\nx,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := sourcetest.MustDecode(t, Decode, `path = "`+root+`"
output = "cutouts"
size = 8
votes = "`+catalog+`"`)
	env := sourcetest.Env(t, t.TempDir(), s, nil)
	err := s.Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), `v.csv: header, column smooth-or-featured_featured-or-disk: no vote count column`) {
		t.Fatalf("run: %v", err)
	}
	if _, statErr := os.Stat(env.Path("cutouts")); statErr == nil {
		t.Error("a cutouts table was committed")
	}
}
