package h5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/zlib"
)

// maxChunks bounds the chunk grid of a dataset (its index lives in memory,
// 24 bytes a chunk, so at most 96 MiB).
const maxChunks = 1 << 22

// indexChunks locates every stored chunk of a chunked dataset.
func (d *Dataset) indexChunks() error {
	rank := len(d.shape)
	d.grid = make([]uint64, rank)
	total := uint64(1)
	for i := range d.grid {
		d.grid[i] = (d.shape[i] + d.chunk[i] - 1) / d.chunk[i]
		total *= d.grid[i]
		if total > maxChunks {
			return d.f.errorf(d.name, -1, "more than %d chunks of %s for shape %s", maxChunks, fmtDims(d.chunk), fmtDims(d.shape))
		}
	}
	d.chunks = make([]chunkRef, total)
	for i := range d.chunks {
		d.chunks[i].addr = undefined
	}
	if total == 0 || d.index.addr == undefined {
		return nil // nothing written yet
	}
	switch d.index.kind {
	case indexBTree1:
		return d.readBTreeIndex()
	case indexFixedArray:
		return d.readFixedArrayIndex()
	case indexExtensible:
		return d.readExtensibleArrayIndex()
	case indexBTree2:
		return d.readBTree2Index()
	case indexSingle:
		size := uint64(d.chunkBytes)
		if d.index.singleSize != 0 {
			size = d.index.singleSize
		}
		d.chunks[0] = chunkRef{addr: d.index.addr, size: size, mask: d.index.singleMask}
		return nil
	case indexImplicit:
		if len(d.filters) > 0 {
			return d.f.errorf(d.name, -1, "implicit chunk index with filters: invalid")
		}
		grid := d.maxGrid()
		if product(grid) > maxChunks {
			return d.f.errorf(d.name, -1, "more than %d chunks over the maximum shape %s", maxChunks, fmtDims(d.maxShape))
		}
		for k := range product(grid) {
			if err := d.setChunk(unravel(k, grid), chunkRef{addr: d.index.addr + k*uint64(d.chunkBytes), size: uint64(d.chunkBytes)}); err != nil {
				return err
			}
		}
		return nil
	}
	return d.f.errorf(d.name, -1, "chunk index type %d: not supported", d.index.kind)
}

// maxGrid returns the chunk grid over the maximum dimensions, the grid that
// fixed-array and implicit indexes are laid out on.
func (d *Dataset) maxGrid() []uint64 {
	g := make([]uint64, len(d.maxShape))
	for i, m := range d.maxShape {
		g[i] = (m + d.chunk[i] - 1) / d.chunk[i]
	}
	return g
}

func product(dims []uint64) uint64 {
	p := uint64(1)
	for _, v := range dims {
		p *= v
	}
	return p
}

// unravel returns the coordinates of row-major position k in grid.
func unravel(k uint64, grid []uint64) []uint64 {
	c := make([]uint64, len(grid))
	for i := len(grid) - 1; i >= 0; i-- {
		c[i] = k % grid[i]
		k /= grid[i]
	}
	return c
}

// setChunk records the chunk at grid coordinates c. Chunks outside the
// current extent (left over after a shrink) are ignored.
func (d *Dataset) setChunk(c []uint64, ref chunkRef) error {
	k := uint64(0)
	for i, v := range c {
		if v >= d.grid[i] {
			return nil
		}
		k = k*d.grid[i] + v
	}
	if d.chunks[k].addr != undefined {
		return d.f.errorf(d.name, int64(d.f.base+ref.addr), "chunk %s indexed twice", fmtDims(c))
	}
	d.chunks[k] = ref
	return nil
}

// readBTreeIndex walks the version 1 B-tree of a chunked dataset.
func (d *Dataset) readBTreeIndex() error {
	what := d.name + " chunk B-tree"
	rank := len(d.shape)
	keySize := 8 + 8*(rank+1)
	nodes := []uint64{d.index.addr}
	limit := len(d.chunks) + 64
	for visited := 0; len(nodes) > 0; visited++ {
		if visited > limit {
			return d.f.errorf(what, -1, "more nodes than chunks: cyclic B-tree?")
		}
		addr := nodes[len(nodes)-1]
		nodes = nodes[:len(nodes)-1]
		level, children, err := d.f.btreeNode(addr, 1, keySize, what)
		if err != nil {
			return err
		}
		for _, ch := range children {
			if level > 0 {
				nodes = append(nodes, ch.child)
				continue
			}
			key := d.f.decoder(ch.key)
			ref := chunkRef{addr: ch.child, size: uint64(key.u32()), mask: key.u32()}
			c := make([]uint64, rank)
			for i := range c {
				off := key.u64()
				if off%d.chunk[i] != 0 {
					return d.f.errorf(what, int64(d.f.base+addr), "chunk offset %d in dimension %d is not a multiple of the chunk size %d", off, i, d.chunk[i])
				}
				c[i] = off / d.chunk[i]
			}
			if err := d.setChunk(c, ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// readFixedArrayIndex reads the fixed array (header, data block and pages)
// that indexes the chunks of a dataset written with libver="latest".
func (d *Dataset) readFixedArrayIndex() error {
	f := d.f
	what := d.name + " chunk index (fixed array)"
	hdrSize := 4 + 4 + f.lenSize + f.offSize + 4
	p, err := f.read(d.index.addr, hdrSize, what)
	if err != nil {
		return err
	}
	if !bytes.Equal(p[:4], []byte("FAHD")) {
		return f.errorf(what, int64(f.base+d.index.addr), "signature %q: expected FAHD", p[:4])
	}
	if err := f.verifyChecksum(p, d.index.addr, what); err != nil {
		return err
	}
	dec := f.decoder(p[4:])
	dec.u8() // version
	client := dec.u8()
	entrySize := int(dec.u8())
	pageBits := dec.u8()
	count := dec.length()
	block := dec.addr()
	if count > maxChunks {
		return f.errorf(what, int64(f.base+d.index.addr), "%d entries: more than %d chunks", count, maxChunks)
	}
	ef, err := d.entryFormat(client, entrySize)
	if err != nil || pageBits > 32 {
		return f.errorf(what, int64(f.base+d.index.addr), "entries of %d bytes (client %d, page bits %d)", entrySize, client, pageBits)
	}
	grid := d.maxGrid()
	if count != product(grid) {
		return f.errorf(what, int64(f.base+d.index.addr), "%d entries for a grid of %s chunks", count, fmtDims(grid))
	}
	perPage := uint64(1) << pageBits
	pages := uint64(0)
	if count > perPage {
		pages = (count + perPage - 1) / perPage
	}
	bitmap := int((pages + 7) / 8)
	prefix := 4 + 2 + f.offSize + bitmap
	blockSize := prefix + 4
	if pages == 0 {
		blockSize += int(count) * entrySize
	}
	p, err = f.read(block, blockSize, what)
	if err != nil {
		return err
	}
	if !bytes.Equal(p[:4], []byte("FADB")) {
		return f.errorf(what, int64(f.base+block), "signature %q: expected FADB", p[:4])
	}
	if err := f.verifyChecksum(p, block, what); err != nil {
		return err
	}
	coords := func(k uint64) []uint64 { return unravel(k, grid) }
	decodeEntries := func(raw []byte, first uint64) error {
		return d.setEntries(raw, first, ef, coords)
	}
	if pages == 0 {
		return decodeEntries(p[prefix-bitmap:len(p)-4], 0)
	}
	fp := fixedPages{init: p[prefix-bitmap : prefix], pages: pages, perPage: perPage, count: count,
		first: block + uint64(blockSize), entrySize: entrySize}
	return fp.read(f, what, decodeEntries)
}

// fixedPages describes the pages of a paged fixed array data block: a bitmap
// of the pages written, and where and how large they are.
type fixedPages struct {
	init                  []byte // one bit per page, most significant first
	pages, perPage, count uint64
	first                 uint64 // address of the first page
	entrySize             int
}

// read checks and decodes every page that was written, in order.
func (fp fixedPages) read(f *File, what string, decodeEntries func(raw []byte, first uint64) error) error {
	pageSize := fp.perPage*uint64(fp.entrySize) + 4
	for i := range fp.pages {
		if fp.init[i/8]&(0x80>>(i%8)) == 0 {
			continue // page never written: its chunks are not allocated
		}
		n := min(fp.perPage, fp.count-i*fp.perPage)
		at := fp.first + i*pageSize
		page, err := f.read(at, int(n)*fp.entrySize+4, what)
		if err != nil {
			return err
		}
		if err := f.verifyChecksum(page, at, what); err != nil {
			return err
		}
		if err := decodeEntries(page[:len(page)-4], i*fp.perPage); err != nil {
			return err
		}
	}
	return nil
}

// entryFormat describes how a fixed or extensible array stores the entry of
// one chunk: its address, and for filtered chunks (client 1) the stored
// size in size-offSize-4 bytes and the filter mask.
type entryFormat struct {
	size     int
	filtered bool
}

// entryFormat checks the client ID and entry size of an array index.
func (d *Dataset) entryFormat(client uint8, size int) (entryFormat, error) {
	off := d.f.offSize
	switch {
	case client == 0 && size == off:
	case client == 1 && size > off+4 && size <= off+4+8:
	default:
		return entryFormat{}, fmt.Errorf("entries of %d bytes for client %d: expected %d bytes unfiltered (client 0), %d to %d filtered (client 1)", size, client, off, off+5, off+12)
	}
	return entryFormat{size: size, filtered: client == 1}, nil
}

// setEntries records the chunks of the array entries in raw, the first of
// which is entry first; coords maps an entry's index to its chunk's grid
// coordinates. Entries with an undefined address (chunks never written)
// are skipped.
func (d *Dataset) setEntries(raw []byte, first uint64, ef entryFormat, coords func(uint64) []uint64) error {
	dec := d.f.decoder(raw)
	for k := first; dec.remaining() > 0; k++ {
		ref := chunkRef{addr: dec.addr(), size: uint64(d.chunkBytes)}
		if ef.filtered {
			ref.size = dec.uvar(ef.size - d.f.offSize - 4)
			ref.mask = dec.u32()
		}
		if dec.err != nil {
			return dec.err
		}
		if ref.addr == undefined {
			continue
		}
		if err := d.setChunk(coords(k), ref); err != nil {
			return err
		}
	}
	return nil
}

// readChunkedRows reads rows [start, start+n) of a chunked dataset.
func (d *Dataset) readChunkedRows(dst []byte, start, n uint64) error {
	inner := uint64(len(d.chunks)) / d.grid[0]
	c0 := d.chunk[0]
	for g0 := start / c0; g0 <= (start+n-1)/c0; g0++ {
		for j := range inner {
			if err := d.readChunk(g0*inner+j, dst, start, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// wholeRows reports whether a chunk holds whole rows: the chunk spans every
// dimension but the first.
func (d *Dataset) wholeRows() bool {
	return slices.Equal(d.chunk[1:], d.shape[1:])
}

// readChunk decodes chunk k and copies its part of rows [start, start+n)
// into dst. A chunk of whole rows that lies inside the range is decoded
// straight into dst.
func (d *Dataset) readChunk(k uint64, dst []byte, start, n uint64) error {
	ref := d.chunks[k]
	origin := unravel(k, d.grid)
	edge := false
	for i := range origin {
		origin[i] *= d.chunk[i]
		edge = edge || origin[i]+d.chunk[i] > d.shape[i]
	}
	what := func() string { return fmt.Sprintf("%s chunk at %s", d.name, fmtDims(origin)) }
	if ref.addr == undefined {
		return d.f.errorf(what(), -1, "never written (no stored chunk for rows %d to %d)", origin[0], min(origin[0]+d.chunk[0], d.shape[0])-1)
	}
	if ref.size > uint64(d.f.size) || d.f.base+ref.addr > uint64(d.f.size)-ref.size {
		return d.f.errorf(what(), int64(d.f.base+ref.addr), "%d bytes stored, but the file ends at byte %d (truncated?)", ref.size, d.f.size)
	}
	mask := ref.mask
	if edge && d.keepEdges {
		mask = ^uint32(0)
	}
	if err := d.plausible(ref.size, mask); err != nil {
		return d.f.errorf(what(), int64(d.f.base+ref.addr), "%v", err)
	}
	rb := uint64(d.rowBytes)
	var out []byte
	direct := d.wholeRows() && origin[0] >= start && origin[0]+d.chunk[0] <= start+n
	if direct {
		out = dst[(origin[0]-start)*rb : (origin[0]-start+d.chunk[0])*rb]
	} else {
		buf := d.buffer(d.chunkBytes)
		defer d.buffers.Put(buf)
		out = *buf
	}
	raw := d.buffer(int(ref.size))
	defer d.buffers.Put(raw)
	if err := d.f.readAt(*raw, ref.addr, d.name); err != nil {
		return err
	}
	if err := d.decode(*raw, out, mask); err != nil {
		return d.f.errorf(what(), int64(d.f.base+ref.addr), "%v", err)
	}
	if !direct {
		d.copyChunk(dst, start, n, out, origin)
	}
	return nil
}

// maxInflation is the largest factor by which deflate can expand data.
const maxInflation = 1032

// plausible checks, before any buffer is allocated, that stored bytes
// filtered with mask can decode to a chunk: exactly its size when nothing
// compresses it, at most maxInflation times the stored size otherwise.
func (d *Dataset) plausible(stored uint64, mask uint32) error {
	want := uint64(d.chunkBytes)
	deflated := false
	for i, fl := range d.filters {
		if i < 32 && mask&(1<<i) != 0 {
			continue
		}
		switch fl.id {
		case filterDeflate:
			deflated = true
		case filterFletcher32:
			want += 4
		}
	}
	if deflated && want > stored*maxInflation+64 {
		return fmt.Errorf("%d compressed bytes cannot hold a chunk of %d bytes", stored, d.chunkBytes)
	}
	if !deflated && stored != want {
		return fmt.Errorf("%d bytes stored for an uncompressed chunk of %d bytes", stored, want)
	}
	return nil
}

// buffer returns a pooled slice of length n.
func (d *Dataset) buffer(n int) *[]byte {
	if b, ok := d.buffers.Get().(*[]byte); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n)
	return &b
}

// decode undoes the filters of a chunk (those not masked off), in reverse
// order, leaving the chunk's bytes in out.
func (d *Dataset) decode(raw, out []byte, mask uint32) error {
	applied := func(i int) bool { return i < 32 && mask&(1<<i) == 0 }
	data := raw
	var spare []*[]byte
	defer func() {
		for _, b := range spare {
			d.buffers.Put(b)
		}
	}()
	for i := len(d.filters) - 1; i >= 0; i-- {
		if !applied(i) {
			continue
		}
		// Bytes once filter i is undone: the chunk plus the checksums of
		// the Fletcher-32 filters applied before it.
		want := d.chunkBytes
		last := true
		for j := range i {
			if applied(j) {
				last = false
				if d.filters[j].id == filterFletcher32 {
					want += 4
				}
			}
		}
		target := out
		if !last || want != len(out) {
			b := d.buffer(want)
			spare = append(spare, b)
			target = *b
		}
		switch fl := d.filters[i]; fl.id {
		case filterDeflate:
			if err := d.inflate(data, target); err != nil {
				return err
			}
			data = target
		case filterShuffle:
			if len(data) != want {
				return fmt.Errorf("shuffled data of %d bytes, expected %d", len(data), want)
			}
			unshuffle(data, target, int(fl.params[0]))
			data = target
		case filterFletcher32:
			if len(data) < 4 {
				return errors.New("fletcher32: chunk shorter than its checksum")
			}
			body, stored := data[:len(data)-4], data[len(data)-4:]
			sum := fletcher32(body)
			var le, swapped [4]byte
			binary.LittleEndian.PutUint32(le[:], sum)
			swapped = [4]byte{le[1], le[0], le[3], le[2]}
			if !bytes.Equal(stored, le[:]) && !bytes.Equal(stored, swapped[:]) {
				return fmt.Errorf("fletcher32 checksum mismatch: stored % x, computed % x (corrupt chunk)", stored, le)
			}
			data = body
		}
	}
	if len(data) != len(out) {
		return fmt.Errorf("decoded chunk has %d bytes, expected %d", len(data), len(out))
	}
	if len(data) > 0 && &data[0] != &out[0] {
		copy(out, data)
	}
	return nil
}

// inflater is a reusable zlib reader over a reusable source.
type inflater struct {
	src bytes.Reader
	zr  io.ReadCloser
}

// inflate decompresses the zlib stream src, which must hold exactly
// len(dst) bytes, into dst. The stream's Adler-32 checksum is verified.
func (d *Dataset) inflate(src, dst []byte) error {
	z, _ := d.inflaters.Get().(*inflater)
	if z == nil {
		z = new(inflater)
	}
	z.src.Reset(src)
	var err error
	if z.zr == nil {
		z.zr, err = zlib.NewReader(&z.src)
	} else {
		err = z.zr.(zlib.Resetter).Reset(&z.src, nil)
	}
	if err != nil {
		return fmt.Errorf("deflate: %w", err)
	}
	defer d.inflaters.Put(z)
	if _, err := io.ReadFull(z.zr, dst); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("deflate: stream ends before the %d bytes of the chunk", len(dst))
		}
		return fmt.Errorf("deflate: %w", err)
	}
	var extra [1]byte
	if n, err := z.zr.Read(extra[:]); n > 0 {
		return fmt.Errorf("deflate: stream holds more than the %d bytes of the chunk", len(dst))
	} else if err != io.EOF {
		return fmt.Errorf("deflate: %w", err)
	}
	return nil
}

// unshuffle undoes HDF5's byte shuffle of elements of size bytes: src holds
// every element's first byte, then every second byte, and so on; trailing
// bytes that do not fill an element are stored as they are, as is all of
// src when it is shorter than one element (the size comes from the file).
func unshuffle(src, dst []byte, size int) {
	if size <= 1 || size > len(src) {
		copy(dst, src)
		return
	}
	n := len(src) / size
	for b := range size {
		plane := src[b*n : (b+1)*n]
		for j, v := range plane {
			dst[j*size+b] = v
		}
	}
	copy(dst[n*size:], src[n*size:])
}

// fletcher32 is HDF5's Fletcher-32 over 16-bit big-endian words.
func fletcher32(p []byte) uint32 {
	var s1, s2 uint32
	for len(p) >= 2 {
		n := min(len(p)/2, 360)
		for range n {
			s1 += uint32(p[0])<<8 | uint32(p[1])
			s2 += s1
			p = p[2:]
		}
		s1 = s1&0xffff + s1>>16
		s2 = s2&0xffff + s2>>16
	}
	if len(p) == 1 {
		s1 += uint32(p[0]) << 8
		s2 += s1
		s1 = s1&0xffff + s1>>16
		s2 = s2&0xffff + s2>>16
	}
	s1 = s1&0xffff + s1>>16
	s2 = s2&0xffff + s2>>16
	return s2<<16 | s1
}

// copyChunk copies the part of a decoded chunk at origin that lies in rows
// [start, start+n) and inside the dataset into dst, row by row along the
// last dimension.
func (d *Dataset) copyChunk(dst []byte, start, n uint64, src []byte, origin []uint64) {
	rank := len(d.shape)
	lo := make([]uint64, rank)
	hi := make([]uint64, rank)
	for i := range rank {
		lo[i] = origin[i]
		hi[i] = min(origin[i]+d.chunk[i], d.shape[i])
	}
	lo[0] = max(lo[0], start)
	hi[0] = min(hi[0], start+n)
	if lo[0] >= hi[0] {
		return
	}
	es := uint64(d.dtype.Size)
	// Element strides of the chunk and of the rows in dst, C order.
	cs := make([]uint64, rank)
	ds := make([]uint64, rank)
	cs[rank-1], ds[rank-1] = 1, 1
	for i := rank - 2; i >= 0; i-- {
		cs[i] = cs[i+1] * d.chunk[i+1]
		ds[i] = ds[i+1] * d.shape[i+1]
	}
	last := rank - 1
	run := (hi[last] - lo[last]) * es
	x := slices.Clone(lo)
	for {
		var s, t uint64
		for i := range rank {
			s += (x[i] - origin[i]) * cs[i]
			if i == 0 {
				t += (x[0] - start) * ds[0]
			} else {
				t += x[i] * ds[i]
			}
		}
		copy(dst[t*es:t*es+run], src[s*es:s*es+run])
		i := last - 1
		for ; i >= 0; i-- {
			x[i]++
			if x[i] < hi[i] {
				break
			}
			x[i] = lo[i]
		}
		if i < 0 {
			return
		}
	}
}
