package source

import (
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/ingest"
)

// NewVoteSink is NewSink for a source whose cutouts carry volunteer vote
// counts over the decision tree called tree, whose count columns are
// columns, in the order of ingest.Cutout.VoteCounts.
func NewVoteSink(env *pipeline.Env, output, rejects string, md map[string]string, tree string, columns []string) (*ingest.Sink, error) {
	return ingest.NewSink(ingest.SinkOptions{
		Cutouts:     env.Path(output),
		Rejects:     env.Path(rejects),
		Manifest:    env.Manifest(output),
		Metadata:    md,
		Resumable:   true,
		VoteTree:    tree,
		VoteColumns: columns,
	})
}
