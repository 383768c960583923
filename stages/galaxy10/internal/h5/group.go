package h5

import (
	"bytes"
	"fmt"
)

// maxGroupNodes bounds the B-tree and symbol-table nodes visited in a group.
const maxGroupNodes = 1 << 16

// readGroup returns the members of the group whose object header is at addr:
// link name -> object header address. Soft and external links are skipped.
func (f *File) readGroup(addr uint64) (map[string]uint64, error) {
	const what = "root group"
	msgs, err := f.readObjectHeader(addr, what)
	if err != nil {
		return nil, err
	}
	if st := find(msgs, msgSymbolTable); st != nil {
		d := f.decoder(st.data)
		tree, heap := d.addr(), d.addr()
		if d.err != nil {
			return nil, f.errorf(what, int64(f.base+st.addr), "symbol table message: %v", d.err)
		}
		return f.symbolTable(tree, heap)
	}
	if li := find(msgs, msgLinkInfo); li != nil {
		d := f.decoder(li.data)
		d.skip(1)
		if d.u8()&0x01 != 0 {
			d.skip(8) // maximum creation index
		}
		if heap := d.addr(); d.err == nil && heap != undefined {
			return nil, f.errorf(what, int64(f.base+li.addr), "links kept in dense storage (fractal heap): not supported")
		}
	}
	members := map[string]uint64{}
	for _, m := range msgs {
		if m.typ != msgLink {
			continue
		}
		name, target, hard, err := f.link(m)
		if err != nil {
			return nil, err
		}
		if hard {
			members[name] = target
		}
	}
	return members, nil
}

// link decodes a link message.
func (f *File) link(m message) (name string, target uint64, hard bool, err error) {
	d := f.decoder(m.data)
	if v := d.u8(); v != 1 {
		return "", 0, false, f.errorf("root group link", int64(f.base+m.addr), "link message version %d: expected 1", v)
	}
	flags := d.u8()
	kind := uint8(0)
	if flags&0x08 != 0 {
		kind = d.u8()
	}
	if flags&0x04 != 0 {
		d.skip(8)
	}
	if flags&0x10 != 0 {
		d.skip(1)
	}
	n := d.uvar(1 << (flags & 3))
	name = string(d.bytes(int(min(n, 1<<16))))
	if kind == 0 {
		target = d.addr()
	}
	if d.err != nil {
		return "", 0, false, f.errorf("root group link", int64(f.base+m.addr), "link message: %v", d.err)
	}
	return name, target, kind == 0, nil
}

// symbolTable walks an old-style group: a version 1 B-tree of symbol table
// nodes whose entries name objects through a local heap.
func (f *File) symbolTable(tree, heapAddr uint64) (map[string]uint64, error) {
	const what = "root group"
	heap, err := f.localHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	members := map[string]uint64{}
	nodes := []uint64{tree}
	for visited := 0; len(nodes) > 0; visited++ {
		if visited == maxGroupNodes {
			return nil, f.errorf(what, -1, "more than %d B-tree nodes", maxGroupNodes)
		}
		addr := nodes[len(nodes)-1]
		nodes = nodes[:len(nodes)-1]
		level, children, err := f.btreeNode(addr, 0, f.lenSize, what)
		if err != nil {
			return nil, err
		}
		if level > 0 {
			for _, c := range children {
				nodes = append(nodes, c.child)
			}
			continue
		}
		for _, c := range children {
			if err := f.symbolNode(c.child, heap, members); err != nil {
				return nil, err
			}
		}
	}
	return members, nil
}

func (f *File) symbolNode(addr uint64, heap []byte, members map[string]uint64) error {
	const what = "root group symbol table node"
	p, err := f.read(addr, 8, what)
	if err != nil {
		return err
	}
	if !bytes.Equal(p[:4], []byte("SNOD")) {
		return f.errorf(what, int64(f.base+addr), "signature %q: expected SNOD", p[:4])
	}
	count := int(p[6]) | int(p[7])<<8
	entry := 2*f.offSize + 24
	p, err = f.read(addr+8, count*entry, what)
	if err != nil {
		return err
	}
	d := f.decoder(p)
	for range count {
		nameOff := d.uvar(f.offSize)
		obj := d.addr()
		d.skip(24) // cache type, reserved, scratch pad
		if nameOff >= uint64(len(heap)) {
			return f.errorf(what, int64(f.base+addr), "link name at heap offset %d beyond the heap (%d bytes)", nameOff, len(heap))
		}
		name := heap[nameOff:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		members[string(name)] = obj
	}
	return d.err
}

func (f *File) localHeap(addr uint64) ([]byte, error) {
	const what = "root group local heap"
	p, err := f.read(addr, 8+2*f.lenSize+f.offSize, what)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p[:4], []byte("HEAP")) {
		return nil, f.errorf(what, int64(f.base+addr), "signature %q: expected HEAP", p[:4])
	}
	d := f.decoder(p[8:])
	size := d.length()
	d.length() // free list
	data := d.addr()
	if size > 1<<24 {
		return nil, f.errorf(what, int64(f.base+addr), "heap of %d bytes: implausible", size)
	}
	return f.read(data, int(size), what)
}

// btreeChild is one child of a version 1 B-tree node with the key before it.
type btreeChild struct {
	key   []byte
	child uint64
}

// btreeNode reads a version 1 B-tree node of the given type (0 groups,
// 1 chunks) whose keys have keySize bytes.
func (f *File) btreeNode(addr uint64, typ uint8, keySize int, what string) (level uint8, children []btreeChild, err error) {
	head := 8 + 2*f.offSize
	p, err := f.read(addr, head, what)
	if err != nil {
		return 0, nil, err
	}
	d := f.decoder(p)
	if sig := d.bytes(4); !bytes.Equal(sig, []byte("TREE")) {
		return 0, nil, f.errorf(what, int64(f.base+addr), "B-tree node signature %q: expected TREE", sig)
	}
	if t := d.u8(); t != typ {
		return 0, nil, f.errorf(what, int64(f.base+addr), "B-tree node type %d: expected %d", t, typ)
	}
	level = d.u8()
	entries := int(d.u16())
	body, err := f.read(addr+uint64(head), entries*(keySize+f.offSize)+keySize, what)
	if err != nil {
		return 0, nil, err
	}
	d = f.decoder(body)
	children = make([]btreeChild, entries)
	for i := range children {
		children[i].key = d.bytes(keySize)
		children[i].child = d.addr()
	}
	if d.err != nil {
		return 0, nil, f.errorf(what, int64(f.base+addr), "B-tree node: %v", d.err)
	}
	return level, children, nil
}

// Dataset opens the root group member called name as a dataset.
func (f *File) Dataset(name string) (*Dataset, error) {
	addr, ok := f.members[name]
	if !ok {
		return nil, &Error{File: f.name, Object: name, Offset: -1,
			Err: fmt.Errorf("no such dataset in the root group (it has %v)", f.Members())}
	}
	return f.openDataset(name, addr)
}
