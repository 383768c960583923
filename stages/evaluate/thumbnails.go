package evaluate

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/astroformer/astroformer/internal/plots"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// thumbSize is the longest side of a gallery thumbnail in pixels; larger
// cutouts are scaled down to it.
const thumbSize = 96

// thumbColumns are the cutouts columns fetchThumbnails reads, in scan order.
var thumbColumns = []string{"object_id", "height", "width", "channels", "pixels"}

// fetchThumbnails reads the cutouts table in dir once, projected onto
// thumbColumns, and returns a PNG thumbnail of every object in ids that it
// holds. Memory holds one batch of cutouts and the thumbnails; the scan
// stops once every object is found.
func fetchThumbnails(ctx context.Context, dir string, ids []string) (map[string][]byte, error) {
	t, err := table.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("evaluate: cutouts: %w", err)
	}
	var missing []string
	for _, c := range thumbColumns {
		if !t.Schema().HasField(c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("evaluate: cutouts %s has no column %s; cutouts names the cutouts table the catalog was predicted from",
			dir, strings.Join(missing, ", "))
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := make(map[string][]byte, len(ids))
	sc := t.Scan(ctx, table.ScanOptions{Columns: thumbColumns, BatchRows: 256})
	defer sc.Close()
	for len(out) < len(want) && sc.Next() {
		if err := thumbnailBatch(sc.Record(), want, out); err != nil {
			return nil, fmt.Errorf("evaluate: cutouts %s: %w", dir, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("evaluate: reading cutouts %s: %w", dir, err)
	}
	return out, nil
}

// thumbnailBatch adds the thumbnails of the wanted rows of a record of
// thumbColumns to out.
func thumbnailBatch(rec arrow.Record, want map[string]bool, out map[string][]byte) error {
	cr, err := schemas.NewCutoutsReader(rec, thumbColumns...)
	if err != nil {
		return err
	}
	ids, hs, ws, cs, pix := cr.ObjectID, cr.Height, cr.Width, cr.Channels, cr.Pixels
	for i := range int(rec.NumRows()) {
		id := ids.Value(i)
		if !want[id] || out[id] != nil {
			continue
		}
		h, w, c := int(hs.Value(i)), int(ws.Value(i)), int(cs.Value(i))
		p := pix.Value(i)
		if h <= 0 || w <= 0 || c <= 0 || len(p) != h*w*c {
			return fmt.Errorf("object %q: pixels has %d bytes, expected height×width×channels = %d×%d×%d", id, len(p), h, w, c)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, plots.Thumbnail(p, h, w, c, thumbSize)); err != nil {
			return err
		}
		out[id] = buf.Bytes()
	}
	return nil
}
