package predict

import (
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/model"
)

// MetaPrecision is the catalog metadata key of the precision of the
// model's matrix products, written only when it is not the default fp32.
const MetaPrecision = "astroformer.precision"

// cpuHasBF16 reports whether this CPU (and build) runs bf16 products;
// tests replace it to exercise the fallback.
var cpuHasBF16 = model.BF16Supported

// precisionSetter is a Classifier whose matrix-product precision can be
// set: *model.Net is one.
type precisionSetter interface {
	SetPrecision(model.Precision) error
}

// setPrecision sets the precision p ("" is fp32) of m's network and returns
// the one that runs: bf16 falls back to fp32, with a warning on log, where
// the CPU lacks AVX512_BF16.
func setPrecision(m *Model, p model.Precision, log hclog.Logger) (model.Precision, error) {
	p, err := model.ParsePrecision(string(p))
	if err != nil {
		return "", fmt.Errorf("predict: %w", err)
	}
	net, ok := m.Net.(precisionSetter)
	if !ok {
		if p != model.FP32 {
			return "", fmt.Errorf("predict: precision %s: the network of %s runs in fp32 only", p, m.Path)
		}
		return p, nil
	}
	if p == model.BF16 && !cpuHasBF16() {
		if log == nil {
			log = hclog.NewNullLogger()
		}
		log.Warn("precision bf16 needs a CPU with AVX512_BF16 (and an amd64 build without purego); this one has none: predicting in fp32",
			"checkpoint", m.Path)
		p = model.FP32
	}
	if err := net.SetPrecision(p); err != nil {
		return "", fmt.Errorf("predict: %w", err)
	}
	return p, nil
}
