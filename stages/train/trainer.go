package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/astroformer/astroformer/internal/progress"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/policy"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/train/loader"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/votes"
)

// trainer is one training run of a stage.
type trainer struct {
	s    *stage
	p    *Settings
	env  *pipeline.Env
	seed int64
	in   *table.Table
	ds   *loader.Dataset
	dir  string // resumable state

	train, val    *loader.Index
	classes       int
	spec          model.Spec
	stepsPerEpoch int
	totalSteps    int

	tree       *votes.Tree // the decision tree of a vote head; nil when classifying
	net        *model.Net
	opt        *model.AdamW
	ema        *policy.EMA    // nil when off
	emaParams  []*model.Param // views of the EMA shadow as a model, for saving and loading
	emaBuffers []*model.Buffer
	sched      policy.Cosine
	aug        *policy.Augmenter
	norm       policy.Normalizer
	mixer      policy.Mixer
	weights    []float32 // per-class loss weights; nil: none
	sampler    *policy.BalancedSampler
	accum      [][]float32 // gradient sums over micro-batches when accumulating

	st        state
	savedStep int // step of the last checkpoint on disk, -1 if none
	bar       *progress.Bar
}

func newTrainer(s *stage, env *pipeline.Env, in *table.Table, ds *loader.Dataset) (*trainer, error) {
	p := &s.p
	t := &trainer{s: s, p: p, env: env, seed: env.Seed, in: in, ds: ds, savedStep: -1,
		train: ds.Splits[schemas.SplitTrain], val: ds.Splits[schemas.SplitVal], classes: len(ds.ClassNames)}
	if p.Seed != nil {
		t.seed = *p.Seed
	}
	global := p.BatchSize * p.Accumulate
	switch {
	case t.train.Len() < global:
		return nil, fmt.Errorf("train: %s has %d train rows, fewer than one optimiser step takes (batch_size %d × accumulate %d)",
			in.Dir(), t.train.Len(), p.BatchSize, p.Accumulate)
	case t.val.Len() == 0 && (p.Select == SelectBest || p.Select == SelectBestEMA):
		return nil, fmt.Errorf("train: %s has no val rows to select the best epoch on (select = %q); set select = %q, or give the split stage a val fraction",
			in.Dir(), p.Select, SelectLast)
	case t.val.Len() == 0 && p.Patience > 0:
		return nil, fmt.Errorf("train: %s has no val rows to stop early on (patience = %d); set patience = 0, or give the split stage a val fraction",
			in.Dir(), p.Patience)
	case t.classes < 2:
		return nil, fmt.Errorf("train: %s has %d class(es); classification needs at least 2", in.Dir(), t.classes)
	}
	if p.Task == TaskVotes {
		var err error
		if t.tree, err = voteTree(p, in.Manifest().Metadata[schemas.MetaVoteTree], ds.ClassNames); err != nil {
			return nil, err
		}
	}
	t.stepsPerEpoch = t.train.Len() / global
	if !p.DropLast {
		t.stepsPerEpoch = (t.train.Len() + global - 1) / global
	}
	t.totalSteps = t.stepsPerEpoch * p.Epochs

	cfg, err := model.Lookup(p.Variant)
	if s.config != nil {
		cfg, err = *s.config, nil
	}
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t.spec = model.Spec{Variant: cfg.Name, Config: cfg, ImageH: p.ImageSize, ImageW: p.ImageSize,
		InChans: ds.Channels, Classes: t.classes, Dropout: p.Dropout, DropPath: p.DropPath}
	if err := t.spec.Validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t.sched = policy.Cosine{
		BaseLR: p.PeakLR(), MinLR: p.MinLR, WarmupInitLR: p.WarmupLR,
		WarmupSteps: p.WarmupEpochs * t.stepsPerEpoch, TotalSteps: t.totalSteps, WarmupPrefix: p.WarmupPrefix,
	}
	if err := t.sched.Validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	switch p.Balance {
	case BalanceNone:
	case BalanceSampler:
		if t.sampler, err = policy.NewBalancedSampler(t.train.Labels, t.classes, t.seed); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	default:
		w, err := policy.ClassWeights(t.train.Counts(t.classes), p.Balance)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		t.weights = make([]float32, len(w))
		for i, v := range w {
			t.weights[i] = float32(v)
		}
	}
	if t.dir, err = stateDir(env, s.name); err != nil {
		return nil, err
	}
	return t, nil
}

// setPrecision sets the precision of the network's matrix products, or
// with bf16 on a CPU without it says so and keeps fp32.
func (t *trainer) setPrecision() error {
	if t.p.Precision != string(model.BF16) {
		return nil
	}
	err := t.net.SetPrecision(model.BF16)
	if errors.Is(err, model.ErrNoBF16) {
		t.env.Log.Warn("this CPU has no AVX512_BF16 (or this build no bf16 kernel): training in fp32", "precision", t.p.Precision)
		return nil
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// restore loads the checkpoint of an interrupted run, or starts afresh:
// new weights from the seed and, with normalize = "dataset", the channel
// statistics of the training images.
func (t *trainer) restore(ctx context.Context) error {
	init := t.p.Init
	if init == "" {
		init = model.InitTimm
	}
	net, err := model.NewInit(t.spec, t.seed, init)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	t.net = net
	if err := t.setPrecision(); err != nil {
		return err
	}
	// Pretrained weights first, so that a fresh EMA starts from them; a
	// resumed run then overwrites everything from its checkpoint.
	var pretrained model.Normalize
	if path, err := t.initCheckpoint(); err != nil {
		return fmt.Errorf("train: init_from: %w", err)
	} else if path != "" {
		if pretrained, err = t.initialise(ctx, path); err != nil {
			return err
		}
	}
	if t.tree != nil {
		if err := net.UseVoteLoss(groups(t.tree)); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	if t.p.Freeze != nil {
		if err := net.Freeze(*t.p.Freeze); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	t.opt = model.NewAdamW(net.Params(), t.p.PeakLR(), t.p.WeightDecay)
	t.opt.Beta1, t.opt.Beta2, t.opt.Eps = t.p.Betas[0], t.p.Betas[1], t.p.Eps
	t.opt.Scale = t.optimiserScales()
	if t.p.EMA {
		t.ema = policy.NewEMA(t.p.EMADecay, t.p.EMAWarmup, t.emaTensors())
		t.emaParams, t.emaBuffers = emaViews(net, t.ema)
	}
	if t.p.Accumulate > 1 {
		t.accum = make([][]float32, len(net.Params()))
		for i, p := range net.Params() {
			t.accum[i] = make([]float32, len(p.Grad))
		}
	}

	ok, err := t.load()
	if err != nil {
		return err
	}
	if ok {
		t.env.Log.Info("resuming", "step", t.st.Step, "epoch", t.st.Epoch+1, "of", t.p.Epochs, "state", t.dir)
	} else {
		t.st = state{Version: stateVersion, Fingerprint: t.env.Fingerprint}
		t.st.Mean, t.st.Std = t.p.Policy.Mean, t.p.Policy.Std
		switch t.p.Normalize {
		case NormalizeDataset:
			if t.st.Mean, t.st.Std, err = t.datasetStats(ctx); err != nil {
				return err
			}
		case NormalizeCheckpoint:
			if t.st.Mean, t.st.Std, err = checkpointStats(pretrained, t.spec.InChans); err != nil {
				return err
			}
		}
		if t.val.Len() == 0 {
			t.env.Log.Info("no val rows: training on every train row without validation, and keeping the last epoch", "select", t.p.Select)
		}
	}
	cfg := t.p.Policy
	cfg.Mean, cfg.Std = t.st.Mean, t.st.Std
	if t.aug, err = policy.New(cfg); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	t.norm, t.mixer = t.aug.Normalizer(), t.aug.Mixer()
	return nil
}

// datasetStats returns the per-channel mean and standard deviation of the
// training images as the model sees them in evaluation (Eval view), read
// in table order on one goroutine so that the sums are reproducible.
func (t *trainer) datasetStats(ctx context.Context) (mean, std []float64, err error) {
	aug, err := policy.New(t.p.Policy)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	var stats policy.ChannelStats
	ld, err := loader.Start(ctx, loader.Config{
		Table: t.in, Index: t.train, BatchSize: 64, Workers: 1, Prefetch: 1,
		C: t.spec.InChans, H: t.spec.ImageH, W: t.spec.ImageW,
		Prepare: func(_ []float32, img policy.Image, _ int) error { return stats.Add(aug.Eval(img)) },
	})
	if err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	defer ld.Close()
	for b, ok := ld.Next(); ok; b, ok = ld.Next() {
		ld.Release(b)
	}
	if err := ld.Err(); err != nil {
		return nil, nil, fmt.Errorf("train: channel statistics: %w", err)
	}
	n, err := stats.Normalizer()
	if err != nil {
		return nil, nil, fmt.Errorf("train: channel statistics of the training images: %w", err)
	}
	t.env.Log.Info("normalising with the training images' channel statistics", "mean", roundAll(n.Mean), "std", roundAll(n.Std))
	return n.Mean, n.Std, nil
}

// emaTensors returns what the EMA averages: every parameter and the
// batch-norm running statistics.
func (t *trainer) emaTensors() [][]float32 {
	var ts [][]float32
	for _, p := range t.net.Params() {
		ts = append(ts, p.Data)
	}
	for _, b := range t.net.Buffers() {
		if b.Kind != model.NumBatchesTracked {
			ts = append(ts, b.Data)
		}
	}
	return ts
}

// emaViews returns parameters and buffers of the network's shapes whose
// data are the EMA's shadow tensors (num_batches_tracked is the network's).
func emaViews(net *model.Net, ema *policy.EMA) ([]*model.Param, []*model.Buffer) {
	params := make([]*model.Param, len(net.Params()))
	for i, p := range net.Params() {
		params[i] = &model.Param{ParamSpec: p.ParamSpec, Data: ema.Shadow[i]}
	}
	buffers := make([]*model.Buffer, len(net.Buffers()))
	k := len(params)
	for i, b := range net.Buffers() {
		if b.Kind == model.NumBatchesTracked {
			buffers[i] = b
			continue
		}
		buffers[i] = &model.Buffer{ParamSpec: b.ParamSpec, Data: ema.Shadow[k]}
		k++
	}
	return params, buffers
}

// run runs epochs until the last one or early stopping.
func (t *trainer) run(ctx context.Context) error {
	t.bar = t.env.Progress.Bar(t.s.name, int64(t.totalSteps))
	defer t.bar.Done()
	t.bar.IncrBy(t.st.Step)
	for !t.st.Done {
		if err := t.epoch(ctx); err != nil {
			return err
		}
	}
	t.bar.SetTotal(int64(t.st.Step)) // complete, also after stopping early
	return nil
}

// stepError reports a step that cannot be taken.
type stepError struct {
	step, epoch, batch int
	problem            string
	savedStep          int
	dir                string
	peakLR             float64
}

func (e *stepError) Error() string {
	return fmt.Sprintf("train: step %d (epoch %d, batch %d): %s; training stopped without updating the weights, %s. Lower lr (peak %g) or set clip_grad",
		e.step, e.epoch, e.batch, e.problem, kept(e.savedStep, e.dir), e.peakLR)
}

// kept describes the checkpoint a failed run leaves.
func kept(savedStep int, dir string) string {
	if savedStep < 0 {
		return "no checkpoint was written yet"
	}
	return fmt.Sprintf("the last good checkpoint (step %d) is kept in %s and a rerun resumes from it", savedStep, dir)
}

func (t *trainer) stepFailed(batch int, format string, args ...any) error {
	return &stepError{step: t.st.Step + 1, epoch: t.st.Epoch + 1, batch: batch + 1, problem: fmt.Sprintf(format, args...),
		savedStep: t.savedStep, dir: t.dir, peakLR: t.p.PeakLR()}
}

// epoch trains the rest of the current epoch, evaluates and checkpoints.
func (t *trainer) epoch(ctx context.Context) error {
	p, e := t.p, t.st.Epoch
	perEpoch := t.stepsPerEpoch * p.Accumulate // micro-batches
	var counts []int
	if t.sampler != nil {
		counts = make([]int, t.train.Len())
		for _, k := range t.sampler.Epoch(e) {
			counts[k]++
		}
	}
	ld, err := loader.Start(ctx, loader.Config{
		Table: t.in, Index: t.train, Counts: counts, Window: p.ShuffleWindow,
		Seed: t.seed, Epoch: e, BatchSize: p.BatchSize, Batches: perEpoch, Skip: t.st.Batch,
		Workers: t.s.exec.workers, Prefetch: t.s.exec.prefetch,
		C: t.spec.InChans, H: t.spec.ImageH, W: t.spec.ImageW, Classes: t.classes,
		Prepare: func(dst []float32, img policy.Image, draw int) error {
			return t.norm.Into(dst, t.aug.Apply(img, policy.SampleRand(t.seed, e, draw)))
		},
		Finish: t.finish(e), Votes: t.tree != nil,
	})
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	defer ld.Close()

	params := t.net.Params()
	grads := make([][]float32, len(params))
	for i, prm := range params {
		grads[i] = prm.Grad
	}
	var waited time.Duration
	for t.st.Batch < perEpoch {
		if ctx.Err() != nil {
			return t.interrupted(ctx)
		}
		t0 := time.Now()
		loss, images, err := t.gradients(ctx, ld, perEpoch)
		if err != nil {
			return err
		}
		norm := policy.ClipGlobalNorm(grads, p.ClipGrad)
		switch {
		case math.IsNaN(norm) || math.IsInf(norm, 0):
			return t.stepFailed(t.st.Batch, "the gradient norm is %g", norm)
		case p.AbortGradNorm > 0 && norm > p.AbortGradNorm:
			return t.stepFailed(t.st.Batch, "the gradient norm %.4g exceeds abort_grad_norm %g: exploding gradients", norm, p.AbortGradNorm)
		}
		lr := t.sched.LR(t.st.Step)
		t.opt.LR = lr
		t.opt.Update(params)
		if t.ema != nil {
			t.ema.Update(t.emaTensors())
		}
		t.st.Step++
		t.st.Batch += p.Accumulate
		acc := &t.st.Acc
		acc.Loss += loss
		acc.GradNorm += norm
		acc.Steps++
		acc.Images += images
		acc.LR = lr
		acc.Seconds += time.Since(t0).Seconds()
		acc.WaitSeconds += (ld.Wait() - waited).Seconds()
		waited = ld.Wait()
		t.bar.Increment()
		if t.s.afterStep != nil {
			t.s.afterStep(t.st.Step)
		}
		if n := t.s.exec.checkpointSteps; n > 0 && t.st.Step%n == 0 && t.st.Batch < perEpoch {
			if err := t.save(false, false); err != nil {
				return err
			}
		}
	}
	ld.Close()
	return t.endEpoch(ctx)
}

// gradients runs the micro-batches of one optimiser step through the
// network and leaves their mean gradient in the parameters' Grad. It
// returns the mean of their losses and the images they held.
func (t *trainer) gradients(ctx context.Context, ld *loader.Loader, perEpoch int) (loss float64, images int, err error) {
	p, e, params := t.p, t.st.Epoch, t.net.Params()
	for a := range p.Accumulate {
		b, ok := ld.Next()
		if !ok {
			if ctx.Err() != nil {
				return 0, 0, t.interrupted(ctx)
			}
			if err := ld.Err(); err != nil {
				return 0, 0, fmt.Errorf("train: epoch %d: %w", e+1, err)
			}
			return 0, 0, fmt.Errorf("train: epoch %d: the loader ended after %d of %d batches", e+1, t.st.Batch+a, perEpoch)
		}
		if t.s.beforeStep != nil {
			t.s.beforeStep(t.st.Step+1, b)
		}
		images += b.N
		l, err := t.net.TrainStep(b.X, b.Targets, b.N, modelRand(t.seed, t.st.Step*p.Accumulate+a))
		ld.Release(b)
		if err != nil {
			return 0, 0, fmt.Errorf("train: step %d: %w", t.st.Step+1, err)
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return 0, 0, t.stepFailed(t.st.Batch+a, "the loss is %g", l)
		}
		loss += l
		if t.accum != nil {
			for i, prm := range params {
				acc := t.accum[i]
				if a == 0 {
					copy(acc, prm.Grad)
					continue
				}
				for j, g := range prm.Grad {
					acc[j] += g
				}
			}
		}
	}
	if t.accum != nil {
		inv := 1 / float32(p.Accumulate)
		for i, prm := range params {
			for j, g := range t.accum[i] {
				prm.Grad[j] = g * inv
			}
		}
	}
	return loss / float64(p.Accumulate), images, nil
}

// interrupted checkpoints the last completed step, so that a rerun loses
// nothing, and returns the context's error.
func (t *trainer) interrupted(ctx context.Context) error {
	if t.st.Step != t.savedStep {
		if err := t.save(false, false); err != nil {
			return errors.Join(ctx.Err(), err)
		}
		t.env.Log.Info("interrupted: checkpoint written", "step", t.st.Step, "state", t.dir)
	}
	return fmt.Errorf("train: interrupted at step %d: %w", t.st.Step, ctx.Err())
}

// mix mixes a prepared batch and writes its soft targets, weighted by
// class when balance names a loss weighting.
func (t *trainer) mix(b *loader.Batch, epoch int) error {
	m, err := t.mixer.Mix(policy.Batch{X: b.X, Labels: b.Labels, C: t.spec.InChans, H: t.spec.ImageH, W: t.spec.ImageW},
		t.classes, b.Targets, policy.BatchRand(t.seed, epoch, b.Index))
	if err != nil {
		return err
	}
	if t.weights == nil {
		return nil
	}
	// The loss of a row is Σ target·(-log p): scaling the row by the
	// blend of its two classes' weights weights its loss and gradient.
	lam := float32(m.Lambda)
	for i, l := range b.Labels {
		w := lam*t.weights[l] + (1-lam)*t.weights[b.Labels[m.PartnerOf(i, b.N)]]
		row := b.Targets[i*t.classes : (i+1)*t.classes]
		for k := range row {
			row[k] *= w
		}
	}
	return nil
}

// modelRand returns the random stream of dropout and stochastic depth for
// micro-batch m of the run.
func modelRand(seed int64, m int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix(uint64(seed)^0x6d6f64656c), uint64(m)))
}

// splitmix is the SplitMix64 finaliser.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// endEpoch evaluates, records the epoch's metrics, keeps the best
// weights, decides on early stopping and checkpoints.
func (t *trainer) endEpoch(ctx context.Context) error {
	e := t.st.Epoch + 1 // epochs completed
	var res []evalResult
	if t.val.Len() > 0 {
		var err error
		if res, err = t.evaluate(ctx); err != nil {
			if ctx.Err() != nil {
				return t.interrupted(ctx)
			}
			return err
		}
	}
	acc := t.st.Acc
	step := t.st.Step
	add := func(scope, name string, v float64) {
		t.st.History = append(t.st.History, metricRow{Scope: scope, Epoch: e, Step: step, Name: name, Value: v})
	}
	add("train", "loss", acc.Loss/float64(max(acc.Steps, 1)))
	add("train", "lr", acc.LR)
	add("train", "grad_norm", acc.GradNorm/float64(max(acc.Steps, 1)))
	add("train", "images_per_sec", float64(acc.Images)/math.Max(acc.Seconds, 1e-9))
	add("train", "data_wait_fraction", acc.WaitSeconds/math.Max(acc.Seconds, 1e-9))
	for _, r := range res {
		add(r.scope, "loss", r.loss)
		if t.tree != nil {
			add(r.scope, "fraction_mae", r.mae)
			continue
		}
		add(r.scope, "top1", r.top1)
		if r.k > 1 {
			add(r.scope, fmt.Sprintf("top%d", r.k), r.topk)
		}
	}

	improved := len(res) > 0 && t.better(res[0], t.st.Best)
	if improved {
		t.st.Best = &best{Epoch: e, Step: step, Top1: res[0].top1, Loss: res[0].loss}
		t.st.BadEpochs = 0
	} else {
		t.st.BadEpochs++
	}
	improvedEMA := false
	if len(res) > 1 && t.better(res[1], t.st.BestEMA) {
		t.st.BestEMA = &best{Epoch: e, Step: step, Top1: res[1].top1, Loss: res[1].loss}
		improvedEMA = true
	}
	t.st.Epoch, t.st.Batch, t.st.Acc = e, 0, epochAcc{}
	switch {
	case e == t.p.Epochs:
		t.st.Done, t.st.StopReason = true, fmt.Sprintf("completed %d epochs", e)
	case t.p.Patience > 0 && t.st.BadEpochs >= t.p.Patience:
		t.st.Done = true
		t.st.StopReason = fmt.Sprintf("stopped early after epoch %d: no better val top-1 than %.4f (epoch %d) for %d epochs",
			e, t.st.Best.Top1, t.st.Best.Epoch, t.p.Patience)
	}
	if err := t.save(improved, improvedEMA); err != nil {
		return err
	}
	args := []any{"epoch", e, "of", t.p.Epochs, "step", step, "loss", round4(acc.Loss / float64(max(acc.Steps, 1)))}
	switch {
	case len(res) > 0 && t.tree != nil:
		args = append(args, "val_loss", round4(res[0].loss), "val_fraction_mae", round4(res[0].mae))
	case len(res) > 0:
		args = append(args, "val_loss", round4(res[0].loss), "val_top1", round4(res[0].top1))
	}
	if len(res) > 1 && t.tree == nil {
		args = append(args, "ema_top1", round4(res[1].top1))
	}
	args = append(args, "lr", sigfig(acc.LR, 3),
		"images_per_sec", math.Round(10*float64(acc.Images)/math.Max(acc.Seconds, 1e-9))/10,
		"data_wait_fraction", round4(acc.WaitSeconds/math.Max(acc.Seconds, 1e-9)))
	t.env.Log.Info("epoch done", args...)
	if t.st.Done && t.st.StopReason != "" && t.p.Patience > 0 && e < t.p.Epochs {
		t.env.Log.Info(t.st.StopReason)
	}
	return nil
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// roundAll returns vs rounded to four decimals.
func roundAll(vs []float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = round4(v)
	}
	return out
}

// sigfig rounds v to n significant digits, for log lines that stay numbers.
func sigfig(v float64, n int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	return f
}

// evalResult is the validation of one set of weights.
type evalResult struct {
	scope            string // "val" or "val_ema"
	loss, top1, topk float64
	k                int
	// Vote heads: the vote-weighted mean absolute error of the expected
	// fractions per question (votes.FractionError), summed, the votes it
	// is weighted by, and their ratio.
	absErr, votes, mae float64
}

// evaluate runs the val split through the network, and through the EMA
// weights too when kept, in one pass.
func (t *trainer) evaluate(ctx context.Context) ([]evalResult, error) {
	k := 5
	if t.classes <= k {
		k = 1 // top-k of k ≥ classes is trivially 1
	}
	res := []evalResult{{scope: "val", k: k}}
	var live [][]float32
	if t.ema != nil {
		res = append(res, evalResult{scope: "val_ema", k: k})
		live = make([][]float32, len(t.ema.Shadow))
		for i, ts := range t.emaTensors() {
			live[i] = append([]float32(nil), ts...)
		}
	}
	votesIn := 0 // a vote head's targets: the counts
	if t.tree != nil {
		votesIn = t.classes
	}
	ld, err := loader.Start(ctx, loader.Config{
		Table: t.in, Index: t.val, BatchSize: t.p.EvalBatchSize,
		Workers: t.s.exec.workers, Prefetch: t.s.exec.prefetch,
		C: t.spec.InChans, H: t.spec.ImageH, W: t.spec.ImageW, Classes: votesIn, Votes: t.tree != nil,
		Prepare: func(dst []float32, img policy.Image, _ int) error { return t.norm.Into(dst, t.aug.Eval(img)) },
	})
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer ld.Close()
	n := 0
	for b, ok := ld.Next(); ok; b, ok = ld.Next() {
		for i := range res {
			if i == 1 {
				copyTensors(t.emaTensors(), t.ema.Shadow)
			}
			logits, err := t.net.Forward(b.X, b.N)
			if i == 1 {
				copyTensors(t.emaTensors(), live)
			}
			if err != nil {
				return nil, fmt.Errorf("train: evaluating: %w", err)
			}
			if t.tree != nil {
				if err := scoreVotes(&res[i], t.tree, logits, b.Targets, b.N); err != nil {
					return nil, fmt.Errorf("train: evaluating: %w", err)
				}
				continue
			}
			score(&res[i], logits, b.Labels, t.classes)
		}
		n += b.N
		ld.Release(b)
	}
	if err := ld.Err(); err != nil {
		return nil, fmt.Errorf("train: evaluating: %w", err)
	}
	for i := range res {
		res[i].loss /= float64(n)
		res[i].top1 /= float64(n)
		res[i].topk /= float64(n)
		if res[i].votes > 0 {
			res[i].mae = res[i].absErr / res[i].votes
		}
	}
	return res, nil
}

func copyTensors(dst, src [][]float32) {
	for i := range dst {
		copy(dst[i], src[i])
	}
}

// score adds the summed cross-entropy, top-1 hits and top-k hits of a
// batch to r. A sample is a top-k hit when fewer than k classes score
// strictly higher than its true class, so ties count in its favour.
func score(r *evalResult, logits []float32, labels []int, classes int) {
	for i, l := range labels {
		z := logits[i*classes : (i+1)*classes]
		mx := math.Inf(-1)
		for _, v := range z {
			mx = math.Max(mx, float64(v))
		}
		var sum float64
		higher := 0
		for _, v := range z {
			sum += math.Exp(float64(v) - mx)
			if v > z[l] {
				higher++
			}
		}
		r.loss += mx + math.Log(sum) - float64(z[l])
		if higher == 0 {
			r.top1++
		}
		if higher < r.k {
			r.topk++
		}
	}
}
