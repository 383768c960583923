package pipeline

import "runtime/debug"

// version is set at link time:
//
//	go build -ldflags "-X github.com/astroformer/astroformer/pipeline.version=v1.2.0" ./cmd/astroformer
var version string

// Version returns the producer version recorded in manifests (not in
// fingerprints, which hold each stage kind's revision instead):
// the link-time version if set, else the main module's version from the build
// information, else the VCS revision ("devel-<rev>[-dirty]"), else "devel".
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev[:min(len(rev), 12)] + dirty
}
