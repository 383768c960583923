//go:build unix

package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// LockFile is the file in a workdir that a running job holds locked.
const LockFile = ".astroformer.lock"

// lockWorkdir takes an exclusive, non-blocking lock on dir for the life of
// one run, so that two runs of a job never write the same stage state at
// once. The lock is released when unlock is called or the process dies.
// The file records the holder's host and pid for the error message.
func lockWorkdir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking workdir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("workdir %s is in use by another run (%s); wait for it or stop it",
				dir, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("locking workdir %s: %w", dir, err)
	}
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d on %s\n", os.Getpid(), host)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
