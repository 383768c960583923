//go:build !unix

package pipeline

// LockFile is the file in a workdir that a running job holds locked.
const LockFile = ".astroformer.lock"

// lockWorkdir is a no-op where flock is not available: concurrent runs of
// one workdir are then the user's to avoid.
func lockWorkdir(dir string) (unlock func(), err error) { return func() {}, nil }
