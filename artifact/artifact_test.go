package artifact

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astroformer/astroformer/artifact/artifacttest"
)

func manifest(fp string) *Manifest {
	return &Manifest{Format: TableFormat, Name: "cutouts", Stage: "synth", Kind: "synthetic", Fingerprint: fp,
		Params: json.RawMessage(`{"n":3}`), Producer: "test", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Rows: 3, Parts: []Part{{File: "part-00000.parquet", Rows: 3, Bytes: 5, SHA256: "ab"}},
		Metadata: map[string]string{"k": "v"}}
}

// stage makes a staging folder for dir.
func stage(t *testing.T, dir string) string {
	t.Helper()
	staging, err := Stage(dir)
	if err != nil {
		t.Fatal(err)
	}
	return staging
}

// write commits an artifact holding one file with the given content.
func write(t *testing.T, dir, content, fp string) {
	t.Helper()
	staging := stage(t, dir)
	if err := os.WriteFile(filepath.Join(staging, "data"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(staging, manifest(fp)); err != nil {
		t.Fatal(err)
	}
	if err := Commit(staging, dir); err != nil {
		t.Fatal(err)
	}
}

func siblings(t *testing.T, parent string) []string {
	t.Helper()
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestStageCommitReplace(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "cutouts")

	staging := stage(t, dir)
	if !strings.HasPrefix(filepath.Base(staging), ".cutouts.staging-") || filepath.Dir(staging) != parent {
		t.Errorf("staging folder %s is not a hidden sibling of %s", staging, dir)
	}
	if err := Commit(staging, dir); err == nil || !strings.Contains(err.Error(), "has no _manifest.json") {
		t.Errorf("commit without manifest: err = %v", err)
	}
	Discard(staging)

	write(t, dir, "one", "fp1")
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := manifest("fp1"); m.Fingerprint != "fp1" || !m.Created.Equal(want.Created) || m.Parts[0] != want.Parts[0] ||
		string(m.Params) != `{"n":3}` || m.Metadata["k"] != "v" {
		t.Errorf("manifest read back: %+v", m)
	}
	write(t, dir, "two", "fp2")
	if data, _ := os.ReadFile(filepath.Join(dir, "data")); string(data) != "two" {
		t.Errorf("data after replace = %q", data)
	}
	if m, _ := ReadManifest(dir); m.Fingerprint != "fp2" {
		t.Errorf("fingerprint after replace = %s", m.Fingerprint)
	}
	if names := siblings(t, parent); len(names) != 1 || names[0] != "cutouts" {
		t.Errorf("left behind: %v", names)
	}
	if _, err := os.Stat(filepath.Join(dir, ownerFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("owner file committed: %v", err)
	}
}

func TestReadManifestErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadManifest(filepath.Join(dir, "nope"))
	if err == nil || err.Error() != "not a committed artifact (no _manifest.json): "+filepath.Join(dir, "nope") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"format": "astroformer.table/1", "rows": `), 0o644)
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "corrupt manifest") {
		t.Errorf("corrupt: err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"format": "csv"}`), 0o644)
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), `format "csv"`) {
		t.Errorf("foreign format: err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"format": "astroformer.table/1", "rows": 5, "parts": [{"file": "../x", "rows": 5}]}`), 0o644)
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), `"../x"`) {
		t.Errorf("escaping part: err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"format": "astroformer.table/1", "rows": 5, "parts": [{"file": "p", "rows": 4}]}`), 0o644)
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "sum of the parts") {
		t.Errorf("row mismatch: err = %v", err)
	}
}

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func setOwner(t *testing.T, staging string, pid int) {
	t.Helper()
	host, _ := os.Hostname()
	data, _ := json.Marshal(owner{PID: pid, Host: host})
	if err := os.WriteFile(filepath.Join(staging, ownerFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCrashLeftovers simulates writers killed before Commit: the committed
// version stays intact, and the staging folders of dead processes are
// removed by the next Stage while live ones are kept.
func TestCrashLeftovers(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "cutouts")

	// A first writer dies before its first commit: nothing at dir.
	dead := stage(t, dir)
	os.WriteFile(filepath.Join(dead, "data"), []byte("partial"), 0o644)
	setOwner(t, dead, deadPID(t))
	if _, err := ReadManifest(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after a crash before commit, dir has a manifest: %v", err)
	}

	live, err := Stage(dir) // ours: this process is alive
	if err != nil {
		t.Fatal(err)
	}
	other, err := Stage(filepath.Join(parent, "other")) // another artifact
	if err != nil {
		t.Fatal(err)
	}
	setOwner(t, other, deadPID(t))
	ownerless := filepath.Join(parent, ".cutouts.staging-ownerless")
	os.Mkdir(ownerless, 0o755)
	oldOwnerless := filepath.Join(parent, ".cutouts.staging-oldownerless")
	os.Mkdir(oldOwnerless, 0o755)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(oldOwnerless, old, old)

	write(t, dir, "v1", "fp1") // its Stage cleans up
	for _, gone := range []string{dead, oldOwnerless} {
		if _, err := os.Stat(gone); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("abandoned staging folder %s not removed: %v", gone, err)
		}
	}
	for _, kept := range []string{live, other, ownerless} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("staging folder %s removed: %v", kept, err)
		}
	}

	// A second writer dies mid-write: the previous version is intact.
	crashed, _ := Stage(dir)
	os.WriteFile(filepath.Join(crashed, "data"), []byte("v2-partial"), 0o644)
	if data, _ := os.ReadFile(filepath.Join(dir, "data")); string(data) != "v1" {
		t.Errorf("data = %q, want v1 intact", data)
	}
	if m, err := ReadManifest(dir); err != nil || m.Fingerprint != "fp1" {
		t.Errorf("manifest after crash: %v, %v", m, err)
	}
}

func TestStageResumable(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "cutouts")
	s1, resumed, err := StageResumable(dir, "k1")
	if err != nil || resumed {
		t.Fatalf("first: resumed=%v err=%v", resumed, err)
	}
	os.WriteFile(filepath.Join(s1, "kept"), []byte("x"), 0o644)
	setOwner(t, s1, deadPID(t)) // the writer was killed

	s2, resumed, err := StageResumable(dir, "k1")
	if err != nil || !resumed || s2 != s1 {
		t.Fatalf("resume: %s resumed=%v err=%v", s2, resumed, err)
	}
	if _, err := os.Stat(filepath.Join(s2, "kept")); err != nil {
		t.Errorf("content lost on resume: %v", err)
	}

	setOwner(t, s1, os.Getppid()) // a live process owns it
	if _, _, err := StageResumable(dir, "k1"); err == nil || !strings.Contains(err.Error(), "in use by process") {
		t.Errorf("live owner: err = %v", err)
	}

	setOwner(t, s1, deadPID(t))
	s3, resumed, err := StageResumable(dir, "k2") // inputs changed
	if err != nil || resumed {
		t.Fatalf("new key: resumed=%v err=%v", resumed, err)
	}
	if _, err := os.Stat(s1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("staging of the old key not removed: %v", err)
	}
	if _, _, err := StageResumable(dir, "bad/key"); err == nil {
		t.Error("a key with '/' accepted")
	}
	Discard(s3)
	if err := Discard(parent); err == nil {
		t.Error("Discard removed a folder that is not a staging folder")
	}
}

func TestStageRejectsHiddenNames(t *testing.T) {
	if _, err := Stage(filepath.Join(t.TempDir(), ".hidden")); err == nil {
		t.Error("Stage accepted an artifact name starting with '.'")
	}
}

func setRemoteOwner(t *testing.T, staging string, age time.Duration) {
	t.Helper()
	data, _ := json.Marshal(owner{PID: 4242, Host: "node-elsewhere"})
	path := filepath.Join(staging, ownerFile)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	if err := os.Chtimes(path, when, when); err != nil {
		t.Fatal(err)
	}
}

// TestRemoteOwnerLease checks the takeover of a staging folder left by a
// process on another host: refused while its owner file is fresh, resumed
// once it has been silent for over Lease.
func TestRemoteOwnerLease(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "shard-3")
	s, _, err := StageResumable(dir, "k")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s, "part-00000"), []byte("done"), 0o644)

	setRemoteOwner(t, s, time.Minute)
	_, _, err = StageResumable(dir, "k")
	if err == nil || !strings.Contains(err.Error(), "in use by process 4242 on node-elsewhere (last heard from 1m0s ago)") {
		t.Fatalf("fresh remote owner: err = %v", err)
	}
	if _, err := Stage(dir); err != nil { // a plain Stage leaves it alone
		t.Fatal(err)
	}
	if _, err := os.Stat(s); err != nil {
		t.Fatalf("Stage removed a live remote staging folder: %v", err)
	}

	setRemoteOwner(t, s, Lease+time.Minute)
	s2, resumed, err := StageResumable(dir, "k")
	if err != nil || !resumed || s2 != s {
		t.Fatalf("silent remote owner: %s resumed=%v err=%v", s2, resumed, err)
	}
	if data, _ := os.ReadFile(filepath.Join(s2, "part-00000")); string(data) != "done" {
		t.Errorf("progress lost on takeover: %q", data)
	}
	if o, ok := readOwner(s2); !ok || !o.self() {
		t.Errorf("owner after takeover = %+v, want this process", o)
	}
}

// TestCommitAfterTakeover checks that a process whose staging folder was
// taken over does not commit it.
func TestCommitAfterTakeover(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cutouts")
	s := stage(t, dir)
	if err := WriteManifest(s, manifest("fp")); err != nil {
		t.Fatal(err)
	}
	setRemoteOwner(t, s, 0)
	if err := Commit(s, dir); err == nil || !strings.Contains(err.Error(), "taken over by process 4242 on node-elsewhere") {
		t.Fatalf("commit after takeover: err = %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("taken-over staging folder committed: %v", err)
	}
}

// TestHeartbeat checks that owner files are refreshed while held, and
// dropped once committed, discarded or taken over.
func TestHeartbeat(t *testing.T) {
	parent := t.TempDir()
	stale := time.Now().Add(-time.Hour)
	var held [3]string
	for i := range held {
		s, err := Stage(filepath.Join(parent, fmt.Sprintf("a%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		held[i] = s
		os.Chtimes(filepath.Join(s, ownerFile), stale, stale)
	}
	beats.beat(time.Now())
	for _, s := range held {
		info, err := os.Stat(filepath.Join(s, ownerFile))
		if err != nil || time.Since(info.ModTime()) > time.Minute {
			t.Fatalf("owner file of %s not refreshed: %v %v", s, info.ModTime(), err)
		}
	}

	WriteManifest(held[0], manifest("fp"))
	if err := Commit(held[0], filepath.Join(parent, "a0")); err != nil {
		t.Fatal(err)
	}
	Discard(held[1])
	setRemoteOwner(t, held[2], 0)
	beats.beat(time.Now())
	for _, s := range held {
		if beats.held(filepath.Join(s, ownerFile)) {
			t.Errorf("owner file of %s still refreshed", s)
		}
	}
	if o, _ := readOwner(held[2]); o.Host != "node-elsewhere" {
		t.Errorf("heartbeat overwrote the new owner: %+v", o)
	}
}

// TestAbandonedByArtifacttest checks that the owner artifacttest.Abandon
// writes is one Stage takes for an exited process.
func TestAbandonedByArtifacttest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cutouts")
	old := stage(t, dir)
	artifacttest.Abandon(t, dir)
	if _, err := Stage(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("abandoned staging folder %s still there: %v", old, err)
	}
}
