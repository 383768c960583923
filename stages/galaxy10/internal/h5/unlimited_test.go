package h5

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Datasets that grow: an unlimited dimension and libver="latest", so their
// chunks are indexed by an extensible array (one unlimited dimension) or a
// version 2 B-tree (several).

// TestAppendedFixtures is the regression test for Galaxy10-layout files
// appended in batches by h5py, which the reader used to refuse.
func TestAppendedFixtures(t *testing.T) {
	e := loadExpectedFile(t, "expected_appended.json")
	if len(e.Files) != 2 || len(e.Rows) <= 244 {
		t.Fatalf("expected_appended.json: files %v, %d rows: too few to reach secondary blocks", e.Files, len(e.Rows))
	}
	checkGalaxy10Fixtures(t, e)
	for _, name := range e.Files {
		f := open(t, name)
		for _, ds := range f.Members() {
			if d := dataset(t, f, ds); d.index.kind != indexExtensible {
				t.Errorf("%s %s: chunk index type %d, want the extensible array", name, ds, d.index.kind)
			}
		}
	}
}

// arangeValue returns element i of a dataset holding arange(n) in C order.
func arangeValue(t *testing.T, d *Dataset, raw []byte, i int) float64 {
	t.Helper()
	es := d.Type().Size
	p := raw[i*es : (i+1)*es]
	order := byteOrder(d.Type())
	switch {
	case d.Type().Class == Float && es == 8:
		return math.Float64frombits(order.Uint64(p))
	case d.Type().Signed:
		return float64(signed(p, order))
	}
	return float64(unsigned(p, order))
}

// checkArange reads d whole, row by row and in uneven groups of rows, and
// checks that element i holds i.
func checkArange(t *testing.T, d *Dataset) {
	t.Helper()
	n := d.Shape()[0]
	rb := d.RowBytes()
	for _, step := range []uint64{1, 3, n} {
		for start := uint64(0); start < n; start += step {
			count := min(step, n-start)
			buf := make([]byte, int(count)*rb)
			if err := d.ReadRows(buf, start, count); err != nil {
				t.Fatalf("%s rows [%d, %d): %v", d.Name(), start, start+count, err)
			}
			per := rb / d.Type().Size
			for i := range int(count) * per {
				if v, want := arangeValue(t, d, buf, i), float64(int(start)*per+i); v != want {
					t.Fatalf("%s (%s, %s): element %v is %v", d.Name(), d.Type(), d.Layout(), want, v)
				}
			}
		}
	}
}

func TestUnlimitedIndexes(t *testing.T) {
	f := open(t, "index_unlimited.h5")
	for name, kind := range map[string]uint8{
		"btree2_arange":        indexBTree2,
		"btree2_gzip_arange":   indexBTree2,
		"earray_dim1_arange":   indexExtensible,
		"earray_maxdim_arange": indexExtensible,
	} {
		d := dataset(t, f, name)
		if d.index.kind != kind {
			t.Errorf("%s: chunk index type %d, want %d", name, d.index.kind, kind)
		}
		checkArange(t, d)
	}
}

// TestBTree2HasInternalNodes checks that the B-tree fixtures exercise
// internal nodes: more chunks than one leaf holds.
func TestBTree2HasInternalNodes(t *testing.T) {
	f := open(t, "index_unlimited.h5")
	for _, name := range []string{"btree2_arange", "btree2_gzip_arange"} {
		d := dataset(t, f, name)
		b := &btree2{d: d, what: name}
		root, err := b.readHeader(d.index.addr)
		if err != nil {
			t.Fatal(err)
		}
		if root.depth < 1 || b.total != uint64(len(d.chunks)) {
			t.Errorf("%s: depth %d, %d records for %d chunks", name, root.depth, b.total, len(d.chunks))
		}
	}
}

func TestExtensibleArrayUnwrittenChunks(t *testing.T) {
	d := dataset(t, open(t, "index_unlimited.h5"), "earray_sparse")
	buf := make([]byte, 4)
	if err := d.ReadRows(buf, 0, 4); err != nil || string(buf) != "\x01\x02\x03\x04" {
		t.Fatalf("rows 0-3: %v %v", buf, err)
	}
	if err := d.ReadRows(buf[:2], 380, 2); err != nil || string(buf[:2]) != "\x05\x06" {
		t.Fatalf("rows 380-381: %v %v", buf[:2], err)
	}
	for _, row := range []uint64{4, 250, 399} {
		err := d.ReadRows(buf[:1], row, 1)
		if err == nil || !strings.Contains(err.Error(), "never written") {
			t.Errorf("row %d: err = %v, want never written", row, err)
		}
	}
}

// TestCorruptUnlimitedIndexes damages each kind of block of an extensible
// array and of a version 2 B-tree in turn: the file must still open, and
// the dataset fail with an *Error naming its index.
func TestCorruptUnlimitedIndexes(t *testing.T) {
	for _, c := range []struct {
		file, index string
		sigs        []string
	}{
		{"g10_appended.h5", "extensible array", []string{"EAHD", "EAIB", "EASB", "EADB"}},
		{"g10_appended_gzip.h5", "extensible array", []string{"EAHD", "EAIB", "EASB", "EADB"}},
		{"index_unlimited.h5", "version 2 B-tree", []string{"BTHD", "BTIN", "BTLF"}},
	} {
		b, err := os.ReadFile(filepath.Join(testdata, c.file))
		if err != nil {
			t.Fatal(err)
		}
		for _, sig := range c.sigs {
			at := bytes.Index(b, []byte(sig))
			if at < 0 {
				t.Fatalf("%s: no %s block", c.file, sig)
			}
			for _, off := range []int{0, 4, 12} {
				path := copyFixture(t, c.file, func(b []byte) []byte { b[at+off] ^= 0x10; return b })
				f, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				var bad error
				for _, ds := range f.Members() {
					if _, err := f.Dataset(ds); err != nil {
						bad = err
					}
				}
				f.Close()
				if e := asError(t, bad, path); !strings.Contains(e.Object, c.index) || e.Offset < 0 {
					t.Errorf("%s: %s byte %d damaged: %v", c.file, sig, off, bad)
				}
			}
		}
	}
}

// layoutMessage returns the data layout message of dataset name.
func layoutMessage(t *testing.T, f *File, name string) *message {
	t.Helper()
	msgs, err := f.readObjectHeader(f.members[name], name)
	if err != nil {
		t.Fatal(err)
	}
	m := find(msgs, msgLayout)
	if m == nil || m.data[0] != 4 || m.data[1] != 2 {
		t.Fatalf("%s: no version 4 chunked layout message", name)
	}
	return m
}

// patchIndex rewrites, in the file image b, the chunk index parameters and
// address in the layout message of dataset name (a version 2 object
// header whose first chunk holds the message) and the header's checksum.
func patchIndex(t *testing.T, b []byte, f *File, name string, params []byte, addr uint64) {
	t.Helper()
	m := layoutMessage(t, f, name)
	ndims, width := int(m.data[3]), int(m.data[4])
	at := int(m.addr) + 5 + ndims*width + 1
	copy(b[at:], params)
	binary.LittleEndian.PutUint64(b[at+len(params):], addr)
	oh := int(f.members[name])
	flags := b[oh+5]
	start := oh + 6
	if flags&0x20 != 0 {
		start += 16
	}
	if flags&0x10 != 0 {
		start += 4
	}
	size := 0
	for i := range 1 << (flags & 3) {
		size |= int(b[start+i]) << (8 * i)
	}
	start += 1 << (flags & 3)
	if at < start || at >= start+size {
		t.Fatalf("%s: layout message outside the first header chunk", name)
	}
	binary.LittleEndian.PutUint32(b[start+size:], lookup3(b[oh:start+size]))
}

// withChecksum appends the lookup3 checksum of p.
func withChecksum(p []byte) []byte {
	return binary.LittleEndian.AppendUint32(p, lookup3(p))
}

// putAddr appends a little-endian address or length of 8 bytes.
func putAddr(p []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(p, v) }

// earrayImage lays out an extensible array of 8-byte entries (unfiltered
// chunks, 8-byte offsets and lengths) at address base, the way HDF5 does,
// with the given parameters. Pages whose entries are all undefined are left
// uninitialized and filled with junk.
func earrayImage(t *testing.T, base uint64, p earrayParams, entries []uint64) []byte {
	a := &earray{p: p, entry: entryFormat{size: 8}}
	if err := a.setGeometry(); err != nil {
		t.Fatal(err)
	}
	n := uint64(len(entries))
	entry := func(k uint64) uint64 {
		if k < n {
			return entries[k]
		}
		return undefined
	}
	hdrLen := 4 + 8 + 6*8 + 8 + 4
	ndblk, nsblk := 2*(int(p.minPtrs)-1), a.supers-a.direct
	iblock := base + uint64(hdrLen)
	out := make([]byte, hdrLen+6+8+int(p.idxElmts)*8+(ndblk+nsblk)*8+4)
	blockOffset := func(q []byte, v uint64) []byte {
		for i := range a.offBytes {
			q = append(q, byte(v>>(8*i)))
		}
		return q
	}
	dataBlock := func(g superBlock, j, offset uint64) (addr uint64, pageInit []byte) {
		addr = base + uint64(len(out))
		q := putAddr(append([]byte("EADB"), 0, 0), base)
		q = blockOffset(q, offset)
		first := a.first(g, j)
		if !g.paged {
			for k := range g.nelmts {
				q = putAddr(q, entry(first+k))
			}
			out = append(out, withChecksum(q)...)
			return addr, nil
		}
		out = append(out, withChecksum(q)...)
		pageInit = make([]byte, g.initLen)
		for i := range g.npages {
			page := []byte{}
			written := false
			for k := range a.perPage {
				e := entry(first + i*a.perPage + k)
				written = written || e != undefined
				page = putAddr(page, e)
			}
			if written {
				pageInit[i/8] |= 0x80 >> (i % 8)
				out = append(out, withChecksum(page)...)
			} else {
				out = append(out, bytes.Repeat([]byte{0xee}, len(page)+4)...)
			}
		}
		return addr, pageInit
	}
	var dblks, sblks []uint64
	for s := 0; s < a.supers; s++ {
		g := a.super(s)
		if a.first(g, 0) >= n {
			if s >= a.direct {
				sblks = append(sblks, undefined)
			} else {
				for range g.ndblks {
					dblks = append(dblks, undefined)
				}
			}
			continue
		}
		if s < a.direct {
			for j := range g.ndblks {
				addr, _ := dataBlock(g, j, g.start+uint64(len(dblks))*g.nelmts)
				dblks = append(dblks, addr)
			}
			continue
		}
		var addrs []uint64
		var init []byte
		for j := range g.ndblks {
			addr, pages := dataBlock(g, j, g.start+j*g.nelmts)
			addrs = append(addrs, addr)
			init = append(init, pages...)
		}
		sblks = append(sblks, base+uint64(len(out)))
		q := blockOffset(putAddr(append([]byte("EASB"), 0, 0), base), g.start)
		q = append(q, init...)
		for _, v := range addrs {
			q = putAddr(q, v)
		}
		out = append(out, withChecksum(q)...)
	}
	h := append([]byte("EAHD"), 0, 0, 8, p.maxBits, p.idxElmts, p.minElmts, p.minPtrs, p.pageBits)
	for _, v := range []uint64{uint64(len(sblks)), 0, uint64(len(dblks)), 0, n, n, iblock} {
		h = putAddr(h, v)
	}
	copy(out, withChecksum(h))
	ib := putAddr(append([]byte("EAIB"), 0, 0), base)
	for k := range uint64(p.idxElmts) {
		ib = putAddr(ib, entry(k))
	}
	for _, v := range append(dblks, sblks...) {
		ib = putAddr(ib, v)
	}
	copy(out[hdrLen:], withChecksum(ib))
	return out
}

// TestPagedExtensibleArray re-indexes the chunks of an h5py fixture with an
// extensible array whose data blocks are paged (which h5py only writes past
// 131,000 chunks), leaving one page unwritten.
func TestPagedExtensibleArray(t *testing.T) {
	name := "g10_appended.h5"
	orig := dataset(t, open(t, name), "ra")
	want, err := orig.Float64s()
	if err != nil {
		t.Fatal(err)
	}
	// Index block: 2 elements and data blocks of 2 and 4; secondary blocks
	// from super block 2, paged (4 entries a page) from super block 3.
	p := earrayParams{maxBits: 32, idxElmts: 2, minPtrs: 2, minElmts: 2, pageBits: 2}
	entries := make([]uint64, len(orig.chunks))
	for k, c := range orig.chunks {
		entries[k] = c.addr
	}
	const hole = 22 // super block 3 starts at element 2+2·(2³−1) = 16: its second page
	for k := hole; k < hole+4; k++ {
		entries[k] = undefined
	}
	path := copyFixture(t, name, func(b []byte) []byte {
		base := uint64(len(b))
		b = append(b, earrayImage(t, base, p, entries)...)
		patchIndex(t, b, open(t, name), "ra", []byte{p.maxBits, p.idxElmts, p.minPtrs, p.minElmts, p.pageBits}, base)
		return b
	})
	d := dataset(t, openFile(t, path), "ra")
	if g := (&earray{p: p}); g.setGeometry() != nil || !g.super(3).paged {
		t.Fatal("super block 3 is not paged")
	}
	for row := range uint64(len(want)) {
		buf := make([]byte, 8)
		err := d.ReadRows(buf, row, 1)
		if row >= hole && row < hole+4 {
			if err == nil || !strings.Contains(err.Error(), "never written") {
				t.Errorf("row %d in the unwritten page: err = %v", row, err)
			}
			continue
		}
		if v := math.Float64frombits(binary.LittleEndian.Uint64(buf)); err != nil || !sameFloat(v, &want[row]) {
			t.Fatalf("row %d: %v %v, want %v", row, v, err, want[row])
		}
	}
}

// btree2Image lays out at base a version 2 B-tree of type 10 records
// (rank-2 chunks at the given addresses and grid coordinates) whose nodes
// of nodeSize bytes make internal nodes of one record and two children.
func btree2Image(t *testing.T, d *Dataset, base uint64, nodeSize int, addrs []uint64, coords [][]uint64) ([]byte, int) {
	b := &btree2{d: d, typ: 10, nodeSize: nodeSize, recSize: 8 + 16}
	if err := b.setCapacities(maxBTree2Depth); err != nil {
		t.Fatal(err)
	}
	depth := 0
	for cum := b.maxRecs[0]; cum < uint64(len(addrs)); depth++ {
		if b.maxRecs[depth+1] != 1 {
			t.Fatalf("internal nodes of %d records", b.maxRecs[depth+1])
		}
		cum = 2*cum + 1
	}
	hdrLen := 4 + 2 + 4 + 2 + 2 + 2 + 8 + 2 + 8 + 4
	out := make([]byte, hdrLen)
	record := func(q []byte, k int) []byte {
		return putAddr(putAddr(putAddr(q, addrs[k]), coords[k][0]), coords[k][1])
	}
	// build writes the subtree of records [lo, hi) at depth and returns its
	// address.
	var build func(lo, hi, depth int) uint64
	build = func(lo, hi, depth int) uint64 {
		if depth == 0 {
			q := append([]byte("BTLF"), 0, 10)
			for k := lo; k < hi; k++ {
				q = record(q, k)
			}
			out = append(out, withChecksum(q)...)
			return base + uint64(len(out)-len(q)-4)
		}
		if hi <= lo {
			t.Fatalf("empty subtree at depth %d", depth)
		}
		mid := (lo + hi) / 2
		left, right := build(lo, mid, depth-1), build(mid+1, hi, depth-1)
		q := record(append([]byte("BTIN"), 0, 10), mid)
		for _, c := range [][2]int{{lo, mid}, {mid + 1, hi}} {
			n := uint64(c[1] - c[0]) // records in the child's subtree
			q = putAddr(q, left)
			left = right
			if depth == 1 {
				q = putUvar(q, n, b.nrecBytes)
			} else {
				q = putUvar(q, 1, b.nrecBytes)
				q = putUvar(q, n, b.cumBytes[depth-1])
			}
		}
		out = append(out, withChecksum(q)...)
		return base + uint64(len(out)-len(q)-4)
	}
	root := build(0, len(addrs), depth)
	rootRecs := 1
	if depth == 0 {
		rootRecs = len(addrs)
	}
	h := binary.LittleEndian.AppendUint32(append([]byte("BTHD"), 0, 10), uint32(nodeSize))
	h = binary.LittleEndian.AppendUint16(h, 24)
	h = binary.LittleEndian.AppendUint16(h, uint16(depth))
	h = putAddr(append(h, 100, 40), root)
	h = binary.LittleEndian.AppendUint16(h, uint16(rootRecs))
	copy(out, withChecksum(putAddr(h, uint64(len(addrs)))))
	return out, depth
}

// putUvar appends v in w little-endian bytes.
func putUvar(q []byte, v uint64, w int) []byte {
	for i := range w {
		q = append(q, byte(v>>(8*i)))
	}
	return q
}

// TestDeepBTree2 re-indexes the chunks of an h5py fixture with a version 2
// B-tree of nodes so small that it is seven levels deep (h5py's 2048-byte
// nodes need thousands of chunks for a third level), so that internal nodes
// above internal nodes, with their total-record counts, are read.
func TestDeepBTree2(t *testing.T) {
	name := "index_unlimited.h5"
	orig := dataset(t, open(t, name), "btree2_arange")
	var addrs []uint64
	var coords [][]uint64
	for k, c := range orig.chunks {
		addrs = append(addrs, c.addr)
		coords = append(coords, unravel(uint64(k), orig.grid))
	}
	const nodeSize = 82 // leaves of 3 records, internal nodes of 1
	var base uint64
	path := copyFixture(t, name, func(b []byte) []byte {
		base = uint64(len(b))
		tree, depth := btree2Image(t, orig, base, nodeSize, addrs, coords)
		if depth < 3 {
			t.Fatalf("depth %d", depth)
		}
		params := binary.LittleEndian.AppendUint32(nil, nodeSize)
		b = append(b, tree...)
		patchIndex(t, b, open(t, name), "btree2_arange", append(params, 100, 40), base)
		return b
	})
	d := dataset(t, openFile(t, path), "btree2_arange")
	if d.index.bt2.nodeSize != nodeSize || d.index.addr != base {
		t.Fatalf("index %+v: the patch did not take", d.index)
	}
	checkArange(t, d)
}
