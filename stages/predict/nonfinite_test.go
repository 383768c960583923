package predict

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/stages/internal/sourcetest"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// poisonedNet is a Classifier that returns the logits of a stubNet except
// for the batch positions poison names for a forward call (counted from 1),
// whose logits it sets to the given value.
type poisonedNet struct {
	*stubNet
	poison map[int]map[int]float32 // call -> batch position -> value
}

func (p *poisonedNet) Forward(x []float32, batch int) ([]float32, error) {
	out, err := p.stubNet.Forward(x, batch)
	if err != nil {
		return nil, err
	}
	for i, v := range p.poison[p.calls] {
		if i < batch {
			out[i*p.classes+1] = v
		}
	}
	return out, nil
}

// A model that returns NaN or infinite logits for some rows fails the run
// with an error naming their object_ids, and WriteTable commits nothing.
func TestPredictNonFiniteLogits(t *testing.T) {
	dir := t.TempDir()
	writeCutouts(t, filepath.Join(dir, "cutouts"), 40, 8, 20)
	in := openCutouts(t, filepath.Join(dir, "cutouts"))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	all := map[int]float32{}
	for i := range 20 {
		all[i] = nan
	}
	for _, tt := range []struct {
		what    string
		opt     Options
		poison  map[int]map[int]float32
		rows    []int64  // the rows reported
		batch   [3]int64 // size, first and last row of the batch reported
		listed  string
		resumed int64 // the most rows a rerun can resume: the chunks before the bad batch
	}{
		// Batches of 5 with two views: calls 3 and 4 are the views of rows 5-9.
		{"some rows, some views", Options{TTA: 2, BatchSize: 5, Workers: 2},
			map[int]map[int]float32{3: {4: -inf}, 4: {1: nan, 3: inf, 4: nan}}, []int64{6, 8, 9}, [3]int64{5, 5, 9},
			`object "obj-00006" (row 6), object "obj-00008" (row 8), object "obj-00009" (row 9); check`, 0},
		// The second batch of 20, after the first chunk was written.
		{"a whole batch", Options{BatchSize: 20, Workers: 2}, map[int]map[int]float32{2: all},
			[]int64{20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39}, [3]int64{20, 20, 39},
			`object "obj-00029" (row 29) and 10 more; check`, 20},
	} {
		t.Run(tt.what, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "catalog")
			_, err := predictTable(t, in, out, tt.opt, tt.poison)
			var nf *NonFiniteError
			if !errors.As(err, &nf) {
				t.Fatalf("error %v, want a *NonFiniteError", err)
			}
			var ids []string
			for _, r := range tt.rows {
				ids = append(ids, fmt.Sprintf("obj-%05d", r))
			}
			if !slices.Equal(nf.IDs, ids) || !slices.Equal(nf.Rows, tt.rows) || nf.Checkpoint != "stub.safetensors" {
				t.Errorf("error names %s rows %v %v, want %v %v", nf.Checkpoint, nf.IDs, nf.Rows, ids, tt.rows)
			}
			msg := err.Error()
			want := fmt.Sprintf("model stub.safetensors returned NaN or infinite logits for %d of the %d cutouts of rows %d to %d: ",
				len(ids), tt.batch[0], tt.batch[1], tt.batch[2])
			if !strings.Contains(msg, want) || !strings.Contains(msg, tt.listed) || strings.Count(msg, "object ") > listedIDs {
				t.Errorf("error %q\nwant %q ... %q, at most %d objects listed", msg, want, tt.listed, listedIDs)
			}
			checkNothingCommitted(t, out)

			// The chunks completed before the bad batch, if the writer got
			// to them before the error stopped it, are kept, and finite: a
			// run with a sound model resumes from them.
			st, err := predictTable(t, in, out, tt.opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.Resumed > tt.resumed || st.Rows+st.Resumed != 40 {
				t.Errorf("rerun: %d rows resumed, %d predicted; want at most %d resumed, 40 in all", st.Resumed, st.Rows, tt.resumed)
			}
			got := tabletest.ReadAll(t, out)
			defer got.Release()
			checkCatalogRows(t, got, testClasses(), tt.opt.TTA)
		})
	}
}

// predictTable predicts in into the table out with a stub model for 8×8
// cutouts, its logits poisoned as poisonedNet says when poison is not nil.
func predictTable(t *testing.T, in *table.Table, out string, opt Options, poison map[int]map[int]float32) (Stats, error) {
	t.Helper()
	m, stub := stubModel(8, "stub")
	if poison != nil {
		m.Net = &poisonedNet{stubNet: stub, poison: poison}
	}
	pred, err := NewPredictor(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	header := artifact.Manifest{Name: filepath.Base(out), Stage: "predict", Kind: Kind, Fingerprint: "fp", Producer: "test"}
	_, st, err := WriteTable(context.Background(), pred, in, catalog.Shard{Count: 1}, Output{Dir: out, Manifest: header}, nil)
	return st, err
}

// checkNothingCommitted fails if the table out exists.
func checkNothingCommitted(t *testing.T, out string) {
	t.Helper()
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after a failed run (%v)", out, err)
	}
}

// A checkpoint with finite weights so large that the head's activations
// overflow loads, but the predict stage fails on its infinite logits and
// writes no catalog.
func TestPredictStageOverflowingCheckpoint(t *testing.T) {
	dir, ckpt := stageFixture(t, 6, 100, FinalCheckpoint, 1)
	overflowHead(t, ckpt)

	s := decodeStage(t, catalogBlock)
	err := s.Run(context.Background(), sourcetest.Env(t, dir, s, nil))
	var nf *NonFiniteError
	if !errors.As(err, &nf) || len(nf.IDs) == 0 || nf.IDs[0] != "obj-00000" || !strings.Contains(err.Error(), `object "obj-00000" (row 0)`) {
		t.Fatalf("error %v, want a *NonFiniteError naming obj-00000", err)
	}
	checkNothingCommitted(t, filepath.Join(dir, "catalog"))
}

// overflowHead rewrites the checkpoint at path with head.fc.weight scaled
// to the largest finite float32 magnitude, so that every logit overflows.
func overflowHead(t *testing.T, path string) {
	t.Helper()
	net, meta, err := model.Load(path, model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range net.Params() {
		if p.Name == "head.fc.weight" {
			for i, v := range p.Data {
				p.Data[i] = float32(math.Copysign(math.MaxFloat32, float64(v)))
			}
		}
	}
	if err := model.Save(path, net, meta); err != nil {
		t.Fatal(err)
	}
}
