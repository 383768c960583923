package predict

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/modelfolder"
)

// Classifier is the network prediction runs: in evaluation mode, a batch of
// NCHW float32 images [batch, InChans, ImageH, ImageW] in, logits
// [batch, Classes] out. *model.Net is one.
type Classifier interface {
	Forward(x []float32, batch int) ([]float32, error)
}

// Embedder is a Classifier that also gives each image's embedding, the
// representation its classifier reads, [batch, EmbeddingWidth()]. *model.Net
// is one.
type Embedder interface {
	Classifier
	ForwardEmbed(x []float32, batch int) (logits, embeddings []float32, err error)
	EmbeddingWidth() int
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
	BestCheckpoint  = modelfolder.Best
	FinalCheckpoint = modelfolder.Final
	policyFile      = "policy.json"
)

// CheckpointFile returns the checkpoint to load from ref; see
// modelfolder.Checkpoint.
func CheckpointFile(ref, name string) (string, error) { return modelfolder.Checkpoint(ref, name) }

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

func fileSHA256(path string) (string, error) { return modelfolder.FileSHA256(path) }

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
