package policy

import "fmt"

// EMA keeps an exponential moving average of model weights ("shadow"
// weights), as timm's ModelEma: after each optimiser step,
// shadow ← d·shadow + (1-d)·params.
//
// With Warmup set, the decay used at the n-th update (n counted from 0) is
// min(Decay, (1+n)/(10+n)), the num_updates rule of TensorFlow's
// ExponentialMovingAverage: early averages follow the fast-moving weights
// closely instead of remembering the random initialisation. Typical Decay
// values are 0.999 to 0.9999.
//
// To average batch-norm running statistics as timm does, include those
// buffers in params.
type EMA struct {
	Decay   float64
	Warmup  bool
	Shadow  [][]float32 // nil until initialised by NewEMA or the first Update
	Updates int         // updates so far
}

// NewEMA returns an EMA whose shadow weights start as a copy of params.
func NewEMA(decay float64, warmup bool, params [][]float32) *EMA {
	e := &EMA{Decay: decay, Warmup: warmup}
	e.init(params)
	return e
}

func (e *EMA) init(params [][]float32) {
	e.Shadow = make([][]float32, len(params))
	for i, p := range params {
		e.Shadow[i] = append([]float32(nil), p...)
	}
}

// CurrentDecay returns the decay the next Update will use.
func (e *EMA) CurrentDecay() float64 {
	if e.Warmup {
		return min(e.Decay, float64(1+e.Updates)/float64(10+e.Updates))
	}
	return e.Decay
}

// Update folds params into the shadow weights. If the shadow is nil it is
// initialised as a copy of params. It panics if params do not have the
// shadow's shapes.
func (e *EMA) Update(params [][]float32) {
	if e.Shadow == nil {
		e.init(params)
		e.Updates++
		return
	}
	if len(params) != len(e.Shadow) {
		panic(fmt.Sprintf("policy: EMA update with %d tensors, shadow has %d", len(params), len(e.Shadow)))
	}
	for i, p := range params {
		if len(p) != len(e.Shadow[i]) {
			panic(fmt.Sprintf("policy: EMA update: tensor %d has %d values, shadow has %d", i, len(p), len(e.Shadow[i])))
		}
	}
	step := float32(1 - e.CurrentDecay())
	for i, p := range params {
		s := e.Shadow[i]
		for k, v := range p {
			s[k] += step * (v - s[k])
		}
	}
	e.Updates++
}
