// Package stages lists the stage kinds astroformer knows. Each kind lives in
// its own package, stages/<kind>, which exports
//
//	const Kind = "<kind>"
//	func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics)
//
// and is added to Registry below.
package stages

import (
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/synthetic"
)

// Registry returns the stage kinds by name, for decoding job files.
func Registry() pipeline.Registry {
	return pipeline.Registry{
		synthetic.Kind: synthetic.Decode,
	}
}
