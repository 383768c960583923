package source

import (
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/ingest"
)

// NewSink opens a resumable sink for the cutouts table output and its
// rejects table in env's working directory, with env's manifest of output,
// the table metadata md and the reject limit maxRejects (0: none).
func NewSink(env *pipeline.Env, output, rejects string, maxRejects int64, md map[string]string) (*ingest.Sink, error) {
	return ingest.NewSink(ingest.SinkOptions{
		Cutouts:    env.Path(output),
		Rejects:    env.Path(rejects),
		Manifest:   env.Manifest(output),
		Metadata:   md,
		MaxRejects: maxRejects,
		Resumable:  true,
	})
}

// Commit commits sink and logs how many rows were kept from an interrupted
// earlier run, when resumed is not 0.
func Commit(env *pipeline.Env, sink *ingest.Sink, resumed int) (ingest.Summary, error) {
	sum, err := sink.Commit()
	if err != nil {
		return sum, err
	}
	if resumed > 0 {
		env.Log.Info("resumed an interrupted run", "rows kept", resumed)
	}
	return sum, nil
}
