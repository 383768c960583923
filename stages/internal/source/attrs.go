package source

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/decl"
)

// Attrs reports invalid attributes of a stage block as error diagnostics,
// each at the attribute's value or, for a missing attribute, where the
// block ends. The checks shared by the source stages keep their wording
// the same in every stage.
type Attrs struct {
	*decl.Diagnoser
}

// NewAttrs returns an Attrs for body that appends to *diags.
func NewAttrs(body hcl.Body, diags *hcl.Diagnostics) *Attrs {
	return &Attrs{decl.NewValues(body, diags)}
}

// CheckPath reports an empty path; detail says what path names.
func (a *Attrs) CheckPath(path, detail string) {
	if path == "" {
		a.Bad("path", "Empty path", detail)
	}
}

// CheckTables reports an empty output, or else a rejects table that is
// empty or the output.
func (a *Attrs) CheckTables(output, rejects string) {
	switch {
	case output == "":
		a.Bad("output", "Empty output", "output names the cutouts table the stage writes.")
	case rejects == "" || rejects == output:
		a.Bad("rejects", "Invalid rejects table", fmt.Sprintf("rejects must name a table other than the output %q.", output))
	}
}

// CheckMaxRejects reports a negative max_rejects.
func (a *Attrs) CheckMaxRejects(n int64) {
	if n < 0 {
		a.Bad("max_rejects", "Invalid max_rejects", fmt.Sprintf("max_rejects is %d; expected 0 (no limit) or more.", n))
	}
}

// CheckLimit reports a negative limit; every names what 0 reads, such as
// "every row".
func (a *Attrs) CheckLimit(n int64, every string) {
	if n < 0 {
		a.Bad("limit", "Invalid limit", fmt.Sprintf("limit is %d; expected 0 (%s) or more.", n, every))
	}
}

// CheckResize reports a size other than 0 outside 8 to maxSize pixels;
// keep names what 0 keeps, such as "keep 32" or "keep the image size".
func (a *Attrs) CheckResize(size int, keep string, maxSize int) {
	if size != 0 && (size < 8 || size > maxSize) {
		a.Bad("size", "Invalid size", fmt.Sprintf("size is %d pixels; expected 0 (%s) or 8 to %d.", size, keep, maxSize))
	}
}

// CheckSplit reports a split other than "", "train", "val" and "test".
func (a *Attrs) CheckSplit(split string) {
	switch split {
	case "", schemas.SplitTrain, schemas.SplitVal, schemas.SplitTest:
	default:
		a.Bad("split", "Invalid split", fmt.Sprintf("split is %q; expected \"\", \"train\", \"val\" or \"test\".", split))
	}
}

// CheckTrainSplit reports a train_split other than "" and "train".
func (a *Attrs) CheckTrainSplit(split string) {
	if split != "" && split != schemas.SplitTrain {
		a.Bad("train_split", "Invalid train_split", fmt.Sprintf("train_split is %q; expected \"\" (a split stage assigns train and val) or \"train\".", split))
	}
}

// CheckPixelScale reports a pixel_scale, when given, that is not a
// positive number below 10⁶.
func (a *Attrs) CheckPixelScale(ps *float64) {
	if ps != nil && !(*ps > 0 && *ps < 1e6) {
		a.Bad("pixel_scale", "Invalid pixel_scale", fmt.Sprintf("pixel_scale is %g; expected a positive number of arcsec per pixel.", *ps))
	}
}

// CheckWorkers reports a negative workers.
func (a *Attrs) CheckWorkers(n int) {
	if n < 0 {
		a.Bad("workers", "Invalid workers", fmt.Sprintf("workers is %d; expected 0 (one per CPU) or more.", n))
	}
}
