package pipeline

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// CleanName checks that name is an artifact name — a relative path that
// stays inside the workdir and is not the workdir itself — and returns its
// clean form: "./cutouts/" and "cutouts" are the same artifact, "cutouts".
// No part of a name may start with '.', which the engine keeps for its
// staging folders (and which also rules out "..").
func CleanName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("artifact name is empty")
	case filepath.IsAbs(name) || strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("artifact name %q is an absolute path; give a name relative to the workdir", name)
	}
	clean := filepath.ToSlash(filepath.Clean(name))
	switch {
	case clean == ".":
		return "", fmt.Errorf("artifact name %q is the workdir itself; give the artifact a folder of its own, such as \"cutouts\"", name)
	case clean == ".." || strings.HasPrefix(clean, "../"):
		return "", fmt.Errorf("artifact name %q leaves the workdir; artifacts live inside it", name)
	}
	for _, part := range strings.Split(clean, "/") {
		if strings.HasPrefix(part, ".") {
			return "", fmt.Errorf("artifact name %q has a part starting with '.' (%q); such names are kept for staging folders", name, part)
		}
	}
	return clean, nil
}

// Contains reports whether artifact b lies inside artifact a or is a, both
// clean names (see CleanName): replacing a replaces b.
func Contains(a, b string) bool {
	return a == b || strings.HasPrefix(b, a+"/")
}

// CheckNames returns the first problem with the artifact names of the
// stages: a name that is not an artifact name (CleanName), an artifact
// written by two stages (under any spelling), a stage that reads what it
// writes, or an output that holds, or lies inside, another artifact of the
// job, which committing it would replace. Names are compared clean.
func (j *Job) CheckNames() error {
	type use struct {
		stage  string
		output bool
	}
	uses := map[string][]use{}
	for _, s := range j.Stages {
		for _, list := range []struct {
			names  []string
			output bool
		}{{s.Inputs(), false}, {s.Outputs(), true}} {
			for _, name := range list.names {
				clean, err := CleanName(name)
				if err != nil {
					return fmt.Errorf("job %q: stage %q: %w", j.Name, s.Name(), err)
				}
				uses[clean] = append(uses[clean], use{s.Name(), list.output})
			}
		}
	}
	names := slices.Sorted(maps.Keys(uses))
	for _, name := range names {
		us := uses[name]
		for i, u := range us {
			for _, v := range us[i+1:] {
				switch {
				case u.output && v.output && u.stage == v.stage:
					return fmt.Errorf("job %q: stage %q writes %q twice", j.Name, u.stage, name)
				case u.output && v.output:
					return fmt.Errorf("job %q: stages %q and %q both write %q", j.Name, u.stage, v.stage, name)
				case (u.output || v.output) && u.stage == v.stage:
					return fmt.Errorf("job %q: stage %q reads and writes %q; write to another name", j.Name, u.stage, name)
				}
			}
		}
	}
	for _, out := range names {
		if !slices.ContainsFunc(uses[out], func(u use) bool { return u.output }) {
			continue
		}
		for _, other := range names {
			if other != out && (Contains(out, other) || Contains(other, out)) {
				return fmt.Errorf("job %q: %q and %q overlap: one lies inside the other, and committing %q would replace it; give them separate folders",
					j.Name, out, other, out)
			}
		}
	}
	return nil
}
