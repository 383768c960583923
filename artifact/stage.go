package artifact

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ownerFile records, inside a staging folder, the process writing it. It is
// removed by Commit.
const ownerFile = ".owner"

// ownerlessGrace is how old a staging folder without an owner file must be
// before it is considered abandoned (it may be between mkdir and writing the
// owner file).
const ownerlessGrace = 10 * time.Minute

const resumePrefix = "resume-"

type owner struct {
	PID  int    `json:"pid"`
	Host string `json:"host"`
}

// Stage creates an empty staging folder for the artifact dir, next to it:
// <parent>/.<base>.staging-<random>. It first removes staging folders of the
// same artifact left behind by processes that no longer run: on this host,
// processes that have exited; on other hosts, those silent for over Lease.
// A folder at dir that Commit would refuse to replace (see Replaceable) is
// an error now, before any work is done.
func Stage(dir string) (string, error) {
	parent, base, err := split(dir)
	if err != nil {
		return "", err
	}
	if err := Replaceable(dir); err != nil {
		return "", fmt.Errorf("stage %s: %w", dir, err)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("stage %s: %w", dir, err)
	}
	if err := removeStale(parent, base, ""); err != nil {
		return "", err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	staging := filepath.Join(parent, stagingPrefix(base)+hex.EncodeToString(rnd[:]))
	if err := os.Mkdir(staging, 0o755); err != nil {
		return "", fmt.Errorf("stage %s: %w", dir, err)
	}
	if err := claim(staging); err != nil {
		os.RemoveAll(staging)
		return "", err
	}
	return staging, nil
}

// StageResumable returns the staging folder of dir reserved for key,
// <parent>/.<base>.staging-resume-<key>, creating it when needed. resumed
// reports whether it already existed, left by an earlier run that was
// interrupted: its content is then the caller's to reuse. Staging folders of
// the same artifact with another key, or abandoned ones, are removed. key is
// made of ASCII letters, digits, '-' and '_'; callers derive it from what
// determines the content (e.g. a fingerprint), so that a change of inputs
// starts afresh. It is an error if another live process owns the folder; an
// owner on another host counts as live until it has been silent for Lease.
func StageResumable(dir, key string) (staging string, resumed bool, err error) {
	parent, base, err := split(dir)
	if err != nil {
		return "", false, err
	}
	if err := Replaceable(dir); err != nil {
		return "", false, fmt.Errorf("stage %s: %w", dir, err)
	}
	if key == "" || len(key) > 64 || strings.Trim(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return "", false, fmt.Errorf("stage %s: resume key %q must be 1 to 64 ASCII letters, digits, '-' or '_'", dir, key)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", false, fmt.Errorf("stage %s: %w", dir, err)
	}
	name := stagingPrefix(base) + resumePrefix + key
	if err := removeStale(parent, base, name); err != nil {
		return "", false, err
	}
	staging = filepath.Join(parent, name)
	switch err := os.Mkdir(staging, 0o755); {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		if o, ok := readOwner(staging); ok && !o.self() && !o.dead(staging) {
			host, _ := os.Hostname()
			return "", false, &InUseError{Dir: dir, Staging: staging, PID: o.PID, Host: o.Host,
				Remote: o.Host != host, Silence: o.silence(staging)}
		}
		resumed = true
	default:
		return "", false, fmt.Errorf("stage %s: %w", dir, err)
	}
	if err := claim(staging); err != nil {
		return "", false, err
	}
	return staging, resumed, nil
}

// Discard removes a staging folder made by Stage or StageResumable.
func Discard(staging string) error {
	if !strings.Contains(filepath.Base(staging), ".staging-") {
		return fmt.Errorf("discard %s: not a staging folder", staging)
	}
	beats.remove(filepath.Join(staging, ownerFile))
	return os.RemoveAll(staging)
}

// Commit makes staging the artifact dir. staging must hold _manifest.json.
// Every file and folder in staging is flushed to disk, staging replaces dir
// in one rename (an existing dir is swapped out and removed), and the parent
// folder is flushed. A crash leaves either the old dir or the new one. Only
// an artifact Commit made, or an empty folder, is replaced: anything else at
// dir is a *ForeignError, and nothing is removed.
func Commit(staging, dir string) error {
	parent, _, err := split(dir)
	if err != nil {
		return err
	}
	if filepath.Dir(filepath.Clean(staging)) != parent {
		return fmt.Errorf("commit %s: staging folder %s is not in the same folder", dir, staging)
	}
	if _, err := os.Stat(filepath.Join(staging, ManifestFile)); err != nil {
		return fmt.Errorf("commit %s: staging folder %s has no %s: %w", dir, staging, ManifestFile, err)
	}
	if err := Replaceable(dir); err != nil {
		return fmt.Errorf("commit %s: %w", dir, err)
	}
	ownerPath := filepath.Join(staging, ownerFile)
	if o, ok := readOwner(staging); ok && !o.self() {
		return fmt.Errorf("commit %s: staging folder %s was taken over by process %d on %s after this process was silent for over %v; its output is theirs now",
			dir, staging, o.PID, o.Host, Lease)
	}
	beats.remove(ownerPath)
	if err := os.Remove(ownerPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("commit %s: %w", dir, err)
	}
	if err := syncTree(staging); err != nil {
		return fmt.Errorf("commit %s: %w", dir, err)
	}
	if err := replace(staging, dir); err != nil {
		return fmt.Errorf("commit %s: %w", dir, err)
	}
	return nil
}

// replace renames staging to dir, atomically swapping out an existing dir.
func replace(staging, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(staging, dir); err != nil {
			return err
		}
		return syncDir(filepath.Dir(dir))
	}
	switch err := exchange(staging, dir); {
	case err == nil:
		// staging now holds the previous version.
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return err
		}
		return os.RemoveAll(staging)
	case !errors.Is(err, errors.ErrUnsupported):
		return err
	}
	// No atomic exchange: move the old version aside, then rename.
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	var rnd [8]byte
	rand.Read(rnd[:])
	old := filepath.Join(parent, "."+base+".old-"+hex.EncodeToString(rnd[:]))
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(staging, dir); err != nil {
		os.Rename(old, dir)
		return err
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

func split(dir string) (parent, base string, err error) {
	dir = filepath.Clean(dir)
	parent, base = filepath.Dir(dir), filepath.Base(dir)
	if base == "." || base == ".." || base == string(filepath.Separator) || strings.HasPrefix(base, ".") {
		return "", "", fmt.Errorf("artifact folder %q: need a name that does not start with '.'", dir)
	}
	return parent, base, nil
}

func stagingPrefix(base string) string { return "." + base + ".staging-" }

// claim records the current process as the owner of staging, and keeps the
// record fresh for as long as the process runs (see Lease).
func claim(staging string) error {
	host, _ := os.Hostname()
	data, _ := json.Marshal(owner{PID: os.Getpid(), Host: host})
	path := filepath.Join(staging, ownerFile)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	beats.add(path)
	return nil
}

func readOwner(staging string) (owner, bool) {
	return readOwnerFile(filepath.Join(staging, ownerFile))
}

func readOwnerFile(path string) (owner, bool) {
	var o owner
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &o) != nil || o.PID <= 0 {
		return owner{}, false
	}
	return o, true
}

// self reports whether o is the current process. A Kubernetes pod that
// replaces another of the same name has its hostname and, often, its PID:
// it is the same task, and counts as the owner.
func (o owner) self() bool {
	host, _ := os.Hostname()
	return o.PID == os.Getpid() && o.Host == host
}

// dead reports whether the owner of staging is gone: on this host, its
// process has exited; on another host, the owner file has not been
// refreshed for over Lease.
func (o owner) dead(staging string) bool {
	host, _ := os.Hostname()
	if o.Host != host {
		return o.silence(staging) > Lease
	}
	p, err := os.FindProcess(o.PID)
	if err != nil {
		return true
	}
	return errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// silence is how long ago the owner file of staging was last refreshed.
func (o owner) silence(staging string) time.Duration {
	info, err := os.Stat(filepath.Join(staging, ownerFile))
	if err != nil {
		return 0
	}
	return time.Since(info.ModTime())
}

// InUseError is StageResumable's error when another live process owns the
// staging folder.
type InUseError struct {
	Dir, Staging string
	PID          int
	Host         string
	Remote       bool          // the owner runs on another host
	Silence      time.Duration // since a remote owner last refreshed the folder
}

func (e *InUseError) Error() string {
	msg := fmt.Sprintf("stage %s: staging folder %s is in use by process %d on %s", e.Dir, e.Staging, e.PID, e.Host)
	if !e.Remote {
		return msg + "; remove it if that process is gone"
	}
	return fmt.Sprintf("%s (last heard from %v ago); it is taken over once silent for %v, in %v, or remove it now if that process is gone",
		msg, e.Silence.Round(time.Second), Lease, e.TakeoverIn().Round(time.Second))
}

// TakeoverIn is how long until a remote owner, if it stays silent, counts
// as gone; 0 for an owner on this host, which is gone only when it exits.
func (e *InUseError) TakeoverIn() time.Duration {
	if !e.Remote {
		return 0
	}
	return max(Lease-e.Silence, 0)
}

// removeStale removes the abandoned staging folders of artifact base in
// parent, and folders left over by an interrupted Commit. keep names a
// staging folder that is never removed.
func removeStale(parent, base, keep string) error {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return fmt.Errorf("stage %s: %w", filepath.Join(parent, base), err)
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(parent, name)
		switch {
		case name == keep || !e.IsDir():
			continue
		case strings.HasPrefix(name, stagingPrefix(base)):
			if !abandoned(path) {
				continue
			}
		case strings.HasPrefix(name, "."+base+".old-"):
		default:
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			return fmt.Errorf("remove abandoned staging folder: %w", err)
		}
	}
	return nil
}

func abandoned(staging string) bool {
	if o, ok := readOwner(staging); ok {
		return !o.self() && o.dead(staging)
	}
	info, err := os.Stat(staging)
	return err == nil && time.Since(info.ModTime()) > ownerlessGrace
}

// syncTree flushes every file and folder under root to disk, root last.
func syncTree(root string) error {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == root {
				return nil
			}
			return syncDir(path)
		}
		return syncFile(path)
	})
	if err != nil {
		return err
	}
	return syncDir(root)
}

// syncFile flushes the file or folder at path to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir flushes a folder's entries to disk. File systems that cannot sync
// folders are tolerated.
func syncDir(dir string) error {
	err := syncFile(dir)
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}
