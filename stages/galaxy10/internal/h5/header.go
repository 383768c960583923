package h5

import (
	"bytes"
	"fmt"
)

// Header message types used here.
const (
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgLink         = 0x06
	msgLayout       = 0x08
	msgFilters      = 0x0b
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
)

// msgFlagShared marks a message stored elsewhere (shared or committed).
const msgFlagShared = 0x02

// message is one object header message.
type message struct {
	typ   uint16
	flags uint8
	addr  uint64 // address of the message data, for error reports
	data  []byte
}

// find returns the first message of type typ, or nil.
func find(msgs []message, typ uint16) *message {
	for i := range msgs {
		if msgs[i].typ == typ {
			return &msgs[i]
		}
	}
	return nil
}

// maxHeaderBlocks bounds the continuation blocks followed for one object,
// so that a corrupt file cannot make the reader loop.
const maxHeaderBlocks = 1024

// readObjectHeader returns the messages of the object header at addr,
// following continuation blocks. object names the object in errors.
func (f *File) readObjectHeader(addr uint64, object string) ([]message, error) {
	prefix := make([]byte, 4)
	if err := f.readAt(prefix, addr, object+" object header"); err != nil {
		return nil, err
	}
	if bytes.Equal(prefix, []byte("OHDR")) {
		return f.readHeaderV2(addr, object)
	}
	return f.readHeaderV1(addr, object)
}

type block struct{ addr, size uint64 }

func (f *File) readHeaderV1(addr uint64, object string) ([]message, error) {
	what := object + " object header"
	p, err := f.read(addr, 16, what)
	if err != nil {
		return nil, err
	}
	d := f.decoder(p)
	if v := d.u8(); v != 1 {
		return nil, f.errorf(what, int64(f.base+addr), "object header version %d: expected 1 or the OHDR signature", v)
	}
	d.skip(1)
	count := int(d.u16())
	d.skip(4) // reference count
	size := uint64(d.u32())
	var msgs []message
	todo := []block{{addr + 16, size}}
	for n := 0; len(todo) > 0; n++ {
		if n == maxHeaderBlocks {
			return nil, f.errorf(what, int64(f.base+addr), "more than %d continuation blocks", maxHeaderBlocks)
		}
		b := todo[0]
		todo = todo[1:]
		p, err := f.read(b.addr, int(b.size), what)
		if err != nil {
			return nil, err
		}
		d := f.decoder(p)
		for d.remaining() >= 8 && len(msgs) < count {
			at := b.addr + uint64(d.off)
			typ := d.u16()
			n := int(d.u16())
			flags := d.u8()
			d.skip(3)
			data := d.bytes(n)
			if d.err != nil {
				return nil, f.errorf(what, int64(f.base+at), "message of type %#x: %v", typ, d.err)
			}
			m := message{typ: typ, flags: flags, addr: at + 8, data: data}
			if typ == msgContinuation {
				c, err := f.continuation(m, what)
				if err != nil {
					return nil, err
				}
				todo = append(todo, c)
			}
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
}

func (f *File) continuation(m message, what string) (block, error) {
	d := f.decoder(m.data)
	c := block{addr: d.addr(), size: d.length()}
	if d.err != nil || c.size > 1<<26 {
		return c, f.errorf(what, int64(f.base+m.addr), "bad continuation message (address %d, %d bytes)", c.addr, c.size)
	}
	return c, nil
}

func (f *File) readHeaderV2(addr uint64, object string) ([]message, error) {
	what := object + " object header"
	// Signature, version, flags, optional times and attribute limits, and
	// the size of chunk 0 in up to 8 bytes.
	n := min(4+1+1+16+4+8, f.size-int64(f.base+addr))
	p, err := f.read(addr, int(max(n, 6)), what)
	if err != nil {
		return nil, err
	}
	d := f.decoder(p)
	d.skip(4)
	if v := d.u8(); v != 2 {
		return nil, f.errorf(what, int64(f.base+addr), "object header version %d after OHDR: expected 2", v)
	}
	flags := d.u8()
	if flags&0x20 != 0 {
		d.skip(16)
	}
	if flags&0x10 != 0 {
		d.skip(4)
	}
	size := d.uvar(1 << (flags & 3))
	if d.err != nil || size > 1<<26 {
		return nil, f.errorf(what, int64(f.base+addr), "bad header prefix (chunk size %d): %v", size, d.err)
	}
	start := uint64(d.off)
	whole, err := f.read(addr, int(start+size+4), what)
	if err != nil {
		return nil, err
	}
	if err := f.verifyChecksum(whole, addr, what); err != nil {
		return nil, err
	}
	msgHead := 4
	if flags&0x04 != 0 {
		msgHead = 6
	}
	h := &headerV2{f: f, what: what, msgHead: msgHead}
	if err := h.parse(whole[start:start+size], addr+start); err != nil {
		return nil, err
	}
	msgs, todo := &h.msgs, &h.todo
	for n := 0; len(*todo) > 0; n++ {
		if n == maxHeaderBlocks {
			return nil, f.errorf(what, int64(f.base+addr), "more than %d continuation blocks", maxHeaderBlocks)
		}
		b := (*todo)[0]
		*todo = (*todo)[1:]
		p, err := f.read(b.addr, int(b.size), what)
		if err != nil {
			return nil, err
		}
		if len(p) < 8 || !bytes.Equal(p[:4], []byte("OCHK")) {
			return nil, f.errorf(what, int64(f.base+b.addr), "continuation block without OCHK signature")
		}
		if err := f.verifyChecksum(p, b.addr, what); err != nil {
			return nil, err
		}
		if err := h.parse(p[4:len(p)-4], b.addr+4); err != nil {
			return nil, err
		}
	}
	return *msgs, nil
}

// headerV2 collects the messages of a version 2 object header and the
// continuation blocks still to read.
type headerV2 struct {
	f       *File
	what    string
	msgHead int // bytes before a message's data: 4, or 6 with creation order
	msgs    []message
	todo    []block
}

// parse reads the messages of one header block p, which starts at file
// address at.
func (h *headerV2) parse(p []byte, at uint64) error {
	f := h.f
	d := f.decoder(p)
	for d.remaining() >= h.msgHead {
		mat := at + uint64(d.off)
		typ := uint16(d.u8())
		n := int(d.u16())
		mflags := d.u8()
		if h.msgHead == 6 {
			d.skip(2)
		}
		data := d.bytes(n)
		if d.err != nil {
			return f.errorf(h.what, int64(f.base+mat), "message of type %#x: %v", typ, d.err)
		}
		m := message{typ: typ, flags: mflags, addr: mat + uint64(h.msgHead), data: data}
		if typ == msgContinuation {
			c, err := f.continuation(m, h.what)
			if err != nil {
				return err
			}
			h.todo = append(h.todo, c)
		}
		h.msgs = append(h.msgs, m)
	}
	return nil
}

// need returns the message of type typ, refusing a missing or shared one.
func (f *File) need(msgs []message, typ uint16, name, object string) (*message, error) {
	m := find(msgs, typ)
	if m == nil {
		return nil, f.errorf(object, -1, "no %s message in the object header", name)
	}
	if m.flags&msgFlagShared != 0 {
		return nil, f.errorf(object, int64(f.base+m.addr), "shared %s message: not supported", name)
	}
	return m, nil
}

// fmtDims formats a shape as (a, b, c).
func fmtDims(dims []uint64) string {
	var b bytes.Buffer
	b.WriteByte('(')
	for i, v := range dims {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, v)
	}
	b.WriteByte(')')
	return b.String()
}
