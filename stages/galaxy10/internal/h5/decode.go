package h5

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errShort reports a structure that ends before its fields do.
var errShort = errors.New("structure ends early")

// decoder reads the little-endian fields of one HDF5 structure held in
// memory. The first read past the end sets err; later reads return zero, so
// a caller decodes a whole structure and checks err once.
type decoder struct {
	b       []byte
	off     int
	offSize int // bytes in an address ("size of offsets")
	lenSize int // bytes in a length ("size of lengths")
	err     error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = fmt.Errorf("%w: need %d bytes at +%d, have %d", errShort, n, d.off, len(d.b)-d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) skip(n int)         { d.take(n) }
func (d *decoder) remaining() int     { return len(d.b) - d.off }
func (d *decoder) bytes(n int) []byte { return d.take(n) }

func (d *decoder) u8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if p := d.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// uvar reads an unsigned little-endian integer of n bytes (0 to 8).
func (d *decoder) uvar(n int) uint64 {
	if n > 8 {
		if d.err == nil {
			d.err = fmt.Errorf("integer field of %d bytes: at most 8 supported", n)
		}
		return 0
	}
	p := d.take(n)
	var v uint64
	for i := len(p) - 1; i >= 0; i-- {
		v = v<<8 | uint64(p[i])
	}
	return v
}

// addr reads a file address. An all-ones address is returned as undefined.
func (d *decoder) addr() uint64 {
	v := d.uvar(d.offSize)
	if d.offSize < 8 && v == 1<<(8*d.offSize)-1 {
		return undefined
	}
	return v
}

func (d *decoder) length() uint64 { return d.uvar(d.lenSize) }

// undefined is the address HDF5 uses for "not allocated".
const undefined = ^uint64(0)
