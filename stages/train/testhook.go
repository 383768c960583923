package train

import (
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/pipeline"
)

// SetTestConfig makes s, a stage of this kind, train the network cfg
// instead of its variant's, and reports whether s was one. It is a test
// hook, for the tests outside this package that must train in seconds
// (the conformance test of every kind in package stages); a job never
// sets it, and cfg does not enter the stage's params.
func SetTestConfig(s pipeline.Stage, cfg model.Config) bool {
	st, ok := s.(*stage)
	if ok {
		st.config = &cfg
	}
	return ok
}
