package evaluate

import (
	"cmp"
	"slices"
)

// DefaultGallery is the number of cutouts in each cell of the gallery.
const DefaultGallery = 4

// candidate is a catalog row the gallery may show.
type candidate struct {
	row        int64 // in the catalog, which breaks ties
	objectID   string
	truth      int // -1 when unlabelled
	pred       int
	confidence float64
}

// ranking keeps the k candidates that come first by an order on confidence.
type ranking struct {
	k      int
	higher bool // highest confidence first, else lowest
	items  []candidate
}

// before reports whether a ranks before b: by confidence, then catalog row.
func (r *ranking) before(a, b candidate) bool {
	if a.confidence != b.confidence {
		return (a.confidence > b.confidence) == r.higher
	}
	return a.row < b.row
}

// offer keeps c if it is among the first k so far.
func (r *ranking) offer(c candidate) {
	if len(r.items) == r.k && !r.before(c, r.items[r.k-1]) {
		return
	}
	i, _ := slices.BinarySearchFunc(r.items, c, func(e, c candidate) int {
		if r.before(e, c) {
			return -1
		}
		return 1
	})
	r.items = slices.Insert(r.items, i, c)
	if len(r.items) > r.k {
		r.items = r.items[:r.k]
	}
}

// Columns of the gallery.
const (
	galleryConfident = iota // the most confident predictions of the class
	galleryUnsure           // its least confident predictions
	galleryWrong            // objects of the class predicted as another one, most confident first
	galleryColumns
)

// galleryCollector keeps, for every class, the k most and least confident
// predictions of it, and the k most confident wrong predictions of objects
// truly of it: memory holds 3·k·classes candidates whatever the catalog's
// size.
type galleryCollector struct {
	cells    [][galleryColumns]*ranking // per class
	rows     int64                      // rows offered
	labelled int64                      // of which labelled
}

func newGalleryCollector(classes, k int) *galleryCollector {
	g := &galleryCollector{cells: make([][galleryColumns]*ranking, classes)}
	for c := range g.cells {
		g.cells[c] = [galleryColumns]*ranking{
			{k: k, higher: true}, {k: k, higher: false}, {k: k, higher: true},
		}
	}
	return g
}

// add offers a row; pred and a truth ≥ 0 are class indexes.
func (g *galleryCollector) add(c candidate) {
	g.rows++
	g.cells[c.pred][galleryConfident].offer(c)
	g.cells[c.pred][galleryUnsure].offer(c)
	if c.truth >= 0 {
		g.labelled++
		if c.truth != c.pred {
			g.cells[c.truth][galleryWrong].offer(c)
		}
	}
}

// objectIDs returns the object_id of every kept candidate, sorted, once.
func (g *galleryCollector) objectIDs() []string {
	var ids []string
	for _, cell := range g.cells {
		for _, r := range cell {
			for _, c := range r.items {
				ids = append(ids, c.objectID)
			}
		}
	}
	slices.SortFunc(ids, cmp.Compare)
	return slices.Compact(ids)
}
