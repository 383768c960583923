package table

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/astroformer/astroformer/artifact"
)

// Verify recomputes the size and SHA-256 of every part of the table in dir
// and compares them with the manifest.
func Verify(dir string) error {
	m, err := artifact.ReadManifest(dir)
	if err != nil {
		return err
	}
	if m.Format != artifact.TableFormat {
		return fmt.Errorf("%s: format %q is not a table (%s)", dir, m.Format, artifact.TableFormat)
	}
	for _, p := range m.Parts {
		if err := verifyPart(filepath.Join(dir, p.File), p); err != nil {
			return err
		}
	}
	return nil
}

func verifyPart(path string, p artifact.Part) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	if n != p.Bytes {
		return fmt.Errorf("%s: %d bytes, but the manifest records %d: truncated or modified", path, n, p.Bytes)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != p.SHA256 {
		return fmt.Errorf("%s: SHA-256 %s, but the manifest records %s: modified", path, sum, p.SHA256)
	}
	return nil
}
