package train

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/stages/internal/modelfolder"
)

// InitFromPath reports whether an init_from value is a path (absolute, with
// a folder in it, or a .safetensors file) rather than the name of a model
// folder another stage of the job writes.
func InitFromPath(v string) bool {
	return filepath.IsAbs(v) || strings.ContainsRune(v, '/') || strings.ContainsRune(v, filepath.Separator) ||
		strings.HasSuffix(v, ".safetensors")
}

// decodeInit reads init_from: the model folder of another train stage, or
// a path whose checkpoint must be readable now, for its SHA-256.
func decodeInit(s *Settings, cfg config, at func(string) *hcl.Range) hcl.Diagnostics {
	if cfg.InitFrom == nil {
		return nil
	}
	bad := func(summary, detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: at("init_from")}}
	}
	if s.InitFrom = *cfg.InitFrom; s.InitFrom == "" {
		return bad("Empty init_from", "init_from names the model folder of another train stage, or a path to a checkpoint (.safetensors) or model folder.")
	}
	if !InitFromPath(s.InitFrom) {
		return nil
	}
	path, err := modelfolder.Checkpoint(s.InitFrom, "")
	if err == nil {
		s.InitSHA256, err = modelfolder.FileSHA256(path)
	}
	if err != nil {
		return bad("Unreadable init_from", err.Error()+"; a name without a slash is a model folder of this job, anything else a path.")
	}
	return nil
}

// checkSelection checks select, freeze and layer_decay.
func checkSelection(s *Settings, bad badFunc) {
	selects := []string{SelectLast, SelectBest, SelectLastEMA, SelectBestEMA}
	switch {
	case !slices.Contains(selects, s.Select):
		bad("select", "Invalid select", fmt.Sprintf("select is %q; want one of %q.", s.Select, selects))
	case strings.HasSuffix(s.Select, "_ema") && !s.EMA:
		bad("select", "Select without an EMA", fmt.Sprintf("select = %q needs ema = true.", s.Select))
	}
	if s.Freeze != nil && (*s.Freeze < 0 || *s.Freeze > 4) {
		bad("freeze", "Invalid freeze", fmt.Sprintf("freeze is %d; want 0 (the stem) to 4 (the stem and all four stages: only the head trains).", *s.Freeze))
	}
	if s.Freeze != nil && s.InitFrom == "" {
		bad("freeze", "Freeze without pretrained weights", "freeze keeps stages at their initial weights; set init_from to fine-tune.")
	}
	if !(s.LayerDecay >= 0 && s.LayerDecay <= 1) {
		bad("layer_decay", "Invalid layer_decay", fmt.Sprintf("layer_decay is %g; want a factor in (0, 1] per stage from the head down, or 0 for none.", s.LayerDecay))
	}
}

// initCheckpoint returns the checkpoint init_from names, or "" when
// training starts from scratch.
func (t *trainer) initCheckpoint() (string, error) {
	switch {
	case t.p.InitFrom == "":
		return "", nil
	case !InitFromPath(t.p.InitFrom):
		return modelfolder.Checkpoint(t.env.Path(t.p.InitFrom), "")
	default:
		path, err := modelfolder.Checkpoint(t.p.InitFrom, "")
		if err != nil {
			return "", err
		}
		sum, err := modelfolder.FileSHA256(path)
		if err == nil && sum != t.p.InitSHA256 {
			err = fmt.Errorf("%s changed since the job was loaded (SHA-256 %s, was %s)", path, sum, t.p.InitSHA256)
		}
		return path, err
	}
}

// initialise loads the pretrained weights into the new network: every
// tensor whose name and shape match. The classifier (head.fc) is
// initialised afresh when its class count differs; anything else that
// does not fit the variant is an error. It returns the checkpoint's
// normalisation.
func (t *trainer) initialise(ctx context.Context, path string) (model.Normalize, error) {
	sd, meta, err := model.ReadCheckpoint(path)
	if err != nil {
		return model.Normalize{}, fmt.Errorf("train: init_from: %w", err)
	}
	defer sd.Close()
	r, err := sd.Apply(t.net.Params(), t.net.Buffers(), model.LoadOptions{Partial: true})
	if err != nil {
		return model.Normalize{}, fmt.Errorf("train: init_from: %w", err)
	}
	var misfit []string
	for _, m := range r.Mismatched {
		if !strings.HasPrefix(m, "head.fc.") {
			misfit = append(misfit, m)
		}
	}
	misfit = append(misfit, r.Missing...)
	misfit = append(misfit, r.Unexpected...)
	if len(misfit) > 0 {
		return model.Normalize{}, fmt.Errorf("train: init_from %s does not fit %s (%d×%d, %d channels): %s; train with the variant it was made with",
			path, t.spec.Variant, t.spec.ImageH, t.spec.ImageW, t.spec.InChans, strings.Join(first(misfit, 3), "; "))
	}
	log := t.env.Log
	log.Info("initialised from pretrained weights", "checkpoint", path, "variant", meta.Variant,
		"loaded", len(r.Loaded), "skipped", len(r.Skipped), "new", len(r.Mismatched))
	if len(r.Mismatched) > 0 {
		log.Info("classifier initialised afresh: the classes differ", "pretrained classes", meta.Classes,
			"classes", t.classes, "tensors", strings.Join(r.Mismatched, "; "))
	}
	return meta.Normalize, ctx.Err()
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// optimiserScales returns the learning-rate multiplier of every parameter:
// 0 for frozen ones, layer_decay^(parts above) with layer-wise decay, or
// nil when every parameter takes the full rate.
func (t *trainer) optimiserScales() []float64 {
	if t.p.Freeze == nil && t.p.LayerDecay == 0 {
		return nil
	}
	scales := make([]float64, len(t.net.Params()))
	for i, p := range t.net.Params() {
		scales[i] = 1
		if t.p.LayerDecay > 0 {
			for range model.PartHead - model.Part(p.Name) {
				scales[i] *= t.p.LayerDecay
			}
		}
		if t.net.Frozen(p.Name) {
			scales[i] = 0
		}
	}
	return scales
}

// checkpointStats returns a checkpoint's normalisation for c channels.
func checkpointStats(n model.Normalize, c int) (mean, std []float64, err error) {
	if len(n.Mean) == 0 || len(n.Mean) != len(n.Std) || len(n.Mean) != 1 && len(n.Mean) != c {
		return nil, nil, fmt.Errorf("train: normalize = %q: the pretrained checkpoint records no normalisation for %d channels (mean %v, std %v); set normalize = %q with the policy's mean and std",
			NormalizeCheckpoint, c, n.Mean, n.Std, NormalizePolicy)
	}
	for i := range n.Mean {
		mean, std = append(mean, float64(n.Mean[i])), append(std, float64(n.Std[i]))
	}
	return mean, std, nil
}
