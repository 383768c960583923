package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/astroformer/astroformer/internal/safetensors"
)

// Metadata keys of a checkpoint's safetensors __metadata__ map. MetaKey holds
// the whole Meta as JSON; the others are flat copies for people and tools
// that read the header (the reference test vectors use the same flat keys).
const (
	MetaKey        = "astroformer.meta"
	MetaVariant    = "variant"
	MetaImageH     = "image_height"
	MetaImageW     = "image_width"
	MetaInChans    = "in_chans"
	MetaClasses    = "classes"
	MetaClassNames = "class_names" // JSON array
	MetaConfig     = "config"      // JSON {"embed_dim","depths","stem_width","head_hidden"}, as the reference writes it; "block_type" too for a layout other than DefaultLayout
)

// Meta is what a checkpoint carries besides its tensors, so that one file is
// enough to rebuild the model and use it.
type Meta struct {
	Variant    string            `json:"variant"`
	ImageH     int               `json:"image_height"`
	ImageW     int               `json:"image_width"`
	InChans    int               `json:"in_chans"`
	Classes    int               `json:"classes"`
	ClassNames []string          `json:"class_names,omitempty"`
	Normalize  Normalize         `json:"normalize"`
	Provenance map[string]string `json:"provenance,omitempty"` // job, stage, epoch, step, dataset, producer, created, …
}

// Normalize is the per-channel normalisation applied to [0,1] pixels before
// the network: (x - Mean[c]) / Std[c]. Empty slices mean none.
type Normalize struct {
	Mean []float32 `json:"mean,omitempty"`
	Std  []float32 `json:"std,omitempty"`
}

// LoadOptions controls how a state dict is applied to a model.
type LoadOptions struct {
	// Partial loads every tensor whose name and shape match and reports the
	// rest instead of failing on missing, unexpected or mis-shaped tensors;
	// for example a checkpoint whose head has another class count.
	Partial bool
	// Skip, when set, names model tensors to leave untouched (e.g. the head
	// when fine-tuning); a file tensor it names is ignored.
	Skip func(name string) bool
}

// Report says what Apply did. Every list is in state_dict order, file-only
// names in file order.
type Report struct {
	Loaded     []string
	Skipped    []string // named by LoadOptions.Skip, or derived buffers (relative_position_index)
	Missing    []string // expected by the model, absent from the file
	Unexpected []string // in the file, unknown to the model
	Mismatched []string // "name: shape [..] in file, model expects [..]"; not loaded
}

func (r Report) ok() bool {
	return len(r.Missing) == 0 && len(r.Unexpected) == 0 && len(r.Mismatched) == 0
}

// String summarises the report in one line.
func (r Report) String() string {
	return fmt.Sprintf("%d loaded, %d skipped, %d missing, %d unexpected, %d with the wrong shape",
		len(r.Loaded), len(r.Skipped), len(r.Missing), len(r.Unexpected), len(r.Mismatched))
}

// StateDict is the tensors of a checkpoint file, read on demand. Close it
// when done.
type StateDict struct {
	path string
	file *safetensors.File
}

// Close closes the checkpoint file.
func (sd *StateDict) Close() error { return sd.file.Close() }

// Path returns the file the state dict was read from.
func (sd *StateDict) Path() string { return sd.path }

// Names returns the tensor names, sorted.
func (sd *StateDict) Names() []string {
	ts := sd.file.Tensors()
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return names
}

// Shape returns the shape of the named tensor.
func (sd *StateDict) Shape(name string) ([]int, bool) {
	t, ok := sd.file.Tensor(name)
	return t.Shape, ok
}

// Float32 reads the named tensor, converted to float32. Unlike Apply it
// does not check the values: see NonFinite.
func (sd *StateDict) Float32(name string) ([]float32, error) { return sd.file.Float32(name) }

// SaveWeights writes params, buffers and meta to path as one safetensors
// file, atomically: a temporary file in the same folder is written, synced
// and renamed over path, and the folder is synced. Buffers of kind
// NumBatchesTracked are written as I64 scalars, everything else as F32. The
// "config" metadata entry is written when meta.Variant names a variant of
// Variants.
func SaveWeights(path string, params []*Param, buffers []*Buffer, meta Meta) error {
	var cfg *Config
	if c, err := Lookup(meta.Variant); err == nil {
		cfg = &c
	}
	return saveWeights(path, params, buffers, meta, cfg)
}

// saveWeights is SaveWeights with the Config of the "config" metadata entry
// given, nil for none.
func saveWeights(path string, params []*Param, buffers []*Buffer, meta Meta, cfg *Config) error {
	if len(meta.ClassNames) > 0 && len(meta.ClassNames) != meta.Classes {
		return fmt.Errorf("model: save %s: %d class names for %d classes", path, len(meta.ClassNames), meta.Classes)
	}
	tensors := make([]safetensors.Tensor, 0, len(params)+len(buffers))
	for _, p := range params {
		if len(p.Data) != p.Size() {
			return fmt.Errorf("model: save %s: parameter %s has %d values, shape %v needs %d", path, p.Name, len(p.Data), p.Shape, p.Size())
		}
		tensors = append(tensors, safetensors.F32Tensor(p.Name, p.Shape, p.Data))
	}
	for _, b := range buffers {
		if len(b.Data) != b.Size() {
			return fmt.Errorf("model: save %s: buffer %s has %d values, shape %v needs %d", path, b.Name, len(b.Data), b.Shape, b.Size())
		}
		if b.Kind == NumBatchesTracked {
			tensors = append(tensors, safetensors.I64Tensor(b.Name, b.Shape, []int64{int64(b.Data[0])}))
			continue
		}
		tensors = append(tensors, safetensors.F32Tensor(b.Name, b.Shape, b.Data))
	}
	md, err := encodeMeta(meta, cfg)
	if err != nil {
		return fmt.Errorf("model: save %s: %w", path, err)
	}
	return writeAtomic(path, func(f *os.File) error { return safetensors.Write(f, tensors, md) })
}

func writeAtomic(path string, write func(*os.File) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("model: save: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("model: save %s: %w", path, err)
		}
	}()
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes 0600; checkpoints are shared
		return err
	}
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// encodeMeta returns the metadata of a checkpoint: m as JSON, its flat
// copies and, when c is not nil, c as the reference's "config" entry.
func encodeMeta(m Meta, c *Config) (map[string]string, error) {
	full, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	md := map[string]string{
		"format":    "pt", // what Hugging Face loaders expect of a PyTorch state_dict
		MetaKey:     string(full),
		MetaVariant: m.Variant,
		MetaImageH:  strconv.Itoa(m.ImageH),
		MetaImageW:  strconv.Itoa(m.ImageW),
		MetaInChans: strconv.Itoa(m.InChans),
		MetaClasses: strconv.Itoa(m.Classes),
	}
	if len(m.ClassNames) > 0 {
		names, _ := json.Marshal(m.ClassNames)
		md[MetaClassNames] = string(names)
	}
	if c != nil {
		rc := referenceConfig{EmbedDim: c.Dims[:], Depths: c.Depths[:], StemWidth: c.StemWidth, HeadHidden: c.HeadHidden}
		if c.Blocks() != (Config{}).Blocks() {
			rc.BlockType = c.Layout
		}
		cfg, _ := json.Marshal(rc)
		md[MetaConfig] = string(cfg)
	}
	return md, nil
}

// referenceConfig is the "config" metadata entry written by the reference
// make_vectors.py, plus the layout when it is not DefaultLayout.
type referenceConfig struct {
	EmbedDim   []int  `json:"embed_dim"`
	Depths     []int  `json:"depths"`
	StemWidth  int    `json:"stem_width"`
	HeadHidden int    `json:"head_hidden"`
	BlockType  string `json:"block_type,omitempty"`
}

// decodeMeta reads Meta from MetaKey when present, else from the flat keys
// (as written by the reference or by hand); absent flat keys stay zero.
func decodeMeta(md map[string]string) (Meta, error) {
	var m Meta
	if full, ok := md[MetaKey]; ok {
		if err := json.Unmarshal([]byte(full), &m); err != nil {
			return Meta{}, fmt.Errorf("metadata %s: %w", MetaKey, err)
		}
		return m, nil
	}
	m.Variant = md[MetaVariant]
	for key, dst := range map[string]*int{MetaImageH: &m.ImageH, MetaImageW: &m.ImageW, MetaInChans: &m.InChans, MetaClasses: &m.Classes} {
		v, ok := md[key]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return Meta{}, fmt.Errorf("metadata %s: %q is not an integer", key, v)
		}
		*dst = n
	}
	if v, ok := md[MetaClassNames]; ok {
		if err := json.Unmarshal([]byte(v), &m.ClassNames); err != nil {
			return Meta{}, fmt.Errorf("metadata %s: %w", MetaClassNames, err)
		}
	}
	return m, nil
}

// ReadCheckpoint opens a safetensors checkpoint, checks its header and
// decodes its metadata. Tensors are read later, by Apply or Float32. A file
// without our metadata (e.g. exported from PyTorch) gives a zero Meta, filled
// from whatever flat keys it has.
func ReadCheckpoint(path string) (*StateDict, Meta, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("model: %w", err)
	}
	meta, err := decodeMeta(f.Metadata())
	if err != nil {
		f.Close()
		return nil, Meta{}, fmt.Errorf("model: checkpoint %s: %w", path, err)
	}
	return &StateDict{path: path, file: f}, meta, nil
}

// target is one model tensor a state dict may fill.
type target struct {
	spec ParamSpec
	data []float32
}

// isDerived reports whether a file tensor is a buffer the model computes
// itself; timm checkpoints of some versions store it.
func isDerived(name string) bool {
	return strings.HasSuffix(name, ".relative_position_index")
}

// plan matches the file against the model without reading tensor data.
func (sd *StateDict) plan(targets []target, opt LoadOptions) (Report, []target) {
	var r Report
	var load []target
	known := make(map[string]bool, len(targets))
	for _, t := range targets {
		known[t.spec.Name] = true
		if opt.Skip != nil && opt.Skip(t.spec.Name) {
			r.Skipped = append(r.Skipped, t.spec.Name)
			continue
		}
		shape, ok := sd.Shape(t.spec.Name)
		switch {
		case !ok:
			r.Missing = append(r.Missing, t.spec.Name)
		case !slices.Equal(shape, t.spec.Shape):
			r.Mismatched = append(r.Mismatched, fmt.Sprintf("%s: shape %v in file, model expects %v", t.spec.Name, shape, t.spec.Shape))
		default:
			load = append(load, t)
		}
	}
	for _, name := range sd.Names() {
		switch {
		case known[name]:
		case isDerived(name) || opt.Skip != nil && opt.Skip(name):
			r.Skipped = append(r.Skipped, name)
		default:
			r.Unexpected = append(r.Unexpected, name)
		}
	}
	return r, load
}

// Apply checks every tensor name and shape of sd against params and buffers,
// then copies the matching tensors in, converting them to float32. Unless
// opt.Partial is set, any missing, unexpected or mis-shaped tensor is an
// error naming the first few, and nothing is loaded. Every tensor copied is
// checked for NaN and ±Inf, partial load or not: the first one that has any
// stops the load with a *NonFiniteError. After such an error, or one
// reading the file, the tensors copied so far stay in params and buffers,
// which should then be discarded. The returned Report lists what was
// loaded, skipped, missing, unexpected and mis-shaped.
func (sd *StateDict) Apply(params []*Param, buffers []*Buffer, opt LoadOptions) (Report, error) {
	targets := make([]target, 0, len(params)+len(buffers))
	for _, p := range params {
		targets = append(targets, target{p.ParamSpec, p.Data})
	}
	for _, b := range buffers {
		targets = append(targets, target{b.ParamSpec, b.Data})
	}
	for _, t := range targets {
		if len(t.data) != t.spec.Size() {
			return Report{}, fmt.Errorf("model: load %s: model tensor %s has %d values, shape %v needs %d",
				sd.path, t.spec.Name, len(t.data), t.spec.Shape, t.spec.Size())
		}
	}
	r, load := sd.plan(targets, opt)
	if !opt.Partial && !r.ok() {
		return r, fmt.Errorf("model: load %s: checkpoint does not match the model: %s (a partial load loads the rest)",
			sd.path, mismatchSummary(r))
	}
	for _, t := range load {
		if err := sd.file.ReadFloat32(t.spec.Name, t.data); err != nil {
			return r, fmt.Errorf("model: load %s: %w", sd.path, err)
		}
		if count, first := NonFinite(t.data); count > 0 {
			return r, &NonFiniteError{File: sd.path, Tensor: t.spec.Name, Count: count, First: first, Value: t.data[first]}
		}
		r.Loaded = append(r.Loaded, t.spec.Name)
	}
	return r, nil
}

// NonFiniteError is the error of loading a checkpoint tensor that holds NaN
// or infinite values: a model trained into divergence, or a corrupt file.
type NonFiniteError struct {
	File   string  // the checkpoint file
	Tensor string  // the tensor's state_dict (timm) name
	Count  int     // how many of its values are NaN or ±Inf
	First  int     // the flat (row-major) index of the first one
	Value  float32 // the value there: NaN, +Inf or -Inf
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("model: load %s: tensor %s has %d non-finite value(s), the first (%v) at flat index %d; the checkpoint is corrupt or its training diverged",
		e.File, e.Tensor, e.Count, e.Value, e.First)
}

// NonFinite returns how many values of x are NaN or ±Inf and the index of
// the first one, or (0, -1) when all are finite. It makes one pass over x.
func NonFinite(x []float32) (count, first int) {
	const exponent = 0x7f800000 // all ones: Inf or NaN
	first = -1
	for i, v := range x {
		if math.Float32bits(v)&exponent == exponent {
			if count == 0 {
				first = i
			}
			count++
		}
	}
	return count, first
}

// mismatchSummary names the first few problems of each kind.
func mismatchSummary(r Report) string {
	const few = 3
	var parts []string
	add := func(what string, list []string, sep string) {
		if len(list) == 0 {
			return
		}
		shown := list[:min(few, len(list))]
		s := fmt.Sprintf("%d %s (%s", len(list), what, strings.Join(shown, sep))
		if len(list) > few {
			s += sep + "…"
		}
		parts = append(parts, s+")")
	}
	add("with the wrong shape", r.Mismatched, "; ")
	add("missing from the file", r.Missing, ", ")
	add("unknown to the model", r.Unexpected, ", ")
	return strings.Join(parts, "; ")
}

// InferSpec works out the Spec of the model that produced sd from its tensor
// shapes alone, so that a state_dict exported from the PyTorch Astroformer
// loads without our metadata:
//
//   - in_chans and the stem width from stem.conv1.weight;
//   - each stage's block type from its first block's tensors (conv3_1x1 for
//     MBConv, attn.proj for a transformer), its width from the first
//     dimension of that weight and its depth from the highest block index;
//   - the head width and class count from head.pre_logits.fc and head.fc;
//   - the image size from the relative position table of the first
//     transformer stage, which has (2H-1)(2W-1) rows for an H x W grid; the
//     grid of stage n is the image scaled down 2^(n+2) times (a 32H x 32W
//     image for stage 3).
//
// The table's row count rarely pins H and W down (15 rows fit 64x96, 96x64,
// 32x256 and 256x32 at stage 3), so the image size comes from meta.ImageH
// and meta.ImageW when set (and must agree with the table); otherwise a
// square image is assumed when the row count is an odd square, and anything
// else is an error listing the candidates. A model without a transformer
// stage takes the image size from meta alone. meta.InChans and
// meta.Classes, when set, must agree with the shapes. The variant is named
// after the first entry of Variants with the same shape, whose Config the
// spec takes, else meta.Variant, else "custom"; the Layout of an unnamed
// shape is empty for DefaultLayout. The spec is checked to reproduce every
// name and shape of sd.
func InferSpec(sd *StateDict, meta Meta) (Spec, error) {
	s, err := inferSpec(sd, meta)
	if err != nil {
		return Spec{}, fmt.Errorf("model: infer spec of %s: %w", sd.path, err)
	}
	return s, nil
}

// shapeOf returns the shape of the named tensor, which must exist and have
// dims dimensions.
func (sd *StateDict) shapeOf(name string, dims int) ([]int, error) {
	sh, ok := sd.Shape(name)
	if !ok {
		return nil, fmt.Errorf("no tensor %s: not an Astroformer state_dict", name)
	}
	if len(sh) != dims {
		return nil, fmt.Errorf("tensor %s has shape %v, want %d dimensions", name, sh, dims)
	}
	return sh, nil
}

func inferSpec(sd *StateDict, meta Meta) (Spec, error) {
	var s Spec
	stem, err := sd.shapeOf("stem.conv1.weight", 4)
	if err != nil {
		return Spec{}, err
	}
	s.StemWidth, s.InChans = stem[0], stem[1]
	if err := inferStages(sd, &s.Config); err != nil {
		return Spec{}, err
	}
	hidden, err := sd.shapeOf("head.pre_logits.fc.weight", 2)
	if err != nil {
		return Spec{}, err
	}
	fc, err := sd.shapeOf("head.fc.weight", 2)
	if err != nil {
		return Spec{}, err
	}
	s.HeadHidden, s.Classes = hidden[0], fc[0]
	if s.ImageH, s.ImageW, err = inferImageSize(sd, s.Config, meta); err != nil {
		return Spec{}, err
	}
	if meta.InChans != 0 && meta.InChans != s.InChans {
		return Spec{}, fmt.Errorf("metadata says %d input channels, stem.conv1.weight has %d", meta.InChans, s.InChans)
	}
	if meta.Classes != 0 && meta.Classes != s.Classes {
		return Spec{}, fmt.Errorf("metadata says %d classes, head.fc.weight has %d", meta.Classes, s.Classes)
	}
	s.Variant = "custom"
	if meta.Variant != "" {
		s.Variant = meta.Variant
	}
	s.Name = s.Variant
	for _, c := range Variants() {
		if sameShape(c, s.Config) {
			s.Variant, s.Config = c.Name, c
			break
		}
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	ps, bs := ParamSpecs(s)
	targets := make([]target, 0, len(ps)+len(bs))
	for _, p := range append(ps, bs...) {
		targets = append(targets, target{spec: p})
	}
	if r, _ := sd.plan(targets, LoadOptions{}); !r.ok() {
		return Spec{}, fmt.Errorf("inferred %s at %dx%d does not reproduce the file: %s", s.Variant, s.ImageH, s.ImageW, mismatchSummary(r))
	}
	return s, nil
}

// inferStages sets the depth, width and block type of every stage of c from
// the names and shapes of the blocks in sd.
func inferStages(sd *StateDict, c *Config) error {
	for _, name := range sd.Names() {
		if st, b, ok := blockOf(name); ok && b+1 > c.Depths[st] {
			c.Depths[st] = b + 1
		}
	}
	var layout [4]byte
	for st := range 4 {
		first := fmt.Sprintf("stages.%d.blocks.0.", st)
		for _, t := range []BlockType{MBConv, Transformer} {
			if _, ok := sd.Shape(first + t.outWeight()); !ok {
				continue
			}
			w, err := sd.shapeOf(first+t.outWeight(), 4)
			if err != nil {
				return err
			}
			c.Dims[st], layout[st] = w[0], byte(t)
			break
		}
		if layout[st] == 0 {
			return fmt.Errorf("no tensor %s%s or %s%s: not an Astroformer state_dict",
				first, MBConv.outWeight(), first, Transformer.outWeight())
		}
	}
	if l := string(layout[:]); l != DefaultLayout {
		c.Layout = l
	}
	return nil
}

// blockOf returns the stage and block index of a tensor named
// "stages.<st>.blocks.<b>.…", with ok false for any other name.
func blockOf(name string) (st, b int, ok bool) {
	rest, found := strings.CutPrefix(name, "stages.")
	if !found || len(rest) < 2 || rest[0] < '0' || rest[0] > '3' {
		return 0, 0, false
	}
	rest, found = strings.CutPrefix(rest[1:], ".blocks.")
	if !found {
		return 0, 0, false
	}
	idx, _, _ := strings.Cut(rest, ".")
	b, err := strconv.Atoi(idx)
	return int(name[len("stages.")] - '0'), b, err == nil && b >= 0
}

// inferImageSize returns the image size that the relative position table of
// the first transformer stage of c implies, checked against meta's size
// when that is set. A network without a transformer stage has no such
// table and takes meta's size.
func inferImageSize(sd *StateDict, c Config, meta Meta) (int, int, error) {
	for st, t := range c.Blocks() {
		if t != Transformer {
			continue
		}
		table, err := sd.shapeOf(fmt.Sprintf("stages.%d.blocks.0.attn.rel_pos.relative_position_bias_table", st), 2)
		if err != nil {
			return 0, 0, err
		}
		if want := c.Dims[st] / DimHead; table[1] != want {
			return 0, 0, fmt.Errorf("relative position table of stage %d has %d heads, its width %d implies %d", st, table[1], c.Dims[st], want)
		}
		return imageSize(table[0], st, meta.ImageH, meta.ImageW)
	}
	if meta.ImageH <= 0 || meta.ImageW <= 0 {
		return 0, 0, errors.New("no transformer stage tells the image size; give the image size")
	}
	return meta.ImageH, meta.ImageW, nil
}

// imageSize returns the image size whose grid at stage st gives a relative
// position table of the given row count; see InferSpec.
func imageSize(rows, st, h, w int) (int, int, error) {
	scale := 4 << st // the stem and each stage up to st halve the grid
	if h > 0 || w > 0 {
		gh, gw := (h-1)/scale+1, (w-1)/scale+1
		if h <= 0 || w <= 0 || (2*gh-1)*(2*gw-1) != rows {
			return 0, 0, fmt.Errorf("image size %dx%d gives a %dx%d stage-%d grid and a relative position table of %d rows, the file has %d",
				h, w, gh, gw, st, (2*gh-1)*(2*gw-1), rows)
		}
		return h, w, nil
	}
	var candidates []string
	for a := 1; a <= rows; a += 2 {
		if rows%a != 0 || (rows/a)%2 == 0 {
			continue
		}
		b := rows / a
		if a == b {
			return scale * (a + 1) / 2, scale * (b + 1) / 2, nil
		}
		candidates = append(candidates, fmt.Sprintf("%dx%d", scale*(a+1)/2, scale*(b+1)/2))
	}
	if len(candidates) == 0 {
		return 0, 0, fmt.Errorf("relative position table has %d rows, which is not (2H-1)(2W-1) for any grid", rows)
	}
	return 0, 0, errors.New("image size is ambiguous: the relative position table has " + strconv.Itoa(rows) +
		" rows, which fits images of " + strings.Join(candidates, ", ") + "; give the image size")
}

// Save writes the parameters and buffers of n with meta to path (see
// SaveWeights). Zero Variant, ImageH, ImageW, InChans and Classes in meta are
// filled in from the network's spec; set ones must agree with it.
func Save(path string, n *Net, meta Meta) error {
	s := n.Spec()
	if err := fillMeta(&meta, s); err != nil {
		return fmt.Errorf("model: save %s: %w", path, err)
	}
	return saveWeights(path, n.Params(), n.Buffers(), meta, &s.Config)
}

// fillMeta sets the zero fields of m that describe the model from s and
// checks the others.
func fillMeta(m *Meta, s Spec) error {
	if m.Variant == "" {
		m.Variant = s.Variant
	}
	for _, f := range []struct {
		what string
		dst  *int
		v    int
	}{{"image height", &m.ImageH, s.ImageH}, {"image width", &m.ImageW, s.ImageW}, {"in_chans", &m.InChans, s.InChans}, {"classes", &m.Classes, s.Classes}} {
		if *f.dst == 0 {
			*f.dst = f.v
		} else if *f.dst != f.v {
			return fmt.Errorf("metadata %s %d disagrees with the model's %d", f.what, *f.dst, f.v)
		}
	}
	return nil
}

// Load builds the network a checkpoint describes and loads its tensors. The
// spec comes from InferSpec, so a state_dict exported from PyTorch without
// our metadata loads too, unless its image size is ambiguous (non-square):
// then build the network with New and use LoadInto. Tensors named by
// opt.Skip keep their fresh initialisation. A tensor holding NaN or ±Inf
// is refused with a *NonFiniteError (see Apply). The returned Meta has the
// model fields filled in from the spec.
func Load(path string, opt LoadOptions) (*Net, Meta, error) {
	sd, meta, err := ReadCheckpoint(path)
	if err != nil {
		return nil, Meta{}, err
	}
	defer sd.Close()
	s, err := InferSpec(sd, meta)
	if err != nil {
		return nil, Meta{}, err
	}
	n, err := New(s, 0)
	if err != nil {
		return nil, Meta{}, err
	}
	if _, err := sd.Apply(n.Params(), n.Buffers(), opt); err != nil {
		return nil, Meta{}, err
	}
	if err := fillMeta(&meta, s); err != nil {
		return nil, Meta{}, fmt.Errorf("model: load %s: %w", path, err)
	}
	return n, meta, nil
}

// LoadInto loads a checkpoint into an existing network, typically one built
// with another class count or image size for fine-tuning: with opt.Partial
// (or opt.Skip naming the head) every tensor whose name and shape match is
// loaded and the Report lists the rest. A tensor holding NaN or ±Inf is
// refused with a *NonFiniteError, and n should then be discarded (see
// Apply).
func LoadInto(path string, n *Net, opt LoadOptions) (Report, Meta, error) {
	sd, meta, err := ReadCheckpoint(path)
	if err != nil {
		return Report{}, Meta{}, err
	}
	defer sd.Close()
	r, err := sd.Apply(n.Params(), n.Buffers(), opt)
	return r, meta, err
}
