package predict

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/schemas"
)

// Classifier is the network prediction runs: in evaluation mode, a batch of
// NCHW float32 images [batch, InChans, ImageH, ImageW] in, logits
// [batch, Classes] out. *model.Net is one.
type Classifier interface {
	Forward(x []float32, batch int) ([]float32, error)
}

// Model is a checkpoint loaded for prediction.
type Model struct {
	Net    Classifier
	Meta   model.Meta // image size, channels, classes, class names, normalisation
	Path   string     // the checkpoint file
	SHA256 string     // hex SHA-256 of the file
	// CropPct is the fraction of the resized image kept by the evaluation
	// centre crop the model was validated with, 0 when unknown; see
	// LoadModel.
	CropPct float64
}

// Checkpoint files in a model folder written by the train stage.
const (
	BestCheckpoint  = "best.safetensors"
	FinalCheckpoint = "model.safetensors"
	policyFile      = "policy.json"
)

// CheckpointFile returns the checkpoint to load from ref: ref itself when it
// is a file, else the file called name in the model folder ref (".safetensors"
// may be left off name: "best", "model", "best_ema"). An empty name picks
// best.safetensors, or model.safetensors when there is no best one.
func CheckpointFile(ref, name string) (string, error) {
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
	if _, err := artifact.ReadManifest(ref); err != nil {
		return "", fmt.Errorf("model folder %s: %w", ref, err)
	}
	if name != "" {
		if !strings.HasSuffix(name, ".safetensors") {
			name += ".safetensors"
		}
		path := filepath.Join(ref, name)
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("model folder %s: %w", ref, err)
		}
		return path, nil
	}
	for _, n := range []string{BestCheckpoint, FinalCheckpoint} {
		path := filepath.Join(ref, n)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("model folder %s has neither %s nor %s", ref, BestCheckpoint, FinalCheckpoint)
}

// LoadModel loads the checkpoint file path (see model.Load) and hashes it.
// The evaluation crop comes from the checkpoint's provenance (key
// "crop_pct", which the train stage records), else from the policy.json
// next to the checkpoint (key "policy.crop_pct" or "crop_pct"); it stays 0
// (unknown) otherwise.
func LoadModel(path string) (*Model, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	net, meta, err := model.Load(path, model.LoadOptions{})
	if err != nil {
		return nil, err
	}
	m := &Model{Net: net, Meta: meta, Path: path, SHA256: sum}
	if m.CropPct, err = cropPct(path, meta); err != nil {
		return nil, err
	}
	return m, nil
}

func fileSHA256(path string) (string, error) {
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

func cropPct(checkpoint string, meta model.Meta) (float64, error) {
	if v, ok := meta.Provenance["crop_pct"]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("checkpoint %s: provenance crop_pct %q: %w", checkpoint, v, err)
		}
		return f, nil
	}
	path := filepath.Join(filepath.Dir(checkpoint), policyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var rec struct {
		Policy struct {
			CropPct float64 `json:"crop_pct"`
		} `json:"policy"`
		CropPct float64 `json:"crop_pct"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return cmp.Or(rec.Policy.CropPct, rec.CropPct), nil
}

// ClassNames returns the checkpoint's class names, or "class_0",
// "class_1", ... when it has none (a state_dict exported from PyTorch).
func (m *Model) ClassNames() []string {
	if len(m.Meta.ClassNames) == m.Meta.Classes {
		return m.Meta.ClassNames
	}
	names := make([]string, m.Meta.Classes)
	for i := range names {
		names[i] = "class_" + strconv.Itoa(i)
	}
	return names
}

// checkClassNames checks names for use as the model's classes.
func checkClassNames(names []string, classes int) error {
	if len(names) != classes {
		return fmt.Errorf("%d class names for a model of %d classes", len(names), classes)
	}
	_, err := schemas.ProbColumns(names)
	return err
}
