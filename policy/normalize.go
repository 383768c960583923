package policy

import (
	"errors"
	"fmt"
	"math"
)

// ImageNetMean returns the per-channel (RGB) means of ImageNet that timm
// normalises with by default.
func ImageNetMean() []float64 { return []float64{0.485, 0.456, 0.406} }

// ImageNetStd returns the per-channel (RGB) standard deviations of ImageNet
// that timm normalises with by default.
func ImageNetStd() []float64 { return []float64{0.229, 0.224, 0.225} }

// Normalizer maps an Image to the model's input: (v - Mean[c]) / Std[c] for
// channel c. Mean and Std have one value per channel, or a single value for
// all channels.
type Normalizer struct {
	Mean, Std []float64
}

// Validate reports whether n is usable.
func (n Normalizer) Validate() error {
	if problem := checkStats(n.Mean, n.Std); problem != "" {
		return fmt.Errorf("policy: normalisation: %s", problem)
	}
	return nil
}

// checkStats describes what is wrong with per-channel statistics, or
// returns "".
func checkStats(mean, std []float64) string {
	if len(mean) == 0 || len(mean) != len(std) {
		return fmt.Sprintf("%d means and %d standard deviations, want the same positive number", len(mean), len(std))
	}
	for c, s := range std {
		if !(s > 0) || math.IsInf(s, 0) {
			return fmt.Sprintf("std[%d] = %g, want a positive finite number", c, s)
		}
		if math.IsNaN(mean[c]) || math.IsInf(mean[c], 0) {
			return fmt.Sprintf("mean[%d] = %g, want a finite number", c, mean[c])
		}
	}
	return ""
}

// Into writes m, normalised, into dst, which must hold exactly m.C*m.H*m.W
// values (one sample of an NCHW batch: see Batch.Sample). It fails when the
// image's channel count does not match the statistics.
func (n Normalizer) Into(dst []float32, m Image) error {
	if len(n.Mean) != 1 && len(n.Mean) != m.C {
		return fmt.Errorf("policy: normalising a %d-channel image with %d-channel statistics", m.C, len(n.Mean))
	}
	if len(dst) != len(m.Pix) {
		return fmt.Errorf("policy: normalising a %dx%dx%d image (%d values) into a buffer of %d values", m.C, m.H, m.W, len(m.Pix), len(dst))
	}
	plane := m.H * m.W
	for c := range m.C {
		scale := float32(1 / channel(n.Std, c))
		shift := float32(-channel(n.Mean, c) / channel(n.Std, c))
		src, out := m.Plane(c), dst[c*plane:(c+1)*plane]
		for i, v := range src {
			out[i] = v*scale + shift
		}
	}
	return nil
}

// HWCInto is FromHWC then Into without the intermediate image: it writes
// the interleaved 8-bit pixels pix of an h×w×c image, as v/255 normalised,
// into dst (c·h·w values), with the same arithmetic and so the same values.
func (n Normalizer) HWCInto(dst []float32, pix []byte, h, w, c int) error {
	if err := checkHWC(pix, h, w, c); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if len(n.Mean) != 1 && len(n.Mean) != c {
		return fmt.Errorf("policy: normalising a %d-channel image with %d-channel statistics", c, len(n.Mean))
	}
	if len(dst) != len(pix) {
		return fmt.Errorf("policy: normalising a %dx%dx%d image (%d values) into a buffer of %d values", c, h, w, len(pix), len(dst))
	}
	plane := h * w
	for ch := range c {
		scale := float32(1 / channel(n.Std, ch))
		shift := float32(-channel(n.Mean, ch) / channel(n.Std, ch))
		out := dst[ch*plane : (ch+1)*plane]
		for i := range out {
			v := float32(pix[i*c+ch]) / 255
			out[i] = v*scale + shift
		}
	}
	return nil
}

// ChannelStats accumulates per-channel mean and standard deviation over a
// stream of images, every pixel weighted equally. The zero value is ready to
// use; all images must have the same number of channels. It is exact in
// float64 (images are combined with Chan et al.'s parallel update), so the
// order of images does not matter beyond rounding.
type ChannelStats struct {
	n    float64   // pixels per channel so far
	mean []float64 // running means
	m2   []float64 // running sums of squared deviations
}

// Add folds m's pixels into the statistics.
func (s *ChannelStats) Add(m Image) error {
	if s.mean == nil {
		s.mean, s.m2 = make([]float64, m.C), make([]float64, m.C)
	}
	if m.C != len(s.mean) {
		return fmt.Errorf("policy: channel statistics: image with %d channels after images with %d", m.C, len(s.mean))
	}
	k := float64(m.H * m.W)
	if k == 0 {
		return nil
	}
	total := s.n + k
	for c := range m.C {
		p := m.Plane(c)
		var sum float64
		for _, v := range p {
			sum += float64(v)
		}
		mean := sum / k
		var m2 float64
		for _, v := range p {
			d := float64(v) - mean
			m2 += d * d
		}
		delta := mean - s.mean[c]
		s.mean[c] += delta * k / total
		s.m2[c] += m2 + delta*delta*s.n*k/total
	}
	s.n = total
	return nil
}

// Pixels returns how many pixels per channel have been added.
func (s *ChannelStats) Pixels() int64 { return int64(s.n) }

// Normalizer returns the accumulated per-channel means and population
// standard deviations. It fails when no pixel was added or a channel is
// constant (a zero standard deviation cannot normalise).
func (s *ChannelStats) Normalizer() (Normalizer, error) {
	if s.n == 0 {
		return Normalizer{}, errors.New("policy: channel statistics: no pixels were added")
	}
	n := Normalizer{Mean: append([]float64(nil), s.mean...), Std: make([]float64, len(s.m2))}
	for c, m2 := range s.m2 {
		n.Std[c] = math.Sqrt(m2 / s.n)
		if n.Std[c] == 0 {
			return Normalizer{}, fmt.Errorf("policy: channel statistics: channel %d is constant (%g) over %d pixels", c, s.mean[c], int64(s.n))
		}
	}
	return n, nil
}
