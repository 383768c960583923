package h5

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"sync"
)

// Class is the class of a dataset's elements.
type Class uint8

// The element classes this package reads.
const (
	Integer Class = iota // fixed-point
	Float                // IEEE 754 floating point
)

// Datatype describes a dataset's elements.
type Datatype struct {
	Class     Class
	Size      int // bytes per element
	Signed    bool
	BigEndian bool
}

func (t Datatype) String() string {
	s := fmt.Sprintf("int%d", 8*t.Size)
	switch {
	case t.Class == Float:
		s = fmt.Sprintf("float%d", 8*t.Size)
	case !t.Signed:
		s = "u" + s
	}
	if t.BigEndian {
		s += " big-endian"
	}
	return s
}

// Storage layouts.
const (
	layoutCompact = iota
	layoutContiguous
	layoutChunked
)

// Dataset is one dataset of a File. Reading it is safe from many goroutines.
type Dataset struct {
	f        *File
	name     string
	shape    []uint64
	maxShape []uint64
	dtype    Datatype
	rowBytes int // bytes per index of the first dimension

	layout  int
	compact []byte // compact: the data
	addr    uint64 // contiguous: where the data starts
	size    uint64 // contiguous: bytes stored

	// chunked
	chunk      []uint64 // chunk dimensions
	grid       []uint64 // chunks along each dimension
	chunkBytes int      // bytes in one (unfiltered) chunk
	index      chunkIndex
	chunks     []chunkRef // by row-major position in grid
	filters    []filter
	keepEdges  bool      // partial edge chunks are stored unfiltered
	buffers    sync.Pool // *[]byte of chunkBytes, for chunks not decoded in place
	inflaters  sync.Pool // zlib readers
}

// chunkRef locates one stored chunk.
type chunkRef struct {
	addr uint64 // undefined: never written
	size uint64 // bytes stored
	mask uint32 // bit i set: filter i was not applied
}

func (f *File) openDataset(name string, addr uint64) (*Dataset, error) {
	msgs, err := f.readObjectHeader(addr, name)
	if err != nil {
		return nil, err
	}
	d := &Dataset{f: f, name: name}
	for _, step := range []struct {
		typ   uint16
		label string
		parse func(*message) error
	}{
		{msgDataspace, "dataspace", d.parseDataspace},
		{msgDatatype, "datatype", d.parseDatatype},
		{msgLayout, "data layout", d.parseLayout},
	} {
		m, err := f.need(msgs, step.typ, step.label, name)
		if err != nil {
			return nil, err
		}
		if err := step.parse(m); err != nil {
			return nil, err
		}
	}
	if m := find(msgs, msgFilters); m != nil {
		if err := d.parseFilters(m); err != nil {
			return nil, err
		}
	}
	d.rowBytes = d.dtype.Size
	for _, n := range d.shape[1:] {
		if n > maxRowBytes || uint64(d.rowBytes)*n > maxRowBytes {
			return nil, f.errorf(name, -1, "shape %s: rows of more than %d bytes", fmtDims(d.shape), maxRowBytes)
		}
		d.rowBytes *= int(n)
	}
	switch d.layout {
	case layoutCompact:
		if uint64(len(d.compact)) < d.shape[0]*uint64(d.rowBytes) {
			return nil, f.errorf(name, -1, "compact data of %d bytes for shape %s", len(d.compact), fmtDims(d.shape))
		}
	case layoutContiguous:
		if d.addr != undefined && d.size < d.shape[0]*uint64(d.rowBytes) {
			return nil, f.errorf(name, -1, "contiguous data of %d bytes for shape %s", d.size, fmtDims(d.shape))
		}
	case layoutChunked:
		if err := d.indexChunks(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// maxRowBytes bounds the size of one index of the first dimension.
const maxRowBytes = 1 << 30

// maxChunkBytes bounds the size of one decoded chunk.
const maxChunkBytes = 256 << 20

// Name returns the dataset's name.
func (d *Dataset) Name() string { return d.name }

// Shape returns the dataset's dimensions.
func (d *Dataset) Shape() []uint64 { return append([]uint64(nil), d.shape...) }

// Type returns the dataset's element type.
func (d *Dataset) Type() Datatype { return d.dtype }

// RowBytes returns the bytes in one index of the first dimension (one image
// of an (N, H, W, C) array, one element of a 1-D array).
func (d *Dataset) RowBytes() int { return d.rowBytes }

// ChunkRows returns the rows (indexes of the first dimension) per chunk, 1
// for unchunked data. Reads of whole aligned chunk rows decode each chunk
// once; others decode the chunks they overlap for each call.
func (d *Dataset) ChunkRows() uint64 {
	if d.layout != layoutChunked {
		return 1
	}
	return d.chunk[0]
}

// Layout describes the storage for messages: "contiguous", or "chunked
// (1, 256, 256, 3) deflate".
func (d *Dataset) Layout() string {
	switch d.layout {
	case layoutCompact:
		return "compact"
	case layoutContiguous:
		return "contiguous"
	}
	s := "chunked " + fmtDims(d.chunk)
	for _, fl := range d.filters {
		s += " " + fl.String()
	}
	return s
}

func (d *Dataset) parseDataspace(m *message) error {
	dec := d.f.decoder(m.data)
	version := dec.u8()
	rank := int(dec.u8())
	flags := dec.u8()
	switch version {
	case 1:
		dec.skip(5)
	case 2:
		if typ := dec.u8(); typ != 1 {
			return d.f.errorf(d.name, int64(d.f.base+m.addr), "dataspace of type %d (scalar or null): expected a simple array", typ)
		}
	default:
		return d.f.errorf(d.name, int64(d.f.base+m.addr), "dataspace message version %d: expected 1 or 2", version)
	}
	if rank == 0 {
		return d.f.errorf(d.name, int64(d.f.base+m.addr), "scalar dataspace: expected an array")
	}
	d.shape = make([]uint64, rank)
	for i := range d.shape {
		d.shape[i] = dec.length()
	}
	d.maxShape = d.shape
	if flags&0x01 != 0 {
		d.maxShape = make([]uint64, rank)
		for i := range d.maxShape {
			d.maxShape[i] = dec.length()
		}
	}
	if dec.err != nil {
		return d.f.errorf(d.name, int64(d.f.base+m.addr), "dataspace message: %v", dec.err)
	}
	return nil
}

func (d *Dataset) parseDatatype(m *message) error {
	at := int64(d.f.base + m.addr)
	dec := d.f.decoder(m.data)
	cv := dec.u8()
	bits := dec.bytes(3)
	size := int(dec.u32())
	if dec.err != nil {
		return d.f.errorf(d.name, at, "datatype message: %v", dec.err)
	}
	t := Datatype{Size: size, BigEndian: bits[0]&0x01 != 0}
	switch class := cv & 0x0f; class {
	case 0:
		t.Class = Integer
		t.Signed = bits[0]&0x08 != 0
		dec.skip(2)
		if prec := dec.u16(); dec.err == nil && int(prec) != 8*size {
			return d.f.errorf(d.name, at, "integer of %d bits in %d bytes: not supported", prec, size)
		}
		if size != 1 && size != 2 && size != 4 && size != 8 {
			return d.f.errorf(d.name, at, "integer of %d bytes: not supported", size)
		}
	case 1:
		t.Class = Float
		if bits[0]&0x40 != 0 {
			return d.f.errorf(d.name, at, "VAX floating-point byte order: not supported")
		}
		dec.skip(4)
		expLoc, expSize, manLoc, manSize := dec.u8(), dec.u8(), dec.u8(), dec.u8()
		ieee := (size == 8 && expLoc == 52 && expSize == 11 && manLoc == 0 && manSize == 52) ||
			(size == 4 && expLoc == 23 && expSize == 8 && manLoc == 0 && manSize == 23)
		if dec.err != nil || !ieee {
			return d.f.errorf(d.name, at, "floating point of %d bytes that is not IEEE 754 binary32/64: not supported", size)
		}
	default:
		return d.f.errorf(d.name, at, "datatype class %d: only integers and floats are supported", class)
	}
	d.dtype = t
	return nil
}

func (d *Dataset) parseLayout(m *message) error {
	at := int64(d.f.base + m.addr)
	dec := d.f.decoder(m.data)
	version := dec.u8()
	if version != 3 && version != 4 {
		return d.f.errorf(d.name, at, "data layout message version %d: only 3 and 4 are supported", version)
	}
	class := dec.u8()
	switch class {
	case 0:
		d.layout = layoutCompact
		d.compact = dec.bytes(int(dec.u16()))
	case 1:
		d.layout = layoutContiguous
		d.addr = dec.addr()
		d.size = dec.length()
	case 2:
		d.layout = layoutChunked
		if err := d.parseChunkedLayout(dec, version, at); err != nil {
			return err
		}
	default:
		return d.f.errorf(d.name, at, "layout class %d (virtual?): not supported", class)
	}
	if dec.err != nil {
		return d.f.errorf(d.name, at, "data layout message: %v", dec.err)
	}
	return nil
}

// Chunk index types of a version 4 layout message.
const (
	indexSingle     = 1
	indexImplicit   = 2
	indexFixedArray = 3
	indexExtensible = 4
	indexBTree2     = 5
	indexBTree1     = 0xff // not encoded: what a version 3 message implies
)

// chunkIndex records where a chunked layout message says the chunks are.
type chunkIndex struct {
	kind       uint8
	addr       uint64
	singleSize uint64 // single chunk, filtered: bytes stored
	singleMask uint32
	ea         earrayParams // extensible array: its creation parameters
	bt2        btree2Params // version 2 B-tree: its creation parameters
}

// earrayParams are the creation parameters of an extensible array that a
// layout message repeats from the array's header.
type earrayParams struct {
	maxBits  uint8 // bits of the largest element index
	idxElmts uint8 // elements stored in the index block
	minPtrs  uint8 // data block pointers of the smallest secondary block
	minElmts uint8 // elements of the smallest data block
	pageBits uint8 // log2 of the elements of a data block page
}

// btree2Params are the creation parameters of a version 2 B-tree that a
// layout message repeats from the tree's header.
type btree2Params struct {
	nodeSize     uint32
	split, merge uint8
}

func (d *Dataset) parseChunkedLayout(dec *decoder, version uint8, at int64) error {
	var ndims int
	var dims []uint64
	idx := chunkIndex{kind: indexBTree1}
	if version == 3 {
		ndims = int(dec.u8())
		idx.addr = dec.addr()
		dims = make([]uint64, ndims)
		for i := range dims {
			dims[i] = uint64(dec.u32())
		}
	} else {
		flags := dec.u8()
		d.keepEdges = flags&0x01 != 0
		ndims = int(dec.u8())
		width := int(dec.u8())
		dims = make([]uint64, ndims)
		for i := range dims {
			dims[i] = dec.uvar(width)
		}
		idx.kind = dec.u8()
		switch idx.kind {
		case indexSingle:
			if flags&0x02 != 0 {
				idx.singleSize = dec.length()
				idx.singleMask = dec.u32()
			}
		case indexImplicit:
		case indexFixedArray:
			dec.skip(1)
		case indexExtensible:
			idx.ea = earrayParams{maxBits: dec.u8(), idxElmts: dec.u8(), minPtrs: dec.u8(), minElmts: dec.u8(), pageBits: dec.u8()}
		case indexBTree2:
			idx.bt2 = btree2Params{nodeSize: dec.u32(), split: dec.u8(), merge: dec.u8()}
		default:
			return d.f.errorf(d.name, at, "unknown chunk index type %d", idx.kind)
		}
		idx.addr = dec.addr()
	}
	if dec.err != nil {
		return d.f.errorf(d.name, at, "chunked layout: %v", dec.err)
	}
	if ndims != len(d.shape)+1 || dims[ndims-1] != uint64(d.dtype.Size) {
		return d.f.errorf(d.name, at, "chunk dimensions %s do not fit shape %s of %d-byte elements", fmtDims(dims), fmtDims(d.shape), d.dtype.Size)
	}
	d.chunk = dims[:ndims-1]
	d.chunkBytes = d.dtype.Size
	for _, c := range d.chunk {
		if c == 0 || c > 1<<31 {
			return d.f.errorf(d.name, at, "chunk dimensions %s", fmtDims(d.chunk))
		}
		d.chunkBytes *= int(c)
		if d.chunkBytes > maxChunkBytes {
			return d.f.errorf(d.name, at, "chunks %s of more than %d MiB: not supported", fmtDims(dims), maxChunkBytes>>20)
		}
	}
	d.index = idx
	return nil
}

// Filters of a filter pipeline.
const (
	filterDeflate    = 1
	filterShuffle    = 2
	filterFletcher32 = 3
)

type filter struct {
	id     uint16
	name   string
	params []uint32
}

func (fl filter) String() string {
	switch fl.id {
	case filterDeflate:
		return "deflate"
	case filterShuffle:
		return "shuffle"
	case filterFletcher32:
		return "fletcher32"
	}
	return fmt.Sprintf("filter-%d(%s)", fl.id, fl.name)
}

func (d *Dataset) parseFilters(m *message) error {
	at := int64(d.f.base + m.addr)
	dec := d.f.decoder(m.data)
	version := dec.u8()
	n := int(dec.u8())
	if version == 1 {
		dec.skip(6)
	} else if version != 2 {
		return d.f.errorf(d.name, at, "filter pipeline message version %d: expected 1 or 2", version)
	}
	for range n {
		var fl filter
		fl.id = dec.u16()
		nameLen := 0
		if version == 1 || fl.id >= 256 {
			nameLen = int(dec.u16())
		}
		dec.u16() // flags
		nparams := int(dec.u16())
		if nameLen > 0 {
			padded := nameLen
			if version == 1 {
				padded = (nameLen + 7) &^ 7
			}
			name := dec.bytes(padded)
			if len(name) >= nameLen {
				fl.name = string(name[:nameLen])
				if i := strings.IndexByte(fl.name, 0); i >= 0 {
					fl.name = fl.name[:i]
				}
			}
		}
		for range nparams {
			fl.params = append(fl.params, dec.u32())
		}
		if version == 1 && nparams%2 == 1 {
			dec.skip(4)
		}
		if dec.err != nil {
			return d.f.errorf(d.name, at, "filter pipeline message: %v", dec.err)
		}
		switch fl.id {
		case filterDeflate, filterFletcher32:
		case filterShuffle:
			if len(fl.params) == 0 || fl.params[0] == 0 {
				fl.params = []uint32{uint32(d.dtype.Size)}
			}
		default:
			return d.f.errorf(d.name, at, "filter %d (%q) is not supported: only deflate (gzip), shuffle and fletcher32 are", fl.id, fl.name)
		}
		d.filters = append(d.filters, fl)
	}
	return nil
}

// ReadRows reads rows [start, start+n) of the first dimension into dst,
// which must hold n·RowBytes bytes, in the file's byte order and C order.
// Only the chunks overlapping those rows are read and decoded.
func (d *Dataset) ReadRows(dst []byte, start, n uint64) error {
	if start > d.shape[0] || n > d.shape[0]-start {
		return d.f.errorf(d.name, -1, "rows [%d, %d) out of range: the dataset has %d", start, start+n, d.shape[0])
	}
	if uint64(len(dst)) != n*uint64(d.rowBytes) {
		return d.f.errorf(d.name, -1, "buffer of %d bytes for %d rows of %d bytes", len(dst), n, d.rowBytes)
	}
	if n == 0 {
		return nil
	}
	rb := uint64(d.rowBytes)
	switch d.layout {
	case layoutCompact:
		copy(dst, d.compact[start*rb:])
		return nil
	case layoutContiguous:
		if d.addr == undefined {
			return d.f.errorf(d.name, -1, "no data stored (the dataset was never written)")
		}
		return d.f.readAt(dst, d.addr+start*rb, d.name)
	}
	return d.readChunkedRows(dst, start, n)
}

// ChunkLocation returns the byte offset in the file and the stored size of
// the data holding row: its first chunk for chunked data, the row itself
// otherwise. It is for diagnostics and tests.
func (d *Dataset) ChunkLocation(row uint64) (offset, size uint64, err error) {
	if row >= d.shape[0] {
		return 0, 0, d.f.errorf(d.name, -1, "row %d out of range: the dataset has %d", row, d.shape[0])
	}
	switch d.layout {
	case layoutCompact:
		return 0, 0, d.f.errorf(d.name, -1, "compact data lives in the object header")
	case layoutContiguous:
		return d.f.base + d.addr + row*uint64(d.rowBytes), uint64(d.rowBytes), nil
	}
	ref := d.chunks[row/d.chunk[0]*(uint64(len(d.chunks))/d.grid[0])]
	if ref.addr == undefined {
		return 0, 0, d.f.errorf(d.name, -1, "the chunk of row %d was never written", row)
	}
	return d.f.base + ref.addr, ref.size, nil
}

// Float64s reads a whole one-dimensional numeric dataset as float64.
func (d *Dataset) Float64s() ([]float64, error) {
	raw, err := d.readAll1D()
	if err != nil {
		return nil, err
	}
	out := make([]float64, d.shape[0])
	t := d.dtype
	order := byteOrder(t)
	for i := range out {
		p := raw[i*t.Size : (i+1)*t.Size]
		switch {
		case t.Class == Float && t.Size == 8:
			out[i] = math.Float64frombits(order.Uint64(p))
		case t.Class == Float:
			out[i] = float64(math.Float32frombits(order.Uint32(p)))
		case t.Signed:
			out[i] = float64(signed(p, order))
		default:
			out[i] = float64(unsigned(p, order))
		}
	}
	return out, nil
}

// Int64s reads a whole one-dimensional integer dataset as int64.
func (d *Dataset) Int64s() ([]int64, error) {
	if d.dtype.Class != Integer {
		return nil, d.f.errorf(d.name, -1, "elements are %s: expected integers", d.dtype)
	}
	raw, err := d.readAll1D()
	if err != nil {
		return nil, err
	}
	out := make([]int64, d.shape[0])
	order := byteOrder(d.dtype)
	for i := range out {
		p := raw[i*d.dtype.Size : (i+1)*d.dtype.Size]
		if d.dtype.Signed {
			out[i] = signed(p, order)
			continue
		}
		u := unsigned(p, order)
		if u > math.MaxInt64 {
			return nil, d.f.errorf(d.name, -1, "element %d is %d: beyond int64", i, u)
		}
		out[i] = int64(u)
	}
	return out, nil
}

func (d *Dataset) readAll1D() ([]byte, error) {
	if len(d.shape) != 1 {
		return nil, d.f.errorf(d.name, -1, "shape %s: expected one dimension", fmtDims(d.shape))
	}
	if d.shape[0] > 1<<27/uint64(d.rowBytes) {
		return nil, d.f.errorf(d.name, -1, "%d elements: too many to read whole", d.shape[0])
	}
	raw := make([]byte, d.shape[0]*uint64(d.rowBytes))
	return raw, d.ReadRows(raw, 0, d.shape[0])
}

func byteOrder(t Datatype) binary.ByteOrder {
	if t.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func unsigned(p []byte, order binary.ByteOrder) uint64 {
	switch len(p) {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(order.Uint16(p))
	case 4:
		return uint64(order.Uint32(p))
	}
	return order.Uint64(p)
}

func signed(p []byte, order binary.ByteOrder) int64 {
	switch len(p) {
	case 1:
		return int64(int8(p[0]))
	case 2:
		return int64(int16(order.Uint16(p)))
	case 4:
		return int64(int32(order.Uint32(p)))
	}
	return int64(order.Uint64(p))
}
