// Package stages lists the stage kinds astroformer knows. Each kind lives in
// its own package, stages/<kind>, which exports
//
//	const Kind = "<kind>"
//	func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics)
//
// and is added to Registry below. Decode declares the kind's block with
// stages/internal/decl (a source with stages/internal/source): one params
// struct with hcl and json tags, decoded over the kind's defaults.
package stages

import (
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/cifar"
	"github.com/astroformer/astroformer/stages/evaluate"
	"github.com/astroformer/astroformer/stages/fits"
	"github.com/astroformer/astroformer/stages/galaxy10"
	"github.com/astroformer/astroformer/stages/imagefolder"
	"github.com/astroformer/astroformer/stages/predict"
	"github.com/astroformer/astroformer/stages/split"
	"github.com/astroformer/astroformer/stages/synthetic"
	"github.com/astroformer/astroformer/stages/tinyimagenet"
	"github.com/astroformer/astroformer/stages/train"
)

// Registry returns the stage kinds by name, for decoding job files.
func Registry() pipeline.Registry {
	return pipeline.Registry{
		cifar.Kind:        cifar.Decode,
		evaluate.Kind:     evaluate.Decode,
		fits.Kind:         fits.Decode,
		galaxy10.Kind:     galaxy10.Decode,
		imagefolder.Kind:  imagefolder.Decode,
		predict.Kind:      predict.Decode,
		split.Kind:        split.Decode,
		synthetic.Kind:    synthetic.Decode,
		tinyimagenet.Kind: tinyimagenet.Decode,
		train.Kind:        train.Decode,
	}
}
