package pipeline

import (
	"fmt"
	"slices"
	"strings"
)

// Job is a named DAG of stages sharing a working directory and a seed.
// Edges are implied by names: a stage that lists X in Inputs depends on the
// stage that lists X in Outputs. Inputs no stage produces must already exist
// under Workdir when the job runs.
type Job struct {
	Name    string
	File    string // the job file it was loaded from, if any; for messages
	Workdir string
	Seed    int64
	Stages  []Stage // in declaration order
}

// CycleError reports stages that depend on each other in a loop.
type CycleError struct {
	// Stages on the cycle in data-flow order, starting with the one declared
	// first: each reads what the previous one writes, and the first reads
	// what the last writes.
	Stages []string
}

func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(e.Stages, " -> ") + " -> " + e.Stages[0]
}

// Producers maps every artifact name that some stage outputs, in its clean
// form (CleanName), to that stage's index in j.Stages. It returns an error if a stage name is used twice or two
// stages write the same artifact.
func (j *Job) Producers() (map[string]int, error) {
	names := make(map[string]bool, len(j.Stages))
	producer := make(map[string]int)
	for i, s := range j.Stages {
		if names[s.Name()] {
			return nil, fmt.Errorf("job %q: stage name %q is used twice", j.Name, s.Name())
		}
		names[s.Name()] = true
		for _, out := range s.Outputs() {
			out = cleanKey(out)
			if p, ok := producer[out]; ok {
				return nil, fmt.Errorf("job %q: stages %q and %q both write %q",
					j.Name, j.Stages[p].Name(), s.Name(), out)
			}
			producer[out] = i
		}
	}
	return producer, nil
}

// Order returns the stages in an order where every stage comes after the
// stages producing its inputs. Among stages that are ready at the same time,
// declaration order wins, so the order is deterministic. A loop is reported
// as a *CycleError.
func (j *Job) Order() ([]Stage, error) {
	producer, err := j.Producers()
	if err != nil {
		return nil, err
	}
	n := len(j.Stages)
	deps := make([][]int, n)       // deps[i]: stages i reads from
	dependents := make([][]int, n) // dependents[i]: stages reading from i
	pending := make([]int, n)      // unmet dependency count
	for i, s := range j.Stages {
		seen := map[int]bool{}
		for _, in := range s.Inputs() {
			p, ok := producer[cleanKey(in)]
			if !ok || seen[p] {
				continue
			}
			seen[p] = true
			deps[i] = append(deps[i], p)
			dependents[p] = append(dependents[p], i)
			pending[i]++
		}
	}
	order := make([]Stage, 0, n)
	done := make([]bool, n)
	for len(order) < n {
		next := -1
		for i := range n {
			if !done[i] && pending[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			return nil, &CycleError{Stages: j.findCycle(deps, done)}
		}
		done[next] = true
		order = append(order, j.Stages[next])
		for _, d := range dependents[next] {
			pending[d]--
		}
	}
	return order, nil
}

// findCycle returns the names of the stages on one cycle among the stages not
// yet done. Every such stage has an unmet dependency that is also not done, so
// following dependencies from any of them must revisit a stage.
func (j *Job) findCycle(deps [][]int, done []bool) []string {
	start := -1
	for i := range done {
		if !done[i] {
			start = i
			break
		}
	}
	pos := map[int]int{} // stage -> position on the walk
	var walk []int
	for i := start; ; {
		if at, ok := pos[i]; ok {
			walk = walk[at:]
			break
		}
		pos[i] = len(walk)
		walk = append(walk, i)
		for _, d := range deps[i] {
			if !done[d] {
				i = d
				break
			}
		}
	}
	// The walk follows "depends on" edges: reverse it into data-flow order
	// and start at the stage declared first.
	slices.Reverse(walk)
	first := slices.Index(walk, slices.Min(walk))
	walk = append(walk[first:], walk[:first]...)
	names := make([]string, len(walk))
	for k, i := range walk {
		names[k] = j.Stages[i].Name()
	}
	return names
}

// cleanKey is the clean form of an artifact name, or the name itself when it
// is not valid (CheckNames reports those).
func cleanKey(name string) string {
	if clean, err := CleanName(name); err == nil {
		return clean
	}
	return name
}
