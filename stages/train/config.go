package train

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/policy"
	"github.com/astroformer/astroformer/stages/internal/decl"
)

// Balance modes: how class imbalance is countered.
const (
	BalanceNone    = "none"    // the data as it is
	BalanceSampler = "sampler" // class-balanced sampling (policy.BalancedSampler)
	// The loss-weight modes are those of policy.ClassWeights:
	// "inverse", "sqrt_inverse", "effective_number".
)

// Normalisation sources.
const (
	NormalizePolicy  = "policy"  // the policy's mean and std (ImageNet's unless set)
	NormalizeDataset = "dataset" // per-channel mean and std of the training images
	// NormalizeCheckpoint keeps the normalisation of the pretrained
	// weights (init_from), so that fine-tuning feeds them what they learnt on.
	NormalizeCheckpoint = "checkpoint"
)

// Learning-rate scaling rules for lr_base_batch.
const (
	ScaleSqrt   = "sqrt"   // timm's rule for adaptive optimisers such as AdamW
	ScaleLinear = "linear" // Goyal et al.'s rule for SGD
)

// Checkpoint selections: which weights of a run the model folder names for
// prediction (the select attribute).
const (
	SelectLast    = "last"     // the weights after the last epoch (model.safetensors)
	SelectBest    = "best"     // those of the epoch with the best val top-1 (best.safetensors)
	SelectLastEMA = "last_ema" // the EMA weights after the last epoch (model_ema.safetensors)
	SelectBestEMA = "best_ema" // the EMA weights of the epoch with the best val_ema top-1 (best_ema.safetensors)
)

// Settings is everything that determines a training run. Decode fills it
// from a preset (Preset) and the attributes of the stage block: a field
// with an hcl tag is the attribute of that name, which replaces the
// preset's value when the block sets it. Settings is the stage's params,
// so every field enters the fingerprint, and it is written to policy.json
// next to the model.
type Settings struct {
	Input   string `hcl:"input" json:"input"`
	Output  string `hcl:"output" json:"output"`
	Metrics string `hcl:"metrics,optional" json:"metrics"`
	Preset  string `hcl:"preset,optional" json:"preset"`
	Seed    *int64 `hcl:"seed,optional" json:"seed,omitempty"` // nil: the job seed

	Variant   string `hcl:"variant,optional" json:"variant"`
	ImageSize int    `hcl:"image_size,optional" json:"image_size"`
	Init      string `hcl:"init,optional" json:"init,omitempty"` // initialisation scheme, model.InitSchemes; "" is timm's

	Epochs     int  `hcl:"epochs,optional" json:"epochs"`
	BatchSize  int  `hcl:"batch_size,optional" json:"batch_size"`
	Accumulate int  `hcl:"accumulate,optional" json:"accumulate"`
	DropLast   bool `hcl:"drop_last,optional" json:"drop_last"` // drop the incomplete last batch of each epoch, as timm does

	LR           float64    `hcl:"lr,optional" json:"lr"`
	LRBaseBatch  int        `hcl:"lr_base_batch,optional" json:"lr_base_batch"`
	LRScale      string     `hcl:"lr_scale,optional" json:"lr_scale"`
	MinLR        float64    `hcl:"min_lr,optional" json:"min_lr"`
	WarmupEpochs int        `hcl:"warmup_epochs,optional" json:"warmup_epochs"`
	WarmupLR     float64    `hcl:"warmup_lr,optional" json:"warmup_lr"`
	WarmupPrefix bool       `hcl:"warmup_prefix,optional" json:"warmup_prefix,omitempty"` // the cosine starts after the warmup (timm's --warmup-prefix)
	WeightDecay  float64    `hcl:"weight_decay,optional" json:"weight_decay"`
	Betas        [2]float64 `json:"betas"`
	Eps          float64    `hcl:"eps,optional" json:"eps"`

	ClipGrad      float64 `hcl:"clip_grad,optional" json:"clip_grad"`
	AbortGradNorm float64 `hcl:"abort_grad_norm,optional" json:"abort_grad_norm"`
	Dropout       float64 `hcl:"dropout,optional" json:"dropout"`
	DropPath      float64 `hcl:"drop_path,optional" json:"drop_path"`

	EMA       bool    `hcl:"ema,optional" json:"ema"`
	EMADecay  float64 `hcl:"ema_decay,optional" json:"ema_decay"`
	EMAWarmup bool    `hcl:"ema_warmup,optional" json:"ema_warmup"`

	Balance       string `hcl:"balance,optional" json:"balance"`
	Patience      int    `hcl:"patience,optional" json:"patience"`
	ShuffleWindow int    `hcl:"shuffle_window,optional" json:"shuffle_window"`
	Normalize     string `hcl:"normalize,optional" json:"normalize"`
	EvalBatchSize int    `hcl:"eval_batch_size,optional" json:"eval_batch_size"`
	Select        string `hcl:"select,optional" json:"select"`
	Task          string `hcl:"task,optional" json:"task,omitempty"` // TaskClassify or TaskVotes
	// Precision is the arithmetic of the matrix products: "" (fp32, the
	// default) or "bf16" (bfloat16 operands, float32 accumulation and
	// master weights), on CPUs with AVX512_BF16; see model.Precision.
	Precision string `hcl:"precision,optional" json:"precision,omitempty"`
	// Tree, with task = "votes", is a decision-tree file to use instead of
	// the shipped GZ DECaLS tree; TreeSHA256 its content's hash, so that an
	// edited file retrains.
	Tree       string `hcl:"tree,optional" json:"tree,omitempty"`
	TreeSHA256 string `json:"tree_sha256,omitempty"`

	// Fine-tuning: the weights to start from (a model folder of the job,
	// or a path to a checkpoint file or model folder, with the SHA-256 of
	// the checkpoint so that a changed file retrains; see InitFromPath),
	// the stages kept fixed and the layer-wise learning-rate decay.
	InitFrom   string  `json:"init_from,omitempty"`
	InitSHA256 string  `json:"init_sha256,omitempty"`
	Freeze     *int    `hcl:"freeze,optional" json:"freeze,omitempty"`
	LayerDecay float64 `hcl:"layer_decay,optional" json:"layer_decay,omitempty"`

	Policy policy.Config `json:"policy"`
}

// PresetNames returns the presets Decode accepts.
func PresetNames() []string { return []string{"cpu-demo", "galaxy10"} }

// DefaultPreset is the preset of a stage block that names none.
const DefaultPreset = "cpu-demo"

// Preset returns the settings called name (input and output left empty):
//
//   - "galaxy10": the published Astroformer recipe on Galaxy10 DECaLS
//     (timm train.py with --model astroformer_0 --img-size 256
//     --batch-size 256 --opt adamw --lr-base 2e-5 --warmup-lr 1e-5
//     --sched cosine --epochs 300 --warmup-epochs 5 --mixup 0.8
//     --smoothing 0.1 --drop 0.1): AdamW with timm's defaults (betas 0.9,
//     0.999, eps 1e-8, weight decay 2e-5), lr 2e-5 at a global batch of 256
//     scaled by the square root of the batch ratio as timm does for AdamW,
//     cosine to 0 with 5 linear warmup epochs from 1e-5, no gradient
//     clipping, no stochastic depth, no EMA, ImageNet normalisation and
//     policy.Galaxy10Preset. The paper trained on 8 GPUs with 256 images
//     each, a global batch of 2048 and so an effective lr of 5.7e-5.
//   - "cpu-demo": astroformer_nano at 64x64 for 5 epochs of batch 32 with
//     lr 4e-3, 1 warmup epoch from 1e-5, cosine to 1e-5, weight decay 0.05,
//     gradient clipping at 1, normalisation from the training images and
//     policy.CPUDemoPreset without Mixup: what trains a small model from
//     scratch in minutes on two cores (docs/training.md says why it
//     leaves out regularisation).
//
// Both keep the last epoch for prediction (select = "last"; see
// docs/training.md, "Model selection").
func Preset(name string) (Settings, error) {
	switch name {
	case "galaxy10":
		return Settings{
			Preset: name, Variant: "astroformer_0", ImageSize: 256,
			Epochs: 300, BatchSize: 256, Accumulate: 1, DropLast: true,
			LR: 2e-5, LRBaseBatch: 256, LRScale: ScaleSqrt, MinLR: 0, WarmupEpochs: 5, WarmupLR: 1e-5,
			WeightDecay: 2e-5, Betas: [2]float64{0.9, 0.999}, Eps: 1e-8,
			ClipGrad: 0, AbortGradNorm: 1e4, Dropout: 0.1, DropPath: 0,
			EMA: false, EMADecay: 0.9998, EMAWarmup: true,
			Balance: BalanceNone, Patience: 0, ShuffleWindow: 1024,
			Normalize: NormalizePolicy, EvalBatchSize: 256, Select: SelectLast,
			Policy: policy.Galaxy10Preset(),
		}, nil
	case "cpu-demo":
		pol := policy.CPUDemoPreset()
		pol.MixupAlpha = 0
		return Settings{
			Preset: name, Variant: model.DefaultVariant, ImageSize: 64,
			Epochs: 5, BatchSize: 32, Accumulate: 1, DropLast: true,
			LR: 4e-3, LRBaseBatch: 0, LRScale: ScaleSqrt, MinLR: 1e-5, WarmupEpochs: 1, WarmupLR: 1e-5,
			WeightDecay: 0.05, Betas: [2]float64{0.9, 0.999}, Eps: 1e-8,
			ClipGrad: 1, AbortGradNorm: 1e4, Dropout: 0, DropPath: 0,
			EMA: false, EMADecay: 0.998, EMAWarmup: true,
			Balance: BalanceNone, Patience: 0, ShuffleWindow: 8192,
			Normalize: NormalizeDataset, EvalBatchSize: 64, Select: SelectLast,
			Policy: pol,
		}, nil
	}
	return Settings{}, fmt.Errorf("unknown preset %q; known: %s", name, strings.Join(PresetNames(), ", "))
}

// PeakLR returns the learning rate after warmup: LR, scaled from
// LRBaseBatch to the global batch BatchSize×Accumulate by LRScale when
// LRBaseBatch is set.
func (s *Settings) PeakLR() float64 {
	if s.LRBaseBatch <= 0 {
		return s.LR
	}
	ratio := float64(s.BatchSize*s.Accumulate) / float64(s.LRBaseBatch)
	if s.LRScale == ScaleSqrt {
		ratio = math.Sqrt(ratio)
	}
	return s.LR * ratio
}

// config is the body of a `stage "train" "<name>"` block: the Settings,
// decoded over the preset's, and the attributes decoded apart, betas (a
// list in the block) and init_from (checked by decodeInit), and the
// execution knobs: they do not change the result, so they are not part of
// Settings and do not enter the fingerprint. The policy block is decoded
// by decodePolicy.
type config struct {
	Settings
	Betas    []float64 `hcl:"betas,optional"`
	InitFrom *string   `hcl:"init_from,optional"`

	Workers         int `hcl:"workers,optional"`
	Prefetch        int `hcl:"prefetch,optional"`
	CheckpointSteps int `hcl:"checkpoint_steps,optional"`
}

// execution holds the knobs that do not change the result.
type execution struct {
	workers         int // loader goroutines
	prefetch        int // prepared batches waiting for the optimiser
	checkpointSteps int // extra checkpoints every so many steps (0: only at epoch ends)
}

// decodeConfig turns a stage body into settings and execution knobs,
// reporting every problem with the range of the offending attribute.
func decodeConfig(body hcl.Body, ctx *hcl.EvalContext) (Settings, execution, hcl.Diagnostics) {
	cfg, content, presetErr, diags := decodeBlock(body, ctx)
	if diags.HasErrors() {
		return Settings{}, execution{}, diags
	}
	d := decl.New(body, &diags)
	d.NoteUnset(func(attr string) string {
		if attr == "preset" || attr == "input" || attr == "output" {
			return ""
		}
		return fmt.Sprintf(" %s is not set in this block: preset %q gives the value.", attr, cfg.Preset)
	})
	bad := d.Bad
	if presetErr != nil {
		bad("preset", "Unknown preset", presetErr.Error()+".")
		return Settings{}, execution{}, diags
	}
	s := cfg.Settings
	if attr := content.Attributes["metrics"]; attr == nil || decl.Null(attr, ctx) {
		s.Metrics = s.Output + "_metrics"
	}
	exec := execution{workers: cfg.Workers, prefetch: cfg.Prefetch, checkpointSteps: cfg.CheckpointSteps}
	diags = append(diags, decodeInit(&s, cfg, d.At)...)
	diags = append(diags, decodeTree(&s, d.At)...)
	if cfg.Betas != nil {
		if len(cfg.Betas) != 2 {
			bad("betas", "Invalid betas", fmt.Sprintf("betas has %d values; AdamW takes two, [beta1, beta2].", len(cfg.Betas)))
		} else {
			s.Betas = [2]float64{cfg.Betas[0], cfg.Betas[1]}
		}
	}

	var policyBody hcl.Body
	if len(content.Blocks) > 0 {
		policyBody = content.Blocks[0].Body
		diags = append(diags, decodePolicy(policyBody, ctx, &s.Policy)...)
	}
	s.Policy.Height, s.Policy.Width = s.ImageSize, s.ImageSize

	checkShape(&s, bad)
	checkOptimiser(&s, bad)
	checkRegularisation(&s, bad)
	checkSelection(&s, bad)
	checkTask(&s, bad)
	checkPrecision(&s, bad)
	checkExecution(exec, bad)
	if err := s.Policy.Validate(); err != nil {
		subject := body.MissingItemRange().Ptr()
		if policyBody != nil {
			subject = policyBody.MissingItemRange().Ptr()
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid policy", Detail: err.Error(), Subject: subject})
	}
	return s, exec, diags
}

// decodeBlock decodes the attributes of a stage block over the settings
// of the preset it names, and the default execution knobs. cfg.Preset is
// the preset's name, known or not, and presetErr says why it is unknown.
// content holds the attributes and the policy block, at most one.
func decodeBlock(body hcl.Body, ctx *hcl.EvalContext) (cfg config, content *hcl.BodyContent, presetErr error, diags hcl.Diagnostics) {
	schema := decl.Schema(&cfg)
	schema.Blocks = []hcl.BlockHeaderSchema{{Type: "policy"}}
	content, diags = body.Content(schema)
	name := DefaultPreset
	if attr := content.Attributes["preset"]; attr != nil && !decl.Null(attr, ctx) {
		gohcl.DecodeExpression(attr.Expr, ctx, &name) // a bad value is reported by Assign
	}
	cfg.Settings, presetErr = Preset(name)
	cfg.Preset, cfg.Workers, cfg.Prefetch = name, 2, 4
	diags = append(diags, decl.Assign(content, ctx, &cfg)...)
	if blocks := content.Blocks; len(blocks) > 1 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate policy block",
			Detail:   fmt.Sprintf("Only one policy block is allowed. Another was defined at %s.", blocks[0].DefRange.String()),
			Subject:  &blocks[1].DefRange,
		})
	}
	return cfg, content, presetErr, diags
}

// badFunc reports a problem with an attribute: its summary and detail.
type badFunc func(attr, summary, detail string)

// checkShape checks the artifact names, the model and the batches.
func checkShape(s *Settings, bad badFunc) {
	for _, a := range []struct{ name, value string }{{"input", s.Input}, {"output", s.Output}, {"metrics", s.Metrics}} {
		if a.value == "" {
			bad(a.name, "Empty "+a.name, a.name+" names an artifact under the workdir.")
		}
	}
	if s.Input != "" && (s.Input == s.Output || s.Input == s.Metrics) || s.InitFrom != "" && (s.InitFrom == s.Output || s.InitFrom == s.Metrics) {
		bad("output", "Output overwrites input", fmt.Sprintf("%q is both the input and an output.", s.Input))
	}
	if s.Output != "" && s.Output == s.Metrics {
		bad("metrics", "Outputs collide", fmt.Sprintf("the model and the metrics table are both %q.", s.Output))
	}
	if _, err := model.Lookup(s.Variant); err != nil {
		bad("variant", "Unknown variant", strings.TrimPrefix(err.Error(), "model: ")+".")
	}
	if s.Init != "" && !slices.Contains(model.InitSchemes(), s.Init) {
		bad("init", "Invalid init", fmt.Sprintf("init is %q; want one of %q.", s.Init, model.InitSchemes()))
	}
	if s.ImageSize < 32 || s.ImageSize%32 != 0 {
		bad("image_size", "Invalid image_size", fmt.Sprintf("image_size is %d; the model takes multiples of 32 (64 for the CPU variants, 256 for the published ones).", s.ImageSize))
	}
	positive := func(attr string, v int, what string) {
		if v < 1 {
			bad(attr, "Invalid "+attr, fmt.Sprintf("%s is %d; want %s.", attr, v, what))
		}
	}
	positive("epochs", s.Epochs, "at least 1 epoch")
	positive("batch_size", s.BatchSize, "at least 1 image")
	positive("accumulate", s.Accumulate, "at least 1 batch per optimiser step")
	positive("eval_batch_size", s.EvalBatchSize, "at least 1 image")
	if !s.DropLast && s.Accumulate > 1 {
		bad("drop_last", "Incomplete batches with accumulation", fmt.Sprintf("drop_last = false trains each epoch's incomplete last batch; with accumulate = %d that step would average fewer batches. Keep drop_last = true, or set accumulate = 1.", s.Accumulate))
	}
	if s.WarmupEpochs < 0 || s.WarmupEpochs >= s.Epochs && s.Epochs > 0 {
		bad("warmup_epochs", "Invalid warmup_epochs", fmt.Sprintf("warmup_epochs is %d; want 0 to epochs-1 (%d).", s.WarmupEpochs, s.Epochs-1))
	}
}

// checkOptimiser checks the learning rate, its schedule and AdamW.
func checkOptimiser(s *Settings, bad badFunc) {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !(s.LR > 0) || !finite(s.LR) {
		bad("lr", "Invalid lr", fmt.Sprintf("lr is %g; want a positive learning rate.", s.LR))
	}
	if !(s.MinLR >= 0) || s.MinLR > s.PeakLR() {
		bad("min_lr", "Invalid min_lr", fmt.Sprintf("min_lr is %g; want 0 to the peak rate %g.", s.MinLR, s.PeakLR()))
	}
	if !(s.WarmupLR >= 0) || !finite(s.WarmupLR) {
		bad("warmup_lr", "Invalid warmup_lr", fmt.Sprintf("warmup_lr is %g; want a rate >= 0.", s.WarmupLR))
	}
	if s.LRBaseBatch < 0 {
		bad("lr_base_batch", "Invalid lr_base_batch", fmt.Sprintf("lr_base_batch is %d; want 0 (lr is used as is) or the global batch lr was tuned for.", s.LRBaseBatch))
	}
	if s.LRScale != ScaleSqrt && s.LRScale != ScaleLinear {
		bad("lr_scale", "Invalid lr_scale", fmt.Sprintf("lr_scale is %q; want %q or %q.", s.LRScale, ScaleSqrt, ScaleLinear))
	}
	if !(s.WeightDecay >= 0) || !finite(s.WeightDecay) {
		bad("weight_decay", "Invalid weight_decay", fmt.Sprintf("weight_decay is %g; want >= 0.", s.WeightDecay))
	}
	if !(s.Betas[0] >= 0 && s.Betas[0] < 1 && s.Betas[1] >= 0 && s.Betas[1] < 1) {
		bad("betas", "Invalid betas", fmt.Sprintf("betas are %v; want two numbers in [0, 1).", s.Betas))
	}
	if !(s.Eps > 0) || !finite(s.Eps) {
		bad("eps", "Invalid eps", fmt.Sprintf("eps is %g; want a small positive number such as 1e-8.", s.Eps))
	}
	if !(s.ClipGrad >= 0) || !finite(s.ClipGrad) {
		bad("clip_grad", "Invalid clip_grad", fmt.Sprintf("clip_grad is %g; want a norm > 0, or 0 for no clipping.", s.ClipGrad))
	}
	if !(s.AbortGradNorm >= 0) || !finite(s.AbortGradNorm) {
		bad("abort_grad_norm", "Invalid abort_grad_norm", fmt.Sprintf("abort_grad_norm is %g; want a norm > 0, or 0 to stop only on non-finite gradients.", s.AbortGradNorm))
	}
}

// checkRegularisation checks dropout, the EMA, class balance, early
// stopping, shuffling and normalisation.
func checkRegularisation(s *Settings, bad badFunc) {
	for _, f := range []struct {
		name string
		v    float64
	}{{"dropout", s.Dropout}, {"drop_path", s.DropPath}} {
		if !(f.v >= 0 && f.v < 1) {
			bad(f.name, "Invalid "+f.name, fmt.Sprintf("%s is %g; want a rate in [0, 1).", f.name, f.v))
		}
	}
	if !(s.EMADecay > 0 && s.EMADecay < 1) {
		bad("ema_decay", "Invalid ema_decay", fmt.Sprintf("ema_decay is %g; want a decay in (0, 1), typically 0.998 to 0.9999.", s.EMADecay))
	}
	balances := []string{BalanceNone, BalanceSampler, "inverse", "sqrt_inverse", "effective_number"}
	if !slices.Contains(balances, s.Balance) {
		bad("balance", "Invalid balance", fmt.Sprintf("balance is %q; want one of %q.", s.Balance, balances))
	}
	if s.Patience < 0 {
		bad("patience", "Invalid patience", fmt.Sprintf("patience is %d; want the epochs without a better val top-1 before stopping, or 0 to never stop early.", s.Patience))
	}
	if s.ShuffleWindow < 1 {
		bad("shuffle_window", "Invalid shuffle_window", fmt.Sprintf("shuffle_window is %d; want at least 1 sample.", s.ShuffleWindow))
	}
	switch s.Normalize {
	case NormalizePolicy, NormalizeDataset:
	case NormalizeCheckpoint:
		if s.InitFrom == "" {
			bad("normalize", "No checkpoint to normalise as", fmt.Sprintf("normalize = %q takes the normalisation of the pretrained weights; set init_from.", s.Normalize))
		}
	default:
		bad("normalize", "Invalid normalize", fmt.Sprintf("normalize is %q; want %q (the policy's mean and std), %q (the training images') or %q (the pretrained weights', with init_from).",
			s.Normalize, NormalizePolicy, NormalizeDataset, NormalizeCheckpoint))
	}
}

// checkExecution checks the knobs that do not change the result.
func checkExecution(exec execution, bad badFunc) {
	if exec.workers < 1 || exec.prefetch < 1 || exec.checkpointSteps < 0 {
		attr := "workers"
		switch {
		case exec.prefetch < 1:
			attr = "prefetch"
		case exec.checkpointSteps < 0:
			attr = "checkpoint_steps"
		}
		bad(attr, "Invalid "+attr, fmt.Sprintf("workers %d, prefetch %d, checkpoint_steps %d: want workers and prefetch >= 1 and checkpoint_steps >= 0.",
			exec.workers, exec.prefetch, exec.checkpointSteps))
	}
}

// decodePolicy decodes a policy block over the preset's policy. The image
// size is the stage's image_size, so the block may not set it.
func decodePolicy(body hcl.Body, ctx *hcl.EvalContext, cfg *policy.Config) hcl.Diagnostics {
	attrs := attributes(body)
	for _, name := range []string{"height", "width"} {
		if a, ok := attrs[name]; ok {
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Image size set in the policy",
				Detail:   "The image size is the model's: set image_size in the stage block, not " + name + " in the policy block.",
				Subject:  a.Range.Ptr(),
			}}
		}
	}
	return gohcl.DecodeBody(body, ctx, cfg)
}

// attributes returns the attributes of body, for diagnostic ranges. The
// body has a policy block, which JustAttributes complains about but skips.
func attributes(body hcl.Body) hcl.Attributes {
	attrs, _ := body.JustAttributes()
	return attrs
}
