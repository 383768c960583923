// Package artifact writes folders atomically and describes them with a
// manifest.
//
// An artifact is a folder under the work directory produced by one stage. It
// is written in a staging folder next to its final place (Stage), finished by
// writing _manifest.json (WriteManifest) and moved into place with one rename
// after everything was flushed to disk (Commit). A folder without a valid
// _manifest.json is never complete: readers use ReadManifest to tell.
package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ManifestFile is the name of the manifest inside an artifact folder.
const ManifestFile = "_manifest.json"

// Formats of the artifacts astroformer writes.
const (
	TableFormat = "astroformer.table/1"
	ModelFormat = "astroformer.model/1"
)

// Manifest describes a committed artifact. The header fields are common to
// every artifact; tables add the schema fingerprint, row count and parts.
type Manifest struct {
	Format      string          `json:"format"`      // TableFormat, ModelFormat, ...
	Name        string          `json:"name"`        // artifact name (folder under the workdir)
	Stage       string          `json:"stage"`       // stage instance that produced it
	Kind        string          `json:"kind"`        // kind of that stage
	Fingerprint string          `json:"fingerprint"` // stage fingerprint: kind, params, inputs, producer
	Params      json.RawMessage `json:"params,omitempty"`
	Producer    string          `json:"producer"` // astroformer version
	Created     time.Time       `json:"created"`

	SchemaFingerprint string            `json:"schema_fingerprint,omitempty"`
	Rows              int64             `json:"rows,omitempty"`
	Parts             []Part            `json:"parts,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`

	// Files lists the folder's other files with their sizes, and Digest is
	// the SHA-256 of the manifest itself; WriteManifest fills both, so that
	// Check notices a removed file or an edited manifest. Manifests written
	// before they existed have neither, and are not checked for them.
	Files  []File `json:"files,omitempty"`
	Digest string `json:"digest,omitempty"`
}

// Part is one data file of a table artifact.
type Part struct {
	File   string `json:"file"` // name relative to the artifact folder
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // hex
}

// notCommittedError reports a folder without _manifest.json. It matches
// fs.ErrNotExist so that callers can test for a missing artifact.
type notCommittedError struct{ dir string }

func (e *notCommittedError) Error() string {
	return fmt.Sprintf("not a committed artifact (no %s): %s", ManifestFile, e.dir)
}

func (e *notCommittedError) Is(target error) bool { return target == fs.ErrNotExist }

// ReadManifest reads and checks dir/_manifest.json. When the folder or its
// manifest does not exist the error matches fs.ErrNotExist.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &notCommittedError{dir: dir}
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: corrupt manifest: %w", path, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%s: invalid manifest: %w", path, err)
	}
	if m.Digest != "" {
		if d, err := m.digest(); err != nil || d != m.Digest {
			return nil, &DamagedError{Dir: dir, File: ManifestFile, Reason: "its digest does not match its content: edited or damaged"}
		}
	}
	if len(m.Params) > 0 {
		// WriteManifest indents Params with the rest; give them back compact.
		var buf bytes.Buffer
		if err := json.Compact(&buf, m.Params); err == nil {
			m.Params = buf.Bytes()
		}
	}
	return &m, nil
}

func (m *Manifest) check() error {
	if !strings.HasPrefix(m.Format, "astroformer.") {
		return fmt.Errorf("format %q is not an astroformer format", m.Format)
	}
	var rows int64
	for i, p := range m.Parts {
		if p.File == "" || p.File != filepath.Base(p.File) || strings.HasPrefix(p.File, ".") {
			return fmt.Errorf("part %d: file name %q is not a plain name inside the folder", i, p.File)
		}
		if p.Rows < 0 || p.Bytes < 0 {
			return fmt.Errorf("part %d (%s): negative rows or bytes", i, p.File)
		}
		rows += p.Rows
	}
	if len(m.Parts) > 0 && rows != m.Rows {
		return fmt.Errorf("rows %d differ from the sum of the parts' rows %d", m.Rows, rows)
	}
	return nil
}

// WriteManifest writes m as dir/_manifest.json and flushes it to disk. It is
// the last write into a staging folder before Commit. It sets m.Files to the
// folder's files other than the parts, and m.Digest.
func WriteManifest(dir string, m *Manifest) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("write manifest in %s: %w", dir, err)
	}
	files, err := listFiles(dir, m)
	if err != nil {
		return fmt.Errorf("write manifest in %s: %w", dir, err)
	}
	m.Files = files
	if m.Digest, err = m.digest(); err != nil {
		return fmt.Errorf("write manifest in %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write manifest in %s: %w", dir, err)
	}
	return WriteFileSync(filepath.Join(dir, ManifestFile), append(data, '\n'))
}

// WriteFileSync replaces path with data durably: it writes a temporary file
// in the same folder, flushes it, renames it over path and flushes the folder.
func WriteFileSync(path string, data []byte) error {
	dir, base := filepath.Dir(path), filepath.Base(path)
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o644) // CreateTemp makes 0600; tables are shared with other readers
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}
