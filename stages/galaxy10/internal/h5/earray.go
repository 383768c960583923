package h5

import (
	"bytes"
	"fmt"
	"math/bits"
)

// The extensible array chunk index (layout message version 4, index type 4)
// is what HDF5 writes with libver="latest" for a dataset with exactly one
// unlimited dimension. Its elements are the chunk entries, numbered in C
// order over the chunk grid of the maximum dimensions with the unlimited
// dimension moved first. The first elements sit in the index block; the
// rest fill "super blocks" s = 0, 1, 2, … of 2^⌊s/2⌋ data blocks of
// 2^⌊(s+1)/2⌋·minElmts elements each. The index block lists the data blocks
// of the first 2·log2(minPtrs) super blocks directly and one secondary block
// for each later super block, which lists that super block's data blocks. A
// data block of more than 2^pageBits elements is stored as pages, and its
// secondary block records which pages were ever written.

// earray is an extensible array being read.
type earray struct {
	d        *Dataset
	what     string
	hdr      uint64 // address of the header
	client   uint8
	entry    entryFormat
	p        earrayParams
	offBytes int    // bytes of a block offset
	supers   int    // super blocks the array can have
	direct   int    // super blocks whose data blocks the index block lists
	perPage  uint64 // elements of a data block page
	limit    uint64 // elements that can hold chunks of the current extent
	coords   func(uint64) []uint64
}

// superBlock is the geometry of one super block.
type superBlock struct {
	s       int
	ndblks  uint64 // data blocks
	nelmts  uint64 // elements of each data block
	start   uint64 // its first element, counted after the index block's
	paged   bool
	npages  uint64 // pages of each data block, when paged
	initLen int    // bytes of each data block's page bitmap, when paged
}

// maxSuperBlocks bounds the super blocks walked: super block 48 starts
// past element 2^48, far beyond any chunk count this package accepts.
const maxSuperBlocks = 48

// readExtensibleArrayIndex reads the extensible array that indexes the
// chunks of a dataset with one unlimited dimension.
func (d *Dataset) readExtensibleArrayIndex() error {
	a := &earray{d: d, what: d.name + " chunk index (extensible array)", hdr: d.index.addr}
	unlim := d.unlimitedDims()
	if len(unlim) != 1 {
		return d.f.errorf(a.what, int64(d.f.base+a.hdr), "%d unlimited dimensions in maximum shape %s: an extensible array needs exactly one", len(unlim), fmtDims(d.maxShape))
	}
	coords, inner, err := d.earrayOrder(unlim[0])
	if err != nil {
		return err
	}
	a.coords = coords
	iblock, maxIdxSet, err := a.readHeader()
	if err != nil {
		return err
	}
	a.limit = min(maxIdxSet, d.grid[unlim[0]]*inner)
	return a.readIndexBlock(iblock)
}

// unlimitedDims returns the dimensions whose maximum size is unlimited (all
// bits of a length set).
func (d *Dataset) unlimitedDims() []int {
	all := ^uint64(0) >> (64 - 8*d.f.lenSize)
	var dims []int
	for i, m := range d.maxShape {
		if m == all {
			dims = append(dims, i)
		}
	}
	return dims
}

// earrayOrder returns the map from the index of an extensible array
// element to its chunk's grid coordinates, for unlimited dimension u, and
// the number of elements per chunk index along u.
func (d *Dataset) earrayOrder(u int) (func(uint64) []uint64, uint64, error) {
	var fixed []uint64
	inner := uint64(1)
	for i, m := range d.maxShape {
		if i == u {
			continue
		}
		g := (m + d.chunk[i] - 1) / d.chunk[i]
		fixed = append(fixed, g)
		if inner *= g; g == 0 || g > maxChunks || inner > maxChunks {
			return nil, 0, d.f.errorf(d.name, -1, "more than %d chunks across the fixed dimensions of maximum shape %s", maxChunks, fmtDims(d.maxShape))
		}
	}
	coords := func(k uint64) []uint64 {
		c := make([]uint64, len(d.maxShape))
		rest := unravel(k%inner, fixed)
		c[u] = k / inner
		for i, j := 0, 0; i < len(c); i++ {
			if i != u {
				c[i] = rest[j]
				j++
			}
		}
		return c
	}
	return coords, inner, nil
}

// readHeader reads and checks the array's header (EAHD) and returns the
// address of its index block and its maximum index set (one more than the
// largest element index ever written).
func (a *earray) readHeader() (iblock, maxIdxSet uint64, err error) {
	f := a.d.f
	at := int64(f.base + a.hdr)
	p, err := f.read(a.hdr, 4+8+6*f.lenSize+f.offSize+4, a.what)
	if err != nil {
		return 0, 0, err
	}
	if err := a.checkPrefix(p, "EAHD", a.hdr); err != nil {
		return 0, 0, err
	}
	dec := f.decoder(p[6:])
	elemSize := int(dec.u8())
	a.p = earrayParams{maxBits: dec.u8(), idxElmts: dec.u8(), minElmts: dec.u8(), minPtrs: dec.u8(), pageBits: dec.u8()}
	for range 4 {
		dec.length() // secondary and data blocks created, and their sizes
	}
	maxIdxSet = dec.length()
	dec.length() // elements realized
	iblock = dec.addr()
	if dec.err != nil {
		return 0, 0, f.errorf(a.what, at, "header: %v", dec.err)
	}
	if a.entry, err = a.d.entryFormat(a.client, elemSize); err != nil {
		return 0, 0, f.errorf(a.what, at, "%v", err)
	}
	if a.p != a.d.index.ea {
		return 0, 0, f.errorf(a.what, at, "header parameters %+v differ from the layout message's %+v", a.p, a.d.index.ea)
	}
	if err := a.setGeometry(); err != nil {
		return 0, 0, f.errorf(a.what, at, "%v", err)
	}
	return iblock, maxIdxSet, nil
}

// checkPrefix checks the signature, version and checksum of a structure
// read whole into p from addr, and records or compares its client ID.
func (a *earray) checkPrefix(p []byte, sig string, addr uint64) error {
	f := a.d.f
	if len(p) < 10 || !bytes.Equal(p[:4], []byte(sig)) {
		return f.errorf(a.what, int64(f.base+addr), "signature %q: expected %s", p[:min(4, len(p))], sig)
	}
	if err := f.verifyChecksum(p, addr, a.what); err != nil {
		return err
	}
	if p[4] != 0 {
		return f.errorf(a.what, int64(f.base+addr), "%s version %d: expected 0", sig, p[4])
	}
	if sig == "EAHD" {
		a.client = p[5]
	} else if p[5] != a.client {
		return f.errorf(a.what, int64(f.base+addr), "%s of client %d in an array of client %d", sig, p[5], a.client)
	}
	return nil
}

// setGeometry checks the creation parameters and derives the shape of the
// array from them.
func (a *earray) setGeometry() error {
	p := a.p
	pow2 := func(v uint8) bool { return v > 0 && v&(v-1) == 0 }
	if p.idxElmts == 0 || !pow2(p.minElmts) || !pow2(p.minPtrs) || p.minPtrs < 2 ||
		p.maxBits == 0 || p.maxBits > 64 || int(p.maxBits) < bits.TrailingZeros8(p.minElmts) ||
		p.pageBits == 0 || p.pageBits > 31 {
		return fmt.Errorf("invalid creation parameters %+v", p)
	}
	a.offBytes = (int(p.maxBits) + 7) / 8
	a.supers = 1 + int(p.maxBits) - bits.TrailingZeros8(p.minElmts)
	a.direct = 2 * bits.TrailingZeros8(p.minPtrs)
	a.perPage = 1 << p.pageBits
	return nil
}

// super returns the geometry of super block s.
func (a *earray) super(s int) superBlock {
	m := uint64(a.p.minElmts)
	g := superBlock{s: s, ndblks: 1 << (s / 2), nelmts: m << ((s + 1) / 2), start: m * (1<<s - 1)}
	if g.nelmts > a.perPage {
		g.paged = true
		g.npages = g.nelmts / a.perPage
		g.initLen = int((g.npages + 7) / 8)
	}
	return g
}

// first returns the index of the first element of data block j of g.
func (a *earray) first(g superBlock, j uint64) uint64 {
	return uint64(a.p.idxElmts) + g.start + j*g.nelmts
}

// readIndexBlock reads the index block (EAIB): its own elements, then the
// data blocks it lists and the secondary blocks, up to the last element
// that can hold a chunk of the current extent.
func (a *earray) readIndexBlock(addr uint64) error {
	f := a.d.f
	if addr == undefined {
		return nil // no chunk written yet
	}
	ndblk := 2 * (int(a.p.minPtrs) - 1)
	nsblk := max(0, a.supers-a.direct)
	elems := int(a.p.idxElmts) * a.entry.size
	p, err := f.read(addr, 6+f.offSize+elems+(ndblk+nsblk)*f.offSize+4, a.what)
	if err != nil {
		return err
	}
	if err := a.checkPrefix(p, "EAIB", addr); err != nil {
		return err
	}
	dec := f.decoder(p[6 : len(p)-4])
	if h := dec.addr(); h != a.hdr {
		return f.errorf(a.what, int64(f.base+addr), "index block of the header at %d, expected %d", h, a.hdr)
	}
	if err := a.d.setEntries(dec.bytes(elems), 0, a.entry, a.coords); err != nil {
		return a.wrap(err, addr)
	}
	dblks := make([]uint64, ndblk)
	for i := range dblks {
		dblks[i] = dec.addr()
	}
	sblks := make([]uint64, nsblk)
	for i := range sblks {
		sblks[i] = dec.addr()
	}
	if dec.err != nil {
		return a.wrap(dec.err, addr)
	}
	next := 0 // next data block address of the index block
	for s := 0; s < a.supers && s < maxSuperBlocks; s++ {
		g := a.super(s)
		if a.first(g, 0) >= a.limit {
			break
		}
		if s >= a.direct {
			if err := a.readSecondaryBlock(sblks[s-a.direct], g); err != nil {
				return err
			}
			continue
		}
		for j := range g.ndblks {
			// HDF5 records the block offset of these data blocks as if j
			// counted every data block the index block lists.
			offset := g.start + uint64(next)*g.nelmts
			if err := a.readDataBlock(dblks[next], g, j, offset, nil); err != nil {
				return err
			}
			next++
		}
	}
	return nil
}

// wrap makes err, met decoding the structure at addr, an *Error.
func (a *earray) wrap(err error, addr uint64) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	return a.d.f.errorf(a.what, int64(a.d.f.base+addr), "%v", err)
}

// readSecondaryBlock reads the secondary block (EASB) of super block g and
// the data blocks it lists.
func (a *earray) readSecondaryBlock(addr uint64, g superBlock) error {
	f := a.d.f
	if addr == undefined {
		return nil // no chunk of this super block written
	}
	bitmap := 0
	if g.paged {
		bitmap = int(g.ndblks) * g.initLen
	}
	p, err := f.read(addr, 6+f.offSize+a.offBytes+bitmap+int(g.ndblks)*f.offSize+4, a.what)
	if err != nil {
		return err
	}
	if err := a.checkPrefix(p, "EASB", addr); err != nil {
		return err
	}
	dec := f.decoder(p[6 : len(p)-4])
	if err := a.checkOwner(dec, addr, g.start); err != nil {
		return err
	}
	init := dec.bytes(bitmap)
	for j := range g.ndblks {
		dblk := dec.addr()
		if dec.err != nil || a.first(g, j) >= a.limit {
			break
		}
		var pages []byte
		if g.paged {
			pages = init[int(j)*g.initLen : int(j+1)*g.initLen]
		}
		if err := a.readDataBlock(dblk, g, j, g.start+j*g.nelmts, pages); err != nil {
			return err
		}
	}
	return a.wrap(dec.err, addr)
}

// checkOwner reads the header address and block offset that open a
// secondary or data block and checks them against what points to it.
func (a *earray) checkOwner(dec *decoder, addr, offset uint64) error {
	h := dec.addr()
	off := dec.uvar(a.offBytes)
	if dec.err != nil {
		return a.wrap(dec.err, addr)
	}
	if h != a.hdr || off != offset {
		return a.d.f.errorf(a.what, int64(a.d.f.base+addr), "block of the array at %d for element offset %d, expected the array at %d and offset %d (misdirected pointer?)", h, off, a.hdr, offset)
	}
	return nil
}

// readDataBlock reads data block j of super block g (EADB), whose block
// offset field must read offset, and records its chunks. pages is the
// block's page bitmap when it is paged.
func (a *earray) readDataBlock(addr uint64, g superBlock, j, offset uint64, pages []byte) error {
	f := a.d.f
	if addr == undefined {
		return nil // no chunk of this data block written
	}
	if g.paged && pages == nil {
		return f.errorf(a.what, int64(f.base+addr), "paged data block of %d elements listed by the index block: not supported", g.nelmts)
	}
	prefix := 6 + f.offSize + a.offBytes
	body := int(g.nelmts) * a.entry.size
	if g.paged {
		body = 0
	}
	p, err := f.read(addr, prefix+body+4, a.what)
	if err != nil {
		return err
	}
	if err := a.checkPrefix(p, "EADB", addr); err != nil {
		return err
	}
	if err := a.checkOwner(f.decoder(p[6:prefix]), addr, offset); err != nil {
		return err
	}
	first := a.first(g, j)
	if !g.paged {
		return a.wrap(a.d.setEntries(p[prefix:prefix+body], first, a.entry, a.coords), addr)
	}
	return a.readPages(addr+uint64(prefix+4), g, first, pages)
}

// readPages reads the written pages of a paged data block whose pages
// start at addr and whose first element is first.
func (a *earray) readPages(addr uint64, g superBlock, first uint64, init []byte) error {
	f := a.d.f
	size := int(a.perPage)*a.entry.size + 4
	for i := range g.npages {
		if first+i*a.perPage >= a.limit {
			break
		}
		if init[i/8]&(0x80>>(i%8)) == 0 {
			continue // page never written: its chunks are not allocated
		}
		at := addr + i*uint64(size)
		page, err := f.read(at, size, a.what)
		if err != nil {
			return err
		}
		if err := f.verifyChecksum(page, at, a.what); err != nil {
			return err
		}
		if err := a.d.setEntries(page[:size-4], first+i*a.perPage, a.entry, a.coords); err != nil {
			return a.wrap(err, at)
		}
	}
	return nil
}
