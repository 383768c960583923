package source

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/manifest"
	"github.com/astroformer/astroformer/votes"
)

// Votes are the attributes of a Files source that give its cutouts
// volunteer vote counts from a vote-count catalog, joined on object_id:
//
//	votes     = "gz_decals_volunteers.csv" # a CSV or Parquet catalog with a count column
//	                                       # "<question>_<answer>" for every answer of the tree
//	votes_key = "object_id"                # its column matched with each cutout's object_id
//	vote_tree = "trees/my_survey.hcl"      # the decision tree; default the shipped GZ DECaLS tree
//
// A cutout whose catalog row has a count that is not a whole number of
// votes is rejected with the catalog's file, line and column; a cutout
// without a catalog row has null vote_counts. Catalog rows that match no
// cutout are counted in the log. VoteInputs is a digest of the catalog and
// the tree file, for the fingerprint.
type Votes struct {
	Votes      string `hcl:"votes,optional" json:"votes,omitempty"`
	VotesKey   string `hcl:"votes_key,optional" json:"votes_key,omitempty"`
	VoteTree   string `hcl:"vote_tree,optional" json:"vote_tree,omitempty"`
	VoteInputs string `json:"vote_inputs,omitempty"`
}

// DefaultVotesKey is the catalog column matched with object_id by default.
const DefaultVotesKey = manifest.ColObjectID

// decode checks the vote attributes of a block, reads the tree file (its
// diagnostics are positioned in that file) and sets the defaults and
// VoteInputs.
func (v *Votes) decode(a *Attrs, diags *hcl.Diagnostics) {
	if v.Votes == "" {
		for _, attr := range []string{"votes_key", "vote_tree"} {
			if a.Given(attr) {
				a.Bad(attr, "Vote attribute without votes", attr+" describes the vote-count catalog that votes names; set votes too.")
			}
		}
		return
	}
	if !manifest.IsManifest(v.Votes) {
		a.Bad("votes", "Invalid vote-count catalog", fmt.Sprintf("votes is %q; expected a CSV (.csv) or Parquet (.parquet, .pq) file.", v.Votes))
	} else if st, err := os.Stat(v.Votes); err != nil || st.IsDir() {
		a.Bad("votes", "Unreadable vote-count catalog", fmt.Sprintf("votes names %q, which is not a readable file.", v.Votes))
	}
	if v.VotesKey == "" {
		v.VotesKey = DefaultVotesKey
	}
	if v.VoteTree != "" {
		if _, err := votes.ParseFile(v.VoteTree); err != nil {
			if d, ok := err.(hcl.Diagnostics); ok {
				*diags = append(*diags, d...)
			} else {
				a.Bad("vote_tree", "Unreadable tree", err.Error()+".")
			}
		}
	}
	files := []string{v.Votes}
	if v.VoteTree != "" {
		files = append(files, v.VoteTree)
	}
	v.VoteInputs = Digest(files...)
}

// VoteJoin gives cutouts the vote counts of a vote-count catalog. Its methods
// are safe for concurrent use, and do nothing on a nil *VoteJoin (a source
// without votes).
type VoteJoin struct {
	Tree   *votes.Tree
	counts *manifest.Counts
	joined atomic.Int64 // cutouts given votes
	absent atomic.Int64 // cutouts without a catalog row
	bad    atomic.Int64 // cutouts rejected for their catalog row
}

// OpenVotes reads the vote-count catalog of v, or returns nil when v names none.
func OpenVotes(v *Votes) (*VoteJoin, error) {
	if v.Votes == "" {
		return nil, nil
	}
	tree := votes.DECaLS()
	if v.VoteTree != "" {
		var err error
		if tree, err = votes.ParseFile(v.VoteTree); err != nil {
			return nil, fmt.Errorf("vote_tree: %w", err)
		}
	}
	counts, err := manifest.ReadCounts(v.Votes, v.VotesKey, tree.CountColumns())
	if err != nil {
		return nil, err
	}
	return &VoteJoin{Tree: tree, counts: counts}, nil
}

// Apply sets the vote counts of c from the catalog row of its object_id
// and returns "", or the reason to reject c when that row's counts are not
// votes.
func (j *VoteJoin) Apply(c *ingest.Cutout) (reject string) {
	if j == nil {
		return ""
	}
	counts, why := j.counts.Lookup(c.ObjectID)
	switch {
	case why != "":
		j.bad.Add(1)
		return "vote counts: " + why
	case counts == nil:
		j.absent.Add(1)
	default:
		j.joined.Add(1)
		c.VoteCounts = counts
	}
	return ""
}

// convert returns convert with Apply applied to the cutouts it gives.
func (j *VoteJoin) convert(convert func(int) Result) func(int) Result {
	if j == nil {
		return convert
	}
	return func(i int) Result {
		r := convert(i)
		if r.Err == nil && r.Reject == "" {
			r.Reject = j.Apply(&r.Cutout)
		}
		return r
	}
}

// Report logs how the cutouts converted by this run (resumed chunks are
// not) matched the catalog, and warns of catalog rows that matched none.
func (j *VoteJoin) Report(log hclog.Logger, resumed int) {
	if j == nil {
		return
	}
	log.Info("vote counts joined", "catalog", j.counts.File, "with_votes", j.joined.Load(),
		"without_catalog_row", j.absent.Load(), "rejected_bad_counts", j.bad.Load())
	n, examples := j.counts.Unused(5)
	switch {
	case n == 0:
	case resumed > 0:
		log.Info("vote-count catalog rows not matched by the cutouts converted in this run (resumed chunks are not counted)",
			"rows", n, "catalog_rows", j.counts.Len())
	default:
		log.Warn("vote-count catalog rows match no cutout: check votes_key and the object ids",
			"rows", n, "catalog_rows", j.counts.Len(), "examples", strings.Join(examples, ", "))
	}
}

// NewFilesSink opens the sink of a Files source: NewSink, or with a vote
// catalog (j not nil) a sink of cutouts with vote counts over j's tree,
// whose metadata names the catalog.
func NewFilesSink(env *pipeline.Env, f *Files, md map[string]string, j *VoteJoin) (*ingest.Sink, error) {
	if j == nil {
		return NewSink(env, f.Output, f.Rejects, f.MaxRejects, md)
	}
	with := make(map[string]string, len(md)+1)
	for k, v := range md {
		with[k] = v
	}
	with[schemas.MetaVoteCatalog] = filepath.Base(f.Votes.Votes)
	return NewVoteSink(env, f.Output, f.Rejects, f.MaxRejects, with, j.Tree.Name, j.Tree.CountColumns())
}
