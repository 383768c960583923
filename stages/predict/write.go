package predict

import (
	"context"
	"maps"
	"path/filepath"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/table"
)

// Output describes the catalog table a prediction run writes.
type Output struct {
	Dir string // the table folder; for a shard, catalog.ShardDir(output, shard)
	// Manifest is the header of the table's manifest. Its Fingerprint is
	// required: a killed run resumes when rerun with the same one.
	Manifest    artifact.Manifest
	Metadata    map[string]string // added to the predictor's and the input's keys
	RowsPerPart int64             // table.Options.RowsPerPart
}

// Metadata returns the key-value metadata of the catalog p writes from in
// for shard s: the predictor's keys, the input table and its fingerprint,
// the shard when s is one of several, then extra.
func Metadata(p *Predictor, in *table.Table, s catalog.Shard, extra map[string]string) map[string]string {
	md := p.Metadata()
	md[catalog.MetaInput] = filepath.Base(in.Dir())
	md[catalog.MetaInputFingerprint] = in.Manifest().Fingerprint
	if s.Sharded() {
		md[catalog.MetaShard] = s.String()
	}
	maps.Copy(md, extra)
	return md
}

// WriteTable predicts the rows of shard s of in and commits them as the
// table out.Dir. The output is written one input chunk (part file, or the
// shard's share of it) at a time, durably: a run that is killed, cancelled
// or fails keeps its completed chunks in the staging folder, and the next
// run with the same fingerprint and schema predicts only the rest (one with
// another fingerprint starts afresh). Nothing is committed unless every
// row is predicted; a *NonFiniteError, in particular, leaves no catalog.
func WriteTable(ctx context.Context, p *Predictor, in *table.Table, s catalog.Shard, out Output, progress func(int)) (*table.Manifest, Stats, error) {
	w, err := table.CreateResumable(out.Dir, p.Schema(), table.Options{
		RowsPerPart: out.RowsPerPart,
		Metadata:    Metadata(p, in, s, out.Metadata),
		Manifest:    out.Manifest,
	})
	if err != nil {
		return nil, Stats{}, err
	}
	stats, err := p.Run(ctx, in, s, w, progress)
	if err != nil {
		if ctx.Err() == nil {
			w.Abort()
		} // else keep the completed chunks for the next run to resume from
		return nil, stats, err
	}
	m, err := w.Commit()
	if err != nil {
		w.Abort()
		return nil, stats, err
	}
	return m, stats, nil
}
