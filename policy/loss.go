package policy

import (
	"fmt"
	"math"
)

// SoftTargetCrossEntropy returns the mean over rows of
// -Σ_k targets[k]·log softmax(logits)[k], computed in float64: the loss of
// timm's SoftTargetCrossEntropy, and with SmoothTargets' targets that of
// LabelSmoothingCrossEntropy. It is the reference the model's training loss
// is tested against. logits and targets are row-major with classes columns;
// it panics if their lengths differ or are not a multiple of classes.
func SoftTargetCrossEntropy(logits, targets []float32, classes int) float64 {
	if classes <= 0 || len(logits) != len(targets) || len(logits)%classes != 0 {
		panic(fmt.Sprintf("policy: SoftTargetCrossEntropy of %d logits and %d targets with %d classes", len(logits), len(targets), classes))
	}
	rows := len(logits) / classes
	if rows == 0 {
		return 0
	}
	var total float64
	for r := range rows {
		z := logits[r*classes : (r+1)*classes]
		t := targets[r*classes : (r+1)*classes]
		peak := math.Inf(-1)
		for _, v := range z {
			peak = math.Max(peak, float64(v))
		}
		var sum float64
		for _, v := range z {
			sum += math.Exp(float64(v) - peak)
		}
		logZ := peak + math.Log(sum)
		for k, v := range z {
			if t[k] != 0 {
				total -= float64(t[k]) * (float64(v) - logZ)
			}
		}
	}
	return total / float64(rows)
}
