package stages

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/cifar"
	"github.com/astroformer/astroformer/stages/evaluate"
	"github.com/astroformer/astroformer/stages/fits"
	"github.com/astroformer/astroformer/stages/galaxy10"
	"github.com/astroformer/astroformer/stages/imagefolder"
	"github.com/astroformer/astroformer/stages/predict"
	"github.com/astroformer/astroformer/stages/split"
	"github.com/astroformer/astroformer/stages/stagetest"
	"github.com/astroformer/astroformer/stages/synthetic"
	"github.com/astroformer/astroformer/stages/tinyimagenet"
	"github.com/astroformer/astroformer/stages/train"
)

// conformance describes every registered kind to stagetest.Conformance,
// with tiny inputs. A source's inputs hold a little more than one chunk
// (its ChunkRows), and its run is interrupted (cancelled, or killed) once
// the first chunk is kept, so that the rerun resumes from it; split and
// predict resume by input part, train from a checkpoint. galaxy10
// (ChunkRows 512, a shipped fixture of fewer rows; its chunk size is not
// exported) is interrupted in its only chunk, and evaluate, which does not
// resume, starts over: their reruns must still give the same rows.
func conformance() map[string]stagetest.Kind {
	return map[string]stagetest.Kind{
		synthetic.Kind: {
			Factory: synthetic.Decode,
			Block:   "output = \"c\"\ncount = 1030\nsize = 16\nworkers = 2",
			Bad:     "output = \"c\"\nsize = 8", BadAttr: "size",
			Interrupt: synthetic.ChunkRows, Resumes: true,
		},
		cifar.Kind: source(cifar.Decode, cifarFolder, "cifar", "workers = 2", "labels", `"medium"`, cifar.ChunkRows+1),
		galaxy10.Kind: {
			Factory: galaxy10.Decode, Setup: galaxy10File,
			Block: "path = \"${workdir}/g10.h5\"\noutput = \"c\"\nsize = 32\nworkers = 2",
			Bad:   "path = \"${workdir}/g10.h5\"\noutput = \"c\"\nlimit = -1", BadAttr: "limit",
		},
		tinyimagenet.Kind: source(tinyimagenet.Decode, tinyImageNet, "tin", "size = 16\nworkers = 2", "size", "-4", tinyimagenet.ChunkRows+1),
		imagefolder.Kind:  source(imagefolder.Decode, imageFolder, "images", "size = 16\nworkers = 2", "split", `"holdout"`, imagefolder.ChunkRows+1),
		fits.Kind:         source(fits.Decode, fitsFolder, "fits", "size = 16\nworkers = 2", "rgb_q", "-1", fits.ChunkRows+1),
		split.Kind: {
			Factory: split.Decode, Setup: splitInput,
			Block: "input = \"cutouts\"\noutput = \"out\"",
			Bad:   "input = \"cutouts\"\noutput = \"out\"\ntrain = -1", BadAttr: "train",
			// The bar counts the rows read, then the rows written: the
			// first of the input's three parts is written.
			Interrupt: 60 + 25, Resumes: true,
		},
		train.Kind: {
			Factory: tinyTrain, Setup: trainInput,
			Block: trainBlock,
			Bad:   "input = \"cutouts\"\noutput = \"model\"\nepochs = 0", BadAttr: "epochs",
			// The bar counts optimiser steps: 6 per epoch, a checkpoint
			// every 2.
			Interrupt: 5, Resumes: true,
			Volatile: trainTimings,
		},
		predict.Kind: {
			Factory: predict.Decode, Setup: predictInputs,
			Block: "input = \"cutouts\"\nmodel = \"model\"\noutput = \"catalog\"\nrows_per_part = 8\nbatch_size = 4\nworkers = 1",
			Bad:   "input = \"cutouts\"\nmodel = \"model\"\noutput = \"catalog\"\ntta = -2", BadAttr: "tta",
			// The bar counts rows after each batch: 17 is in the second
			// of the input's parts of 16 rows, after the first is kept.
			Interrupt: 17, Resumes: true,
		},
		evaluate.Kind: {
			Factory: evaluate.Decode, Setup: evaluateInput,
			Block: "input = \"catalog\"\noutput = \"report\"\nsplit = \"all\"\nbootstrap = 5\ngallery = 0",
			Bad:   "input = \"catalog\"\noutput = \"report\"\nbins = 0", BadAttr: "bins",
			// The pages record their time of creation; the figures and the
			// metrics table are compared.
			Volatile: func(output, item string) bool {
				return strings.HasPrefix(item, "report.html ") || strings.HasPrefix(item, "report.md ")
			},
		},
	}
}

// source describes a source kind that reads the files setup writes at
// ${workdir}/path into the table c: its block sets attrs too, its bad
// block sets badAttr to badValue, and its run is interrupted at interrupt
// and resumes.
func source(factory pipeline.Factory, setup func(testing.TB, string), path, attrs, badAttr, badValue string, interrupt int64) stagetest.Kind {
	head := "path = \"${workdir}/" + path + "\"\noutput = \"c\"\n"
	return stagetest.Kind{
		Factory: factory, Setup: setup,
		Block: head + attrs,
		Bad:   head + badAttr + " = " + badValue, BadAttr: badAttr,
		Interrupt: interrupt, Resumes: true,
	}
}

// TestConformance runs stagetest.Conformance over every registered kind.
func TestConformance(t *testing.T) {
	kinds := conformance()
	for kind := range Registry() {
		t.Run(kind, func(t *testing.T) {
			k, ok := kinds[kind]
			if !ok {
				t.Fatalf("kind %q has no conformance test: describe it in conformance()", kind)
			}
			stagetest.Conformance(t, k)
		})
	}
}

// trainBlock trains for two epochs of six steps on 32×32 cutouts, with a
// checkpoint every two steps.
const trainBlock = `input      = "cutouts"
output     = "model"
image_size = 32
epochs     = 2
batch_size = 4
lr         = 5e-3
workers    = 1
eval_batch_size = 8
checkpoint_steps = 2
`

// tinyTrain decodes a train block into a stage that trains a tiny network.
func tinyTrain(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	s, diags := train.Decode(name, body, ctx)
	if s != nil {
		train.SetTestConfig(s, tinyNet())
	}
	return s, diags
}

// trainTimings reports the train metrics that are timings, the curves
// that plot them and the checkpoints' times of creation.
func trainTimings(output, item string) bool {
	return strings.Contains(item, `"images_per_sec"`) || strings.Contains(item, `"data_wait_fraction"`) ||
		strings.HasPrefix(item, train.CurvesFile+" ") || strings.Contains(item, " provenance created=")
}
