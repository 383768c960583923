package predict

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// TestEmbeddings predicts with embeddings = true: the column is a
// fixed-size list of the model's embedding width, the width is in the
// metadata, two runs give the same values, and with test-time views the
// embedding is the mean of the views' embeddings.
func TestEmbeddings(t *testing.T) {
	dir, ckpt := stageFixture(t, 12, 0, BestCheckpoint, 1)
	run := func(output string) (arrow.Record, map[string]string) {
		s := decodeStage(t, "input = \"cutouts\"\noutput = \""+output+"\"\nmodel = \"model\"\ntta = 2\nembeddings = true\nbatch_size = 5")
		runStage(t, dir, s)
		return tabletest.ReadAll(t, filepath.Join(dir, output)), tabletest.Open(t, filepath.Join(dir, output)).Manifest().Metadata
	}
	a, md := run("catalog")
	defer a.Release()
	net, _, err := model.Load(ckpt, model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	width := net.EmbeddingWidth()
	if md[schemas.MetaEmbeddingWidth] != strconv.Itoa(width) {
		t.Errorf("metadata %s = %q, want %d", schemas.MetaEmbeddingWidth, md[schemas.MetaEmbeddingWidth], width)
	}
	idx := a.Schema().FieldIndices(schemas.EmbeddingColumn)
	if len(idx) != 1 {
		t.Fatalf("no %s column in %s", schemas.EmbeddingColumn, a.Schema())
	}
	col, ok := a.Column(idx[0]).(*array.FixedSizeList)
	if !ok || col.DataType().(*arrow.FixedSizeListType).Len() != int32(width) {
		t.Fatalf("embedding column %s, want fixed_size_list<float>[%d]", a.Column(idx[0]).DataType(), width)
	}
	values := col.ListValues().(*array.Float32).Float32Values()
	if len(values) != 12*width {
		t.Fatalf("%d embedding values for 12 rows", len(values))
	}
	b, _ := run("catalog2")
	defer b.Release()
	again := b.Column(idx[0]).(*array.FixedSizeList).ListValues().(*array.Float32).Float32Values()
	if !slices.Equal(values, again) {
		t.Error("two runs gave different embeddings")
	}

	// The first row by hand: the mean of the embeddings of its two views.
	m, err := LoadModel(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPredictor(m, Options{TTA: 2, Embeddings: true})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := table.Open(filepath.Join(dir, "cutouts"))
	if err != nil {
		t.Fatal(err)
	}
	sc := tb.Scan(context.Background(), table.ScanOptions{Columns: cutoutColumns()})
	defer sc.Close()
	if !sc.Next() {
		t.Fatal(sc.Err())
	}
	cr, err := schemas.NewCutoutsReader(sc.Record(), cutoutColumns()...)
	if err != nil {
		t.Fatal(err)
	}
	bt := &batch{rows: []cutout{readCutout(cr, 0, 0)}}
	if err := p.prepare(bt); err != nil {
		t.Fatal(err)
	}
	want := make([]float32, width)
	for _, x := range bt.x {
		_, e, err := net.ForwardEmbed(x, 1)
		if err != nil {
			t.Fatal(err)
		}
		for j := range want {
			want[j] += e[j] / 2
		}
	}
	for j := range want {
		if d := want[j] - values[j]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("row 0 embedding[%d] = %g, want the mean of its views %g", j, values[j], want[j])
		}
	}
}
