package source

import (
	"context"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/ingest"
)

// NewSink opens a resumable sink for the cutouts table output and its
// rejects table in env's working directory, with env's manifest of output,
// the table metadata md and the reject limit maxRejects (0: none).
func NewSink(env *pipeline.Env, output, rejects string, maxRejects int64, md map[string]string) (*ingest.Sink, error) {
	return ingest.NewSink(sinkOptions(env, output, rejects, maxRejects, md))
}

// NewVoteSink is NewSink for a source whose cutouts carry volunteer vote
// counts over the decision tree called tree, whose count columns are
// columns, in the order of ingest.Cutout.VoteCounts.
func NewVoteSink(env *pipeline.Env, output, rejects string, maxRejects int64, md map[string]string, tree string, columns []string) (*ingest.Sink, error) {
	opt := sinkOptions(env, output, rejects, maxRejects, md)
	opt.VoteTree, opt.VoteColumns = tree, columns
	return ingest.NewSink(opt)
}

func sinkOptions(env *pipeline.Env, output, rejects string, maxRejects int64, md map[string]string) ingest.SinkOptions {
	return ingest.SinkOptions{
		Cutouts:    env.Path(output),
		Rejects:    env.Path(rejects),
		Manifest:   env.Manifest(output),
		Metadata:   md,
		MaxRejects: maxRejects,
		Resumable:  true,
	}
}

// Commit commits sink and logs how many rows were kept from an interrupted
// earlier run, when resumed is not 0. When ctx is cancelled it commits
// nothing and returns ctx's error, leaving sink open with its completed
// chunks for a later run to resume, as a run cancelled earlier would.
func Commit(ctx context.Context, env *pipeline.Env, sink *ingest.Sink, resumed int) (ingest.Summary, error) {
	if err := ctx.Err(); err != nil {
		return ingest.Summary{}, err
	}
	sum, err := sink.Commit()
	if err != nil {
		return sum, err
	}
	if resumed > 0 {
		env.Log.Info("resumed an interrupted run", "rows_kept", resumed)
	}
	return sum, nil
}
