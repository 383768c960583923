package policy

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate of each optimiser update, counted from 0.
type Schedule interface {
	LR(step int) float64
}

// Constant is a Schedule with the same learning rate at every step.
type Constant float64

// LR returns c.
func (c Constant) LR(int) float64 { return float64(c) }

// Cosine is timm's CosineLRScheduler with one cycle, stepped per update
// (t_in_epochs=False), k_decay 1 and no noise:
//
//   - steps 0..WarmupSteps-1 warm up linearly: WarmupInitLR +
//     step·(BaseLR-WarmupInitLR)/WarmupSteps (so BaseLR itself is never
//     reached during warmup, as in timm);
//   - later steps follow MinLR + (BaseLR-MinLR)·(1+cos(π·t/T))/2;
//   - from TotalSteps on the rate is MinLR.
//
// With WarmupPrefix false (timm's default) the cosine clock starts at step 0
// (t = step, T = TotalSteps): warmup replaces the start of the curve, and
// the rate at step WarmupSteps is already slightly below BaseLR. With
// WarmupPrefix true the cosine starts after warmup (t = step-WarmupSteps,
// T = TotalSteps-WarmupSteps) and begins at exactly BaseLR. Either way
// TotalSteps is the step at which MinLR is reached.
//
// The Astroformer Galaxy10 recipe is BaseLR 2e-5·(global batch/256),
// WarmupInitLR 1e-5, MinLR 0, 5 warmup epochs of 300, WarmupPrefix false.
type Cosine struct {
	BaseLR, MinLR float64
	WarmupSteps   int
	TotalSteps    int
	WarmupInitLR  float64
	WarmupPrefix  bool
}

// Validate reports whether the schedule is well formed.
func (c Cosine) Validate() error {
	switch {
	case c.TotalSteps <= 0:
		return fmt.Errorf("policy: cosine schedule: total steps %d, want > 0", c.TotalSteps)
	case c.WarmupSteps < 0 || c.WarmupSteps >= c.TotalSteps:
		return fmt.Errorf("policy: cosine schedule: %d warmup steps of %d total, want 0 <= warmup < total", c.WarmupSteps, c.TotalSteps)
	case !(c.BaseLR > 0) || math.IsInf(c.BaseLR, 0):
		return fmt.Errorf("policy: cosine schedule: base rate %g, want a positive finite number", c.BaseLR)
	case !(c.MinLR >= 0) || c.MinLR > c.BaseLR:
		return fmt.Errorf("policy: cosine schedule: minimum rate %g, want 0 <= min <= base rate %g", c.MinLR, c.BaseLR)
	case !(c.WarmupInitLR >= 0) || math.IsInf(c.WarmupInitLR, 0):
		return fmt.Errorf("policy: cosine schedule: warmup initial rate %g, want a non-negative finite number", c.WarmupInitLR)
	}
	return nil
}

// LR returns the learning rate of update step (negative steps count as 0).
func (c Cosine) LR(step int) float64 {
	step = max(step, 0)
	if step < c.WarmupSteps {
		return c.WarmupInitLR + float64(step)*(c.BaseLR-c.WarmupInitLR)/float64(c.WarmupSteps)
	}
	if step >= c.TotalSteps {
		return c.MinLR
	}
	t, T := step, c.TotalSteps
	if c.WarmupPrefix {
		t, T = step-c.WarmupSteps, c.TotalSteps-c.WarmupSteps
	}
	return c.MinLR + 0.5*(c.BaseLR-c.MinLR)*(1+math.Cos(math.Pi*float64(t)/float64(T)))
}
