// Package modelfolder finds the checkpoint to use in a model folder written
// by the train stage, for the stages that read one (predict, and train
// when it fine-tunes).
package modelfolder

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/astroformer/astroformer/artifact"
)

// Checkpoint files of a model folder.
const (
	Best  = "best.safetensors"  // weights of the epoch with the best val top-1
	Final = "model.safetensors" // weights after the last epoch
)

// MetaSelected is the model folder's manifest metadata key that names the
// checkpoint file chosen by the train stage's select attribute.
const MetaSelected = "checkpoint"

// Checkpoint returns the checkpoint to load from ref: ref itself when it is
// a file, else the file called name in the model folder ref
// (".safetensors" may be left off name: "best", "model", "best_ema"). An
// empty name picks the checkpoint the folder's manifest names (MetaSelected),
// or in folders written before selection was recorded best.safetensors,
// else model.safetensors.
func Checkpoint(ref, name string) (string, error) {
	info, err := os.Stat(ref)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if !info.IsDir() {
		if name != "" {
			return "", fmt.Errorf("checkpoint %s is a file; a checkpoint name (%q) only applies to a model folder", ref, name)
		}
		return ref, nil
	}
	m, err := artifact.ReadManifest(ref)
	if err != nil {
		return "", fmt.Errorf("model folder %s: %w", ref, err)
	}
	if name == "" {
		name = m.Metadata[MetaSelected]
	}
	if name != "" {
		if !strings.HasSuffix(name, ".safetensors") {
			name += ".safetensors"
		}
		if filepath.Base(name) != name {
			return "", fmt.Errorf("model folder %s: checkpoint %q is not a file name", ref, name)
		}
		path := filepath.Join(ref, name)
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("model folder %s: %w", ref, err)
		}
		return path, nil
	}
	for _, n := range []string{Best, Final} {
		path := filepath.Join(ref, n)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("model folder %s has neither %s nor %s", ref, Best, Final)
}

// FileSHA256 returns the hex SHA-256 of a file's content.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
