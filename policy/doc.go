// Package policy is the augmentation and regularisation policy of training,
// and the image preparation of prediction.
//
// Images are [Image] values: planar CHW float32 with values in [0,1]. A
// training step looks like this:
//
//	aug, err := policy.New(cfg)                     // cfg: Defaults(), a preset, or decoded HCL
//	norm := aug.Normalizer()
//	mixer := aug.Mixer()
//	// for each sample i of batch b in epoch e (any goroutine, any order):
//	img := aug.Apply(src, policy.SampleRand(seed, e, index))
//	norm.Into(batch.Sample(i), img)
//	// once the batch is full:
//	mix, err := mixer.Mix(batch, classes, targets, policy.BatchRand(seed, e, b))
//
// and prediction uses aug.Eval (one view) or aug.TTAViews (dihedral views).
//
// # Reproducibility
//
// Every random decision is drawn from a *rand.Rand of math/rand/v2 passed in
// by the caller. [SampleRand] derives one stream per (seed, epoch, sample
// index) and [BatchRand] one per (seed, epoch, batch index), so results do
// not depend on how many workers prepare samples or in which order. An
// [Augmenter] is immutable and safe for concurrent use.
//
// # What is deliberately left out
//
// Hue shifts, equalisation, posterisation, solarisation, inversion and
// shears are not offered: colours and surface-brightness profiles carry
// physical information about galaxies (stellar populations, bulge/disk
// structure) that such transforms destroy, and a shear turns a round galaxy
// into an elongated one, which is a different morphology class.
package policy
