// Package modeltest provides model configurations for the tests of other
// packages, as net/http/httptest does for HTTP.
package modeltest

import "github.com/astroformer/astroformer/model"

// GoldenTiny returns golden_tiny, the configuration of the reference test
// vectors (make_vectors.py of the PyTorch reference): a C-C-C-T network of
// 158,350 parameters at 64x64 with 10 classes, small enough to train in a
// test. It is not a variant: model.Variants and model.Lookup do not list it,
// and a checkpoint of it loads as "golden_tiny" only when its metadata names
// it.
func GoldenTiny() model.Config {
	return model.Config{Name: "golden_tiny", Dims: [4]int{16, 32, 48, 64}, Depths: [4]int{1, 2, 1, 2}, StemWidth: 16, HeadHidden: 64}
}
