package model

import (
	"fmt"
	"strings"
)

// The parts of the network, from the input up: the stem, the four stages
// and the head. Part numbers order them for freezing and layer-wise
// learning-rate decay.
const (
	PartStem = 0
	PartHead = 5
	Parts    = 6
)

// Part returns the part a parameter or buffer named name (a timm name)
// belongs to: PartStem for "stem.…", 1 to 4 for "stages.0.…" to
// "stages.3.…", PartHead for anything else ("head.…").
func Part(name string) int {
	if strings.HasPrefix(name, "stem.") {
		return PartStem
	}
	if rest, ok := strings.CutPrefix(name, "stages."); ok && len(rest) > 1 && rest[1] == '.' && rest[0] >= '0' && rest[0] <= '3' {
		return int(rest[0]-'0') + 1
	}
	return PartHead
}

// Freeze fixes the stem and the first stages stages of the network in
// training: TrainStep runs them as in evaluation (batch-norm running
// statistics, which stay as they are; no stochastic depth) and computes no
// gradient for their parameters, whose Grad stays zero. stages is -1 for
// none (the default), 0 for the stem alone, up to 4 for the whole body
// (only the head trains). The optimiser must leave the frozen parameters
// alone too: see Frozen and AdamW.Scale.
func (n *Net) Freeze(stages int) error {
	if stages < -1 || stages > 4 {
		return fmt.Errorf("model: freeze %d stages: want -1 (none) to 4", stages)
	}
	if stages != n.frozen-1 {
		n.frozen = stages + 1
		n.closeGraphs()
	}
	return nil
}

// Frozen reports whether the parameter or buffer named name is fixed by
// Freeze.
func (n *Net) Frozen(name string) bool { return Part(name) < n.frozen }

// closeGraphs drops the compiled graphs, so that the next run builds anew.
func (n *Net) closeGraphs() {
	for _, g := range n.graphs {
		g.vm.Close()
	}
	n.graphs = nil
}
