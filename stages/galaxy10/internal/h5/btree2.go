package h5

import (
	"bytes"
	"fmt"
	"math/bits"
)

// The version 2 B-tree chunk index (layout message version 4, index type 5)
// is what HDF5 writes with libver="latest" for a dataset with more than one
// unlimited dimension. Every node, internal ones included, holds records of
// type 10 (unfiltered chunks: address, then the chunk's grid coordinates as
// 8-byte "scaled offsets") or type 11 (filtered: address, stored size,
// filter mask, then the coordinates). An internal node of depth d lists its
// records, then one more child pointer than records: the child's address,
// its record count and, for d > 1, the records below it. Nodes store only
// what they hold, and the widths of those counts follow from the node size.

// btree2 is a version 2 B-tree being read.
type btree2 struct {
	d         *Dataset
	what      string
	typ       uint8 // 10 or 11
	nodeSize  int
	recSize   int
	sizeWidth int      // type 11: bytes of the stored chunk size
	maxRecs   []uint64 // by depth: the most records a node holds
	cumBytes  []int    // by depth: bytes of a node's "records below" count
	nrecBytes int      // bytes of a child's record count
	total     uint64   // records in the tree
	seen      uint64   // records read so far
}

// btree2Node is one node to read: where, how many records, at what depth.
type btree2Node struct {
	addr  uint64
	nrec  uint64
	depth int
}

// Bounds on what a version 2 B-tree header may claim.
const (
	maxBTree2Depth    = 16
	maxBTree2NodeSize = 1 << 20
)

// readBTree2Index walks the version 2 B-tree that indexes the chunks of a
// dataset with several unlimited dimensions.
func (d *Dataset) readBTree2Index() error {
	b := &btree2{d: d, what: d.name + " chunk index (version 2 B-tree)"}
	root, err := b.readHeader(d.index.addr)
	if err != nil {
		return err
	}
	if root.addr == undefined || root.nrec == 0 {
		return nil // no chunk written yet
	}
	todo := []btree2Node{root}
	for visited := uint64(0); len(todo) > 0; visited++ {
		if visited > b.total {
			return d.f.errorf(b.what, -1, "more nodes than the %d records of the tree: cyclic B-tree?", b.total)
		}
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		children, err := b.readNode(n)
		if err != nil {
			return err
		}
		todo = append(todo, children...)
	}
	if b.seen != b.total {
		return d.f.errorf(b.what, int64(d.f.base+d.index.addr), "%d records in the nodes, but the header counts %d", b.seen, b.total)
	}
	return nil
}

// readHeader reads and checks the tree's header (BTHD) and returns its root.
func (b *btree2) readHeader(addr uint64) (btree2Node, error) {
	f := b.d.f
	at := int64(f.base + addr)
	p, err := f.read(addr, 4+2+4+2+2+2+f.offSize+2+f.lenSize+4, b.what)
	if err != nil {
		return btree2Node{}, err
	}
	if !bytes.Equal(p[:4], []byte("BTHD")) {
		return btree2Node{}, f.errorf(b.what, at, "signature %q: expected BTHD", p[:4])
	}
	if err := f.verifyChecksum(p, addr, b.what); err != nil {
		return btree2Node{}, err
	}
	dec := f.decoder(p[4:])
	version := dec.u8()
	b.typ = dec.u8()
	b.nodeSize = int(dec.u32())
	b.recSize = int(dec.u16())
	depth := int(dec.u16())
	split, merge := dec.u8(), dec.u8()
	root := btree2Node{addr: dec.addr(), nrec: uint64(dec.u16()), depth: depth}
	b.total = dec.length()
	if dec.err != nil {
		return root, f.errorf(b.what, at, "header: %v", dec.err)
	}
	if version != 0 {
		return root, f.errorf(b.what, at, "B-tree header version %d: expected 0", version)
	}
	want := btree2Params{nodeSize: uint32(b.nodeSize), split: split, merge: merge}
	if want != b.d.index.bt2 {
		return root, f.errorf(b.what, at, "header parameters %+v differ from the layout message's %+v", want, b.d.index.bt2)
	}
	if err := b.checkRecords(); err != nil {
		return root, f.errorf(b.what, at, "%v", err)
	}
	if depth > maxBTree2Depth || b.total > maxChunks {
		return root, f.errorf(b.what, at, "depth %d and %d records: more than a depth of %d or %d chunks", depth, b.total, maxBTree2Depth, maxChunks)
	}
	if err := b.setCapacities(depth); err != nil {
		return root, f.errorf(b.what, at, "%v", err)
	}
	if root.nrec > b.maxRecs[depth] {
		return root, f.errorf(b.what, at, "root of %d records: a node of depth %d holds at most %d", root.nrec, depth, b.maxRecs[depth])
	}
	return root, nil
}

// checkRecords checks the record type and size against the dataset.
func (b *btree2) checkRecords() error {
	coords := 8 * len(b.d.shape)
	off := b.d.f.offSize
	switch b.typ {
	case 10:
		if b.recSize != off+coords {
			return fmt.Errorf("records of %d bytes: expected %d for unfiltered chunks of rank %d", b.recSize, off+coords, len(b.d.shape))
		}
	case 11:
		b.sizeWidth = b.recSize - off - 4 - coords
		if b.sizeWidth < 1 || b.sizeWidth > 8 {
			return fmt.Errorf("records of %d bytes: expected %d to %d for filtered chunks of rank %d", b.recSize, off+5+coords, off+12+coords, len(b.d.shape))
		}
	default:
		return fmt.Errorf("B-tree of type %d: expected 10 or 11 (dataset chunks)", b.typ)
	}
	if (b.typ == 11) != (len(b.d.filters) > 0) {
		return fmt.Errorf("B-tree of type %d for a dataset with %d filters", b.typ, len(b.d.filters))
	}
	return nil
}

// countBytes is the width HDF5 gives a count of at most n: the fewest bytes
// that hold it.
func countBytes(n uint64) int {
	return (bits.Len64(n|1)-1)/8 + 1
}

// nodeOverhead is the signature, version, type and checksum of a node.
const nodeOverhead = 4 + 1 + 1 + 4

// setCapacities derives, for every depth up to depth, the most records a
// node holds and the widths of the counts in child pointers. A leaf holds
// the most records, so every "records in child" count is as wide as a
// full leaf's count.
func (b *btree2) setCapacities(depth int) error {
	if b.nodeSize > maxBTree2NodeSize || b.nodeSize < nodeOverhead+2*b.recSize {
		return fmt.Errorf("nodes of %d bytes for records of %d: expected %d to %d bytes", b.nodeSize, b.recSize, nodeOverhead+2*b.recSize, maxBTree2NodeSize)
	}
	leaf := uint64((b.nodeSize - nodeOverhead) / b.recSize)
	b.maxRecs = []uint64{leaf}
	b.cumBytes = []int{0}
	b.nrecBytes = countBytes(leaf)
	cum := leaf // the most records in a subtree of the depth below
	for d := 1; d <= depth; d++ {
		ptr := b.pointerSize(d)
		room := b.nodeSize - nodeOverhead - ptr
		if room < b.recSize+ptr {
			return fmt.Errorf("nodes of %d bytes hold no record at depth %d", b.nodeSize, d)
		}
		n := uint64(room / (b.recSize + ptr))
		b.maxRecs = append(b.maxRecs, n)
		hi, lo := bits.Mul64(n+1, cum)
		if cum = lo + n; hi != 0 || cum < lo {
			cum = ^uint64(0) // more than any file holds; the width saturates
		}
		b.cumBytes = append(b.cumBytes, countBytes(cum))
	}
	return nil
}

// pointerSize is the bytes of one child pointer in a node of depth d.
func (b *btree2) pointerSize(d int) int {
	n := b.d.f.offSize + b.nrecBytes
	if d > 1 {
		n += b.cumBytes[d-1]
	}
	return n
}

// readNode reads node n (BTLF or BTIN), records its chunks and returns its
// children.
func (b *btree2) readNode(n btree2Node) ([]btree2Node, error) {
	f := b.d.f
	at := int64(f.base + n.addr)
	sig, size := "BTLF", nodeOverhead+int(n.nrec)*b.recSize
	if n.depth > 0 {
		sig = "BTIN"
		size += int(n.nrec+1) * b.pointerSize(n.depth)
	}
	p, err := f.read(n.addr, size, b.what)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p[:4], []byte(sig)) {
		return nil, f.errorf(b.what, at, "signature %q: expected %s for a node of depth %d", p[:4], sig, n.depth)
	}
	if err := f.verifyChecksum(p, n.addr, b.what); err != nil {
		return nil, err
	}
	if p[4] != 0 || p[5] != b.typ {
		return nil, f.errorf(b.what, at, "node version %d of type %d: expected version 0 of type %d", p[4], p[5], b.typ)
	}
	if b.seen += n.nrec; b.seen > b.total {
		return nil, f.errorf(b.what, at, "more records than the %d the header counts", b.total)
	}
	dec := f.decoder(p[6 : len(p)-4])
	for range n.nrec {
		if err := b.record(dec.bytes(b.recSize), at); err != nil {
			return nil, err
		}
	}
	if n.depth == 0 {
		return nil, nil
	}
	return b.children(dec, n, at)
}

// children decodes the child pointers of internal node n.
func (b *btree2) children(dec *decoder, n btree2Node, at int64) ([]btree2Node, error) {
	kids := make([]btree2Node, 0, n.nrec+1)
	for range n.nrec + 1 {
		c := btree2Node{addr: dec.addr(), nrec: dec.uvar(b.nrecBytes), depth: n.depth - 1}
		if n.depth > 1 {
			dec.uvar(b.cumBytes[n.depth-1]) // records below the child
		}
		if dec.err != nil {
			return nil, b.d.f.errorf(b.what, at, "child pointers: %v", dec.err)
		}
		if c.nrec > b.maxRecs[c.depth] {
			return nil, b.d.f.errorf(b.what, at, "child of %d records: a node of depth %d holds at most %d", c.nrec, c.depth, b.maxRecs[c.depth])
		}
		kids = append(kids, c)
	}
	return kids, nil
}

// record decodes one chunk record of a node at byte at.
func (b *btree2) record(p []byte, at int64) error {
	f := b.d.f
	dec := f.decoder(p)
	ref := chunkRef{addr: dec.addr(), size: uint64(b.d.chunkBytes)}
	if b.typ == 11 {
		ref.size = dec.uvar(b.sizeWidth)
		ref.mask = dec.u32()
	}
	c := make([]uint64, len(b.d.shape))
	for i := range c {
		c[i] = dec.u64()
	}
	if dec.err != nil {
		return f.errorf(b.what, at, "record: %v", dec.err)
	}
	if ref.addr == undefined {
		return f.errorf(b.what, at, "record of chunk %s without an address", fmtDims(c))
	}
	return b.d.setChunk(c, ref)
}
