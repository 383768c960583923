package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// File is a file of an artifact folder that is not a table part: model
// weights, a report, a plot. Its size lets a run notice damage cheaply.
type File struct {
	Name  string `json:"name"` // slash-separated, relative to the artifact folder
	Bytes int64  `json:"bytes"`
}

// DamagedError reports a committed artifact whose files no longer match its
// manifest: a part truncated or removed, a manifest edited by hand.
type DamagedError struct {
	Dir    string
	File   string // the file that differs, relative to Dir; ManifestFile for an edited manifest
	Reason string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("%s: damaged: %s: %s", e.Dir, e.File, e.Reason)
}

// ForeignError reports a folder at an artifact's path that astroformer did
// not commit (it has no valid manifest): the engine never replaces it.
type ForeignError struct {
	Dir    string
	Reason string
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("%s exists and %s; astroformer replaces only folders it committed itself. "+
		"Move it away or choose another output name", e.Dir, e.Reason)
}

// Check reads dir's manifest and checks, cheaply, that the folder still
// holds what the manifest records: every part and file is there with its
// recorded size. Checksums of the data are Verify's job; an edited manifest
// is caught by its digest. A damaged folder gives a *DamagedError.
func Check(dir string) (*Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	sizes := make([]File, 0, len(m.Parts)+len(m.Files))
	for _, p := range m.Parts {
		sizes = append(sizes, File{Name: p.File, Bytes: p.Bytes})
	}
	sizes = append(sizes, m.Files...)
	for _, f := range sizes {
		info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Name)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, &DamagedError{Dir: dir, File: f.Name, Reason: "missing"}
		case err != nil:
			return nil, err
		case info.Size() != f.Bytes:
			return nil, &DamagedError{Dir: dir, File: f.Name,
				Reason: fmt.Sprintf("%d bytes, but the manifest records %d: truncated or modified", info.Size(), f.Bytes)}
		}
	}
	return m, nil
}

// Replaceable reports whether Commit may put an artifact at dir: nothing is
// there, or an empty folder, or a folder astroformer committed (a manifest
// of ours, even one damaged since). Anything else gives a *ForeignError and
// must be left alone.
func Replaceable(dir string) error {
	info, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case info.Mode()&fs.ModeSymlink != 0:
		return &ForeignError{Dir: dir, Reason: "is a symbolic link"}
	case !info.IsDir():
		return &ForeignError{Dir: dir, Reason: "is a file, not a folder"}
	}
	var damaged *DamagedError
	switch _, err := ReadManifest(dir); {
	case err == nil || errors.As(err, &damaged):
		return nil // ours, possibly damaged since: rebuilt
	case !errors.Is(err, fs.ErrNotExist):
		return &ForeignError{Dir: dir, Reason: "its manifest is unreadable (" + err.Error() + ")"}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return &ForeignError{Dir: dir, Reason: fmt.Sprintf("holds %d entries but no %s", len(entries), ManifestFile)}
	}
	return nil
}

// listFiles returns the regular files under dir that m does not already
// describe (its parts, the manifest, the owner file), sorted by name.
func listFiles(dir string, m *Manifest) ([]File, error) {
	skip := map[string]bool{ManifestFile: true, ownerFile: true}
	for _, p := range m.Parts {
		skip[p.File] = true
	}
	var files []File
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skip[rel] {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, File{Name: rel, Bytes: info.Size()})
		return nil
	})
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return files, err
}

// digest is the SHA-256 of m's JSON encoding with Digest empty.
func (m Manifest) digest() (string, error) {
	m.Digest = ""
	data, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
