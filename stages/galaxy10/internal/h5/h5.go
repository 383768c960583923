// Package h5 reads the datasets of an HDF5 file the way the galaxy10 stage
// needs them: small one-dimensional columns whole, and a large chunked,
// compressed array a few rows at a time, from many goroutines at once, with
// memory bounded by the rows asked for.
//
// It is a reader for a subset of the HDF5 file format (version 3.0 of the
// specification), the subset that h5py writes with its default and its
// libver="latest" settings:
//
//   - superblock versions 0 to 3;
//   - object headers versions 1 and 2, with continuation blocks;
//   - groups stored as symbol tables or as compact link messages (the datasets
//     must sit at the root group);
//   - compact, contiguous and chunked layouts; chunks indexed by a version 1
//     B-tree, a fixed array (paged or not), a single chunk, implicitly, an
//     extensible array (one unlimited dimension, paged data blocks included)
//     or a version 2 B-tree (several unlimited dimensions), so datasets that
//     h5py grew with resize() read too;
//   - the deflate (gzip), shuffle and Fletcher-32 filters;
//   - fixed-point and IEEE floating-point element types of either byte order.
//
// Everything else (dense link storage, other filters, shared or committed
// datatypes) is refused with an *Error that says what was found. Version 2
// metadata checksums are verified, and so is every read against the end of
// file the superblock records, so a truncated or damaged file fails with the
// file and the byte offset named instead of yielding wrong pixels.
//
// The module github.com/scigolib/hdf5 (v0.14.0) cannot do this job: it fails
// to open files written with libver="latest", parses version 4 layout
// messages as version 3 (so it has no fixed-array index), and its ReadSlice
// re-reads the object header and the whole chunk B-tree on every call and
// converts every element to float64.
package h5

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// An Error reports an HDF5 file this package cannot read: the file, the
// object or structure concerned and, when known, the byte offset.
type Error struct {
	File   string
	Object string // a dataset name or a structure such as "superblock"
	Offset int64  // byte offset in the file; -1 when not tied to one
	Err    error
}

func (e *Error) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("hdf5 %s: %s at byte %d: %v", e.File, e.Object, e.Offset, e.Err)
	}
	return fmt.Sprintf("hdf5 %s: %s: %v", e.File, e.Object, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// signature opens every HDF5 superblock.
var signature = []byte("\x89HDF\r\n\x1a\n")

// File is an open HDF5 file. Its methods and those of its Datasets are safe
// for concurrent use.
type File struct {
	name    string
	r       io.ReaderAt
	closer  io.Closer
	size    int64  // bytes in the file
	base    uint64 // absolute offset that addresses are relative to
	eof     uint64 // end-of-file address recorded in the superblock
	offSize int
	lenSize int
	members map[string]uint64 // root group: link name -> object header address

	noChecksums bool // fuzzing only: metadata checksums are not verified
}

// Open opens the HDF5 file at path and reads its superblock and root group.
func Open(path string) (*File, error) {
	r, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := r.Stat()
	if err != nil {
		r.Close()
		return nil, err
	}
	f, err := NewFile(path, r, st.Size())
	if err != nil {
		r.Close()
		return nil, err
	}
	f.closer = r
	return f, nil
}

// NewFile reads the HDF5 file of size bytes in r; name is used in errors.
// Closing the File does not close r.
func NewFile(name string, r io.ReaderAt, size int64) (*File, error) {
	return newFile(&File{name: name, r: r, size: size})
}

// newFile reads the superblock and root group of f.
func newFile(f *File) (*File, error) {
	root, err := f.readSuperblock()
	if err != nil {
		return nil, err
	}
	if f.members, err = f.readGroup(root); err != nil {
		return nil, err
	}
	return f, nil
}

// Close closes the file if Open opened it.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// Name returns the path the file was opened with.
func (f *File) Name() string { return f.name }

// Members returns the names of the root group's members, sorted.
func (f *File) Members() []string { return slices.Sorted(maps.Keys(f.members)) }

func (f *File) errorf(object string, offset int64, format string, args ...any) error {
	return &Error{File: f.name, Object: object, Offset: offset, Err: fmt.Errorf(format, args...)}
}

// readAt fills p from address addr (relative to the base address). A read
// past the recorded or the actual end of file is an *Error naming what was
// being read.
func (f *File) readAt(p []byte, addr uint64, object string) error {
	if addr == undefined {
		return f.errorf(object, -1, "address not allocated")
	}
	abs := f.base + addr
	end := abs + uint64(len(p))
	if abs < f.base || end < abs || end > uint64(f.size) {
		return f.errorf(object, int64(abs),
			"%d bytes needed up to byte %d, but the file ends at byte %d (truncated?)", len(p), end, f.size)
	}
	if _, err := f.r.ReadAt(p, int64(abs)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return &Error{File: f.name, Object: object, Offset: int64(abs), Err: err}
	}
	return nil
}

// read returns n bytes at addr. The range is checked against the file size
// before anything is allocated, so a corrupt length cannot exhaust memory.
func (f *File) read(addr uint64, n int, object string) ([]byte, error) {
	if addr != undefined && (n < 0 || f.base+addr+uint64(n) > uint64(f.size) || f.base+addr+uint64(n) < f.base+addr) {
		return nil, f.errorf(object, int64(f.base+addr),
			"%d bytes needed, but the file ends at byte %d (truncated?)", n, f.size)
	}
	p := make([]byte, n)
	if err := f.readAt(p, addr, object); err != nil {
		return nil, err
	}
	return p, nil
}

// decoder returns a decoder over p that knows the file's field sizes.
func (f *File) decoder(p []byte) *decoder {
	return &decoder{b: p, offSize: f.offSize, lenSize: f.lenSize}
}

// readSuperblock finds and decodes the superblock and returns the address of
// the root group's object header.
func (f *File) readSuperblock() (uint64, error) {
	// The superblock sits at 0 or, after a user block, at 512, 1024, 2048, …
	at := int64(-1)
	sig := make([]byte, len(signature))
	for off := int64(0); off+int64(len(sig)) <= f.size; off = max(512, 2*off) {
		if _, err := f.r.ReadAt(sig, off); err != nil {
			break
		}
		if bytes.Equal(sig, signature) {
			at = off
			break
		}
	}
	if at < 0 {
		return 0, f.errorf("superblock", -1, "not an HDF5 file (no signature at byte 0 or any power of two from 512)")
	}
	head := make([]byte, 96)
	n, _ := f.r.ReadAt(head, at)
	head = head[:n]
	if len(head) < 12 {
		return 0, f.errorf("superblock", at, "file ends inside the superblock")
	}
	version := head[8]
	var root uint64
	var err error
	switch version {
	case 0, 1:
		root, err = f.superblockV0(head, version)
	case 2, 3:
		root, err = f.superblockV2(head)
	default:
		return 0, f.errorf("superblock", at, "superblock version %d: only 0 to 3 are supported", version)
	}
	if err != nil {
		return 0, &Error{File: f.name, Object: "superblock", Offset: at, Err: err}
	}
	if f.base != uint64(at) {
		return 0, f.errorf("superblock", at, "base address %d differs from the superblock position: not supported", f.base)
	}
	if f.eof != undefined && f.base+f.eof > uint64(f.size) {
		return 0, f.errorf("superblock", at,
			"truncated: the superblock records the end of file at byte %d, but the file has %d bytes", f.base+f.eof, f.size)
	}
	return root, nil
}

func (f *File) superblockV0(p []byte, version uint8) (uint64, error) {
	d := &decoder{b: p}
	d.skip(8 + 1 + 3 + 1) // signature, versions, reserved, shared-header version
	f.offSize = int(d.u8())
	f.lenSize = int(d.u8())
	if err := f.checkSizes(); err != nil {
		return 0, err
	}
	d.offSize, d.lenSize = f.offSize, f.lenSize
	d.skip(1 + 2 + 2 + 4) // reserved, group K values, consistency flags
	if version == 1 {
		d.skip(4) // indexed-storage K, reserved
	}
	f.base = d.addr()
	d.addr() // free-space info
	f.eof = d.addr()
	d.addr() // driver info
	// Root group symbol table entry: link name offset, object header address.
	d.addr()
	root := d.addr()
	if d.err != nil {
		return 0, d.err
	}
	return root, nil
}

func (f *File) superblockV2(p []byte) (uint64, error) {
	d := &decoder{b: p}
	d.skip(8 + 1)
	f.offSize = int(d.u8())
	f.lenSize = int(d.u8())
	if err := f.checkSizes(); err != nil {
		return 0, err
	}
	d.offSize, d.lenSize = f.offSize, f.lenSize
	d.skip(1) // consistency flags
	f.base = d.addr()
	d.addr() // superblock extension
	f.eof = d.addr()
	root := d.addr()
	end := d.off
	sum := d.u32()
	if d.err != nil {
		return 0, d.err
	}
	if got := lookup3(p[:end]); got != sum {
		return 0, fmt.Errorf("checksum mismatch: stored %#08x, computed %#08x", sum, got)
	}
	return root, nil
}

func (f *File) checkSizes() error {
	for _, n := range []int{f.offSize, f.lenSize} {
		if n != 2 && n != 4 && n != 8 {
			return fmt.Errorf("field size %d bytes: expected 2, 4 or 8", n)
		}
	}
	return nil
}

// verifyChecksum checks the lookup3 checksum stored in the last four bytes
// of a version 2 structure read from addr.
func (f *File) verifyChecksum(p []byte, addr uint64, object string) error {
	if len(p) < 4 {
		return f.errorf(object, int64(f.base+addr), "%v", errShort)
	}
	d := &decoder{b: p[len(p)-4:]}
	stored := d.u32()
	if got := lookup3(p[:len(p)-4]); got != stored && !f.noChecksums {
		return f.errorf(object, int64(f.base+addr), "metadata checksum mismatch: stored %#08x, computed %#08x (corrupt file?)", stored, got)
	}
	return nil
}
