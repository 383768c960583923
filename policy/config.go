package policy

import (
	"errors"
	"fmt"
	"math"
)

// Config holds every knob of the policy. The defaults quoted are those of
// Defaults. Every field is an optional attribute of an HCL block, so a stage
// can start from a preset and let gohcl.DecodeBody overwrite only the
// attributes a job file sets:
//
//	cfg := policy.Galaxy10Preset()
//	diags := gohcl.DecodeBody(policyBlock.Body, ctx, &cfg)
//
// Ranges are two-element lists, e.g. crop_scale = [0.08, 1].
type Config struct {
	// Height and Width of the images given to the model (default 224×224).
	Height int `json:"height" hcl:"height,optional"`
	Width  int `json:"width" hcl:"width,optional"`
	// CropPct is the fraction of the resized image kept by Eval's centre
	// crop (default 0.875, timm's): Eval resizes so the output is CropPct of
	// the image's shorter side, then centre-crops. 1 keeps the whole image.
	CropPct float64 `json:"crop_pct" hcl:"crop_pct,optional"`

	// RandomCrop enables the random-resized crop of training (default true);
	// when false, training images are only resized to Height×Width.
	RandomCrop bool `json:"random_crop" hcl:"random_crop,optional"`
	// CropScale is the range of the crop's area as a fraction of the image
	// (default [0.08, 1]).
	CropScale []float64 `json:"crop_scale" hcl:"crop_scale,optional"`
	// CropRatio is the range of the crop's aspect ratio, width/height, drawn
	// log-uniformly (default [0.75, 1.3333]).
	CropRatio []float64 `json:"crop_ratio" hcl:"crop_ratio,optional"`

	// Translate shifts training images by up to Translate pixels in each
	// direction (default 0, off): the image is reflect-padded by Translate
	// pixels on every side and cropped back to its size at an offset drawn
	// uniformly, as the CIFAR recipes of timm and PyTorch do
	// (RandomCrop(size, padding=N, padding_mode="reflect")). It applies
	// after the random-resized crop or resize, so it works with or without
	// RandomCrop. It must be smaller than Height and Width.
	Translate int `json:"translate,omitempty" hcl:"translate,optional"`

	// HFlip and VFlip are the probabilities of a horizontal and a vertical
	// mirror (default 0.5 each): the sky has no preferred handedness.
	HFlip float64 `json:"hflip" hcl:"hflip,optional"`
	VFlip float64 `json:"vflip" hcl:"vflip,optional"`
	// Rot90 enables a rotation by k quarter turns, k uniform in 0..3
	// (default true). It needs Height == Width.
	Rot90 bool `json:"rot90" hcl:"rot90,optional"`
	// RotateDegrees enables a rotation by an angle drawn uniformly from
	// [-RotateDegrees, RotateDegrees], bilinear (default 0, off; at most
	// 180).
	RotateDegrees float64 `json:"rotate_degrees" hcl:"rotate_degrees,optional"`
	// Fill is how rotations and RandAugment's translations fill uncovered
	// pixels: "reflect" (default) or "zero". See FillReflect.
	Fill string `json:"fill" hcl:"fill,optional"`

	// Brightness, Contrast and Saturation are the colour-jitter strengths
	// (default 0.4 each, timm's color_jitter; 0 disables one). See Jitter.
	// Colour jitter is skipped when RandAugment is on, as in timm.
	Brightness float64 `json:"brightness" hcl:"brightness,optional"`
	Contrast   float64 `json:"contrast" hcl:"contrast,optional"`
	Saturation float64 `json:"saturation" hcl:"saturation,optional"`

	// RandAugmentN is the number of RandAugment operations per image
	// (default 0, off; at most 10). See RandAugment for the operations.
	RandAugmentN int `json:"rand_augment_n" hcl:"rand_augment_n,optional"`
	// RandAugmentM is their magnitude, 0..10 (default 9).
	RandAugmentM float64 `json:"rand_augment_m" hcl:"rand_augment_m,optional"`
	// RandAugmentMStd is the standard deviation of the per-operation
	// magnitude (default 0.5; 0 uses RandAugmentM exactly).
	RandAugmentMStd float64 `json:"rand_augment_mstd" hcl:"rand_augment_mstd,optional"`

	// EraseProb is the probability of random erasing (default 0, off). See
	// Erasing; the fill uses Mean and Std.
	EraseProb float64 `json:"erase_prob" hcl:"erase_prob,optional"`
	// EraseArea is the range of the erased fraction of the image (default
	// [0.02, 0.3333]).
	EraseArea []float64 `json:"erase_area" hcl:"erase_area,optional"`
	// EraseAspect is the range of the erased box's aspect ratio,
	// height/width, drawn log-uniformly (default [0.3, 3.3333]).
	EraseAspect []float64 `json:"erase_aspect" hcl:"erase_aspect,optional"`
	// EraseCount is the number of boxes erased (default 1).
	EraseCount int `json:"erase_count" hcl:"erase_count,optional"`

	// MixupAlpha is the Beta(α,α) parameter of Mixup (default 0.8; 0 off).
	MixupAlpha float64 `json:"mixup_alpha" hcl:"mixup_alpha,optional"`
	// CutMixAlpha is that of CutMix (default 0, off: a pasted box can hide
	// the galaxy's core and change what its morphology looks like; timm's
	// usual value when on is 1.0).
	CutMixAlpha float64 `json:"cutmix_alpha" hcl:"cutmix_alpha,optional"`
	// MixProb is the probability that a batch is mixed at all (default 1).
	MixProb float64 `json:"mix_prob" hcl:"mix_prob,optional"`
	// MixPartner is who each sample is mixed with: "permute" (default), a
	// random permutation of the batch, as the PyTorch reference
	// (torch_train_folder.py) and many Mixup implementations do; or
	// "reverse", the sample at the mirrored position, as timm's Mixup in
	// batch mode (x.flip(0)). Reversal mixes samples in pairs, so with lambda
	// near 0.5 both images of a pair become nearly the same image and the
	// batch holds half as many distinct ones: on 1,000 labelled images it
	// cost the PyTorch reference four points of test top-1
	// (BENCHMARKS.md, "Learning from little data").
	MixPartner string `json:"mix_partner,omitempty" hcl:"mix_partner,optional"`
	// SwitchProb is the probability of CutMix rather than Mixup when both
	// are on (default 0.5).
	SwitchProb float64 `json:"switch_prob" hcl:"switch_prob,optional"`
	// LabelSmoothing is the smoothing folded into the soft targets (default
	// 0.1). See SmoothTargets.
	LabelSmoothing float64 `json:"label_smoothing" hcl:"label_smoothing,optional"`

	// Mean and Std normalise each channel (default ImageNetMean and
	// ImageNetStd; one value applies to every channel). ChannelStats
	// estimates them from data.
	Mean []float64 `json:"mean" hcl:"mean,optional"`
	Std  []float64 `json:"std" hcl:"std,optional"`
}

// Defaults returns timm's training defaults made galaxy-aware: 224×224,
// random-resized crop (0.08–1, 3/4–4/3), horizontal and vertical flips,
// quarter turns, colour jitter 0.4, Mixup 0.8 with label smoothing 0.1,
// CutMix, RandAugment and random erasing off, ImageNet normalisation.
func Defaults() Config {
	return Config{
		Height:          224,
		Width:           224,
		CropPct:         0.875,
		RandomCrop:      true,
		CropScale:       []float64{0.08, 1},
		CropRatio:       []float64{3.0 / 4, 4.0 / 3},
		HFlip:           0.5,
		VFlip:           0.5,
		Rot90:           true,
		RotateDegrees:   0,
		Fill:            FillReflect.String(),
		Brightness:      0.4,
		Contrast:        0.4,
		Saturation:      0.4,
		RandAugmentN:    0,
		RandAugmentM:    9,
		RandAugmentMStd: 0.5,
		EraseProb:       0,
		EraseArea:       []float64{0.02, 1.0 / 3},
		EraseAspect:     []float64{0.3, 1 / 0.3},
		EraseCount:      1,
		MixupAlpha:      0.8,
		CutMixAlpha:     0,
		MixProb:         1,
		MixPartner:      PartnerPermute,
		SwitchProb:      0.5,
		LabelSmoothing:  0.1,
		Mean:            ImageNetMean(),
		Std:             ImageNetStd(),
	}
}

// Galaxy10Preset returns the recipe Astroformer was published with on
// Galaxy10 DECaLS (timm's train.py defaults plus --img-size 256 --mixup 0.8
// --smoothing 0.1): 256×256, random-resized crop, horizontal flips, colour
// jitter 0.4, Mixup 0.8, label smoothing 0.1, no CutMix, no erasing. It adds
// vertical flips and quarter turns, which are exact symmetries of sky
// images and cost nothing.
func Galaxy10Preset() Config {
	c := Defaults()
	c.Height, c.Width = 256, 256
	return c
}

// CPUDemoPreset returns a light policy for the CPU demonstration, which
// trains a small model on 64×64 images for a few epochs. Heavy
// regularisation only pays off over long schedules, so it keeps the
// label-preserving symmetries (flips, quarter turns), crops mildly
// (scale 0.6–1, so small galaxies stay in view at 64 pixels), drops colour
// jitter, mixes lightly (Mixup α = 0.2 puts most lambdas near 0 or 1) and
// keeps label smoothing 0.1. Eval keeps the whole image (CropPct 1): at 64
// pixels there is nothing to spare.
func CPUDemoPreset() Config {
	c := Defaults()
	c.Height, c.Width = 64, 64
	c.CropPct = 1
	c.CropScale = []float64{0.6, 1}
	c.Brightness, c.Contrast, c.Saturation = 0, 0, 0
	c.MixupAlpha = 0.2
	return c
}

// PresetNames returns the names Preset accepts.
func PresetNames() []string { return []string{"default", "galaxy10", "cpu-demo"} }

// Preset returns the configuration called name: "default" (Defaults),
// "galaxy10" (Galaxy10Preset) or "cpu-demo" (CPUDemoPreset).
func Preset(name string) (Config, error) {
	switch name {
	case "default":
		return Defaults(), nil
	case "galaxy10":
		return Galaxy10Preset(), nil
	case "cpu-demo":
		return CPUDemoPreset(), nil
	}
	return Config{}, fmt.Errorf("policy: unknown preset %q; known: %q", name, PresetNames())
}

// Validate reports every knob that is out of range, each error naming the
// attribute as written in HCL.
func (c Config) Validate() error {
	var errs []error
	bad := func(name string, value any, want string) {
		errs = append(errs, fmt.Errorf("policy: %s = %v: want %s", name, value, want))
	}
	prob := func(name string, p float64) {
		if !(p >= 0 && p <= 1) {
			bad(name, p, "a probability in [0, 1]")
		}
	}
	nonNeg := func(name string, v float64) {
		if !(v >= 0) || math.IsInf(v, 0) {
			bad(name, v, "a finite number >= 0")
		}
	}
	// span checks a two-element range [min, max] with ok(min, max).
	span := func(name string, r []float64, ok func(lo, hi float64) bool, want string) {
		if len(r) != 2 {
			bad(name, r, "two numbers [min, max]")
		} else if !ok(r[0], r[1]) {
			bad(name, r, want)
		}
	}
	fraction := func(lo, hi float64) bool { return lo > 0 && lo <= hi && hi <= 1 }
	positive := func(lo, hi float64) bool { return lo > 0 && lo <= hi && !math.IsInf(hi, 0) }

	if c.Height <= 0 || c.Width <= 0 {
		bad("height, width", fmt.Sprintf("%d, %d", c.Height, c.Width), "positive sizes")
	}
	if !(c.CropPct > 0 && c.CropPct <= 1) {
		bad("crop_pct", c.CropPct, "a fraction in (0, 1]")
	}
	span("crop_scale", c.CropScale, fraction, "0 < min <= max <= 1")
	span("crop_ratio", c.CropRatio, positive, "0 < min <= max, finite")
	if c.Translate < 0 || c.Translate > 0 && c.Translate >= min(c.Height, c.Width) {
		bad("translate", c.Translate, fmt.Sprintf("pixels in 0..%d (less than the image size)", max(min(c.Height, c.Width)-1, 0)))
	}
	prob("hflip", c.HFlip)
	prob("vflip", c.VFlip)
	if c.Rot90 && c.Height != c.Width {
		bad("rot90", true, fmt.Sprintf("false for non-square images (%dx%d)", c.Height, c.Width))
	}
	if !(c.RotateDegrees >= 0 && c.RotateDegrees <= 180) {
		bad("rotate_degrees", c.RotateDegrees, "an angle in [0, 180]")
	}
	if _, err := ParseFill(c.Fill); err != nil {
		bad("fill", fmt.Sprintf("%q", c.Fill), `"reflect" or "zero"`)
	}
	nonNeg("brightness", c.Brightness)
	nonNeg("contrast", c.Contrast)
	nonNeg("saturation", c.Saturation)
	if c.RandAugmentN < 0 || c.RandAugmentN > 10 {
		bad("rand_augment_n", c.RandAugmentN, "an operation count in 0..10")
	}
	if !(c.RandAugmentM >= 0 && c.RandAugmentM <= raMaxLevel) {
		bad("rand_augment_m", c.RandAugmentM, "a magnitude in [0, 10]")
	}
	nonNeg("rand_augment_mstd", c.RandAugmentMStd)
	prob("erase_prob", c.EraseProb)
	span("erase_area", c.EraseArea, func(lo, hi float64) bool { return fraction(lo, hi) && hi < 1 }, "0 < min <= max < 1")
	span("erase_aspect", c.EraseAspect, positive, "0 < min <= max, finite")
	if c.EraseCount < 1 {
		bad("erase_count", c.EraseCount, "at least 1")
	}
	nonNeg("mixup_alpha", c.MixupAlpha)
	nonNeg("cutmix_alpha", c.CutMixAlpha)
	prob("mix_prob", c.MixProb)
	prob("switch_prob", c.SwitchProb)
	if c.MixPartner != "" && c.MixPartner != PartnerReverse && c.MixPartner != PartnerPermute {
		bad("mix_partner", fmt.Sprintf("%q", c.MixPartner), fmt.Sprintf("%q or %q", PartnerReverse, PartnerPermute))
	}
	if !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1) {
		bad("label_smoothing", c.LabelSmoothing, "a fraction in [0, 1)")
	}
	if problem := checkStats(c.Mean, c.Std); problem != "" {
		errs = append(errs, fmt.Errorf("policy: mean = %v, std = %v: %s", c.Mean, c.Std, problem))
	}
	return errors.Join(errs...)
}
