package model

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestZZOpTimes(t *testing.T) {
	b := &testing.B{}
	n, x, targets := benchNet(b)
	opt := NewAdamW(n.Params(), 1e-4, 0.05)
	n.TrainStep(x, targets, benchBatch, nil)
	n.Forward(x, benchBatch)
	clear(OpTimes)
	t0 := time.Now()
	for range 2 {
		n.TrainStep(x, targets, benchBatch, nil)
		opt.Update(n.Params())
	}
	total := time.Since(t0)
	agg := map[string]time.Duration{}
	for k, v := range OpTimes {
		parts := strings.Split(k, ".")
		key := parts[len(parts)-1]
		if len(parts) >= 2 && (parts[len(parts)-2] == "conv1x1" || parts[len(parts)-2] == "conv3x3" || parts[len(parts)-2] == "batchnorm" || parts[len(parts)-2] == "layernorm" || parts[len(parts)-2]=="se" || parts[len(parts)-2]=="attention" || parts[len(parts)-2]=="depthwise" || parts[len(parts)-2]=="linear") {
			key = parts[len(parts)-2] + "." + key
		}
		agg[key] += v
	}
	type kv struct{ k string; v time.Duration }
	var l []kv
	var sum time.Duration
	for k, v := range agg { l = append(l, kv{k, v}); sum += v }
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v })
	for _, e := range l[:min(25, len(l))] { fmt.Printf("%-30s %8.1fms\n", e.k, float64(e.v)/2e6) }
	fmt.Printf("ops total %.1fms, wall %.1fms per step\n", float64(sum)/2e6, float64(total)/2e6)
	top := map[string]time.Duration{}
	for k, v := range OpTimes { top[strings.SplitN(k, ".", 5)[0]+"."+func() string { p := strings.Split(k, "."); if len(p) > 3 { return p[len(p)-1] }; return "" }()] += v }
}
