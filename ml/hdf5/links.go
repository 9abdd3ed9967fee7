package hdf5

import (
	"bytes"
	"fmt"
)

// Link types.
const (
	linkHard     = 0
	linkSoft     = 1
	linkExternal = 64
)

// Limits on groups.
const (
	maxLinks       = 1 << 20
	maxBTreeDepth  = 64
	maxNameBytes   = 1 << 16
	maxBTreeVisits = 1 << 20
	maxNameTotal   = 64 << 20 // bytes of link names in one group
)

// nameBudget bounds the bytes of names one group's links may hold, so that
// many links sharing one long name cannot allocate without bound.
type nameBudget struct{ left int }

func (b *nameBudget) take(n int) error {
	if b.left -= n; b.left < 0 {
		return fmt.Errorf("link names of more than %d bytes", maxNameTotal)
	}
	return nil
}

type link struct {
	name string
	kind uint8
	addr uint64 // hard links
}

func (l *link) kindName() string {
	switch l.kind {
	case linkSoft:
		return "soft link"
	case linkExternal:
		return "external link"
	}
	return fmt.Sprintf("link type %d", l.kind)
}

// readLinks returns the links of a group, whichever way it stores them.
func (f *File) readLinks(oh *objectHeader) ([]link, error) {
	budget := &nameBudget{left: maxNameTotal}
	if m := oh.find(msgSymbolTable); m != nil {
		d := f.decoder(m.data)
		btree, heap := d.addr(), d.addr()
		if d.err != nil {
			return nil, fmt.Errorf("symbol table message: %w", d.err)
		}
		return f.symbolTableLinks(btree, heap, budget)
	}
	var links []link
	if m := oh.find(msgLinkInfo); m != nil {
		d := f.decoder(m.data)
		if v := d.u8(); v != 0 {
			return nil, unsupported("link info message version %d", v)
		}
		flags := d.u8()
		if flags&1 != 0 {
			d.skip(8) // maximum creation index
		}
		heap, names := d.addr(), d.addr()
		if d.err != nil {
			return nil, fmt.Errorf("link info message: %w", d.err)
		}
		if heap != undef {
			var err error
			if links, err = f.denseLinks(heap, names, budget); err != nil {
				return nil, err
			}
		}
	}
	for _, m := range oh.msgs {
		if m.typ != msgLink {
			continue
		}
		if len(links) >= maxLinks {
			return nil, fmt.Errorf("more than %d links", maxLinks)
		}
		l, err := f.parseLink(m.data)
		if err != nil {
			return nil, err
		}
		if err := budget.take(len(l.name)); err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	return links, nil
}

// parseLink decodes a link message: version 1, flags, [link type],
// [creation order], [character set], name length, name, link information.
func (f *File) parseLink(b []byte) (link, error) {
	var l link
	d := f.decoder(b)
	if v := d.u8(); v != 1 {
		return l, unsupported("link message version %d", v)
	}
	flags := d.u8()
	if flags&0x08 != 0 {
		l.kind = d.u8()
	}
	if flags&0x04 != 0 {
		d.skip(8)
	}
	if flags&0x10 != 0 {
		d.skip(1)
	}
	n := d.uvar(1 << (flags & 3))
	if n == 0 || n > maxNameBytes {
		return l, fmt.Errorf("link message: name of %d bytes", n)
	}
	l.name = string(d.take(int(n)))
	if l.kind == linkHard {
		l.addr = d.addr()
	}
	if d.err != nil {
		return l, fmt.Errorf("link message: %w", d.err)
	}
	return l, nil
}

// denseLinks reads the link messages kept in a fractal heap, finding them
// through the name index (a version 2 B-tree of type 5 records: name hash,
// heap ID).
func (f *File) denseLinks(heapAddr, btreeAddr uint64, budget *nameBudget) ([]link, error) {
	h, err := f.openFractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var links []link
	err = f.walkBTree2(btreeAddr, 5, func(rec []byte) error {
		if len(rec) < 4+1 {
			return fmt.Errorf("link name index record of %d bytes", len(rec))
		}
		if len(links) >= maxLinks {
			return fmt.Errorf("more than %d links", maxLinks)
		}
		obj, err := h.get(rec[4:])
		if err != nil {
			return err
		}
		l, err := f.parseLink(obj)
		if err != nil {
			return err
		}
		if err := budget.take(len(l.name)); err != nil {
			return err
		}
		links = append(links, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return links, nil
}

// symbolTableLinks reads an old-style group: a version 1 B-tree (type 0)
// whose leaves point to symbol table nodes, with names in a local heap.
func (f *File) symbolTableLinks(btree, heapAddr uint64, budget *nameBudget) ([]link, error) {
	heap, err := f.readLocalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var links []link
	entrySize := 2*f.offSize + 4 + 4 + 16
	err = f.walkBTree1(btree, 0, func(child uint64, key []byte) error {
		b, err := f.readMeta(child, 8, "symbol table node")
		if err != nil {
			return err
		}
		d := f.decoder(b)
		if err := d.signature("SNOD"); err != nil {
			return fmt.Errorf("symbol table node at %#x: %w", child, err)
		}
		if v := d.u8(); v != 1 {
			return unsupported("symbol table node version %d", v)
		}
		d.skip(1)
		n := int(d.u16())
		if len(links)+n > maxLinks {
			return fmt.Errorf("more than %d links", maxLinks)
		}
		b, err = f.readMeta(child+8, uint64(n*entrySize), "symbol table node")
		if err != nil {
			return err
		}
		d = f.decoder(b)
		for i := 0; i < n; i++ {
			nameOff := d.length()
			addr := d.addr()
			cache := d.u32()
			d.skip(4 + 16) // reserved, scratch pad
			if d.err != nil {
				return fmt.Errorf("symbol table node at %#x: %w", child, d.err)
			}
			name, err := heap.name(nameOff)
			if err != nil {
				return fmt.Errorf("symbol table node at %#x: %w", child, err)
			}
			if err := budget.take(len(name)); err != nil {
				return err
			}
			l := link{name: name, kind: linkHard, addr: addr}
			if cache == 2 { // the scratch pad holds a soft link's value
				l.kind = linkSoft
			}
			links = append(links, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return links, nil
}

type localHeap struct {
	addr uint64
	data []byte
}

// readLocalHeap reads a local heap: "HEAP", version 0, reserved, data
// segment size, free list offset, data segment address.
func (f *File) readLocalHeap(addr uint64) (*localHeap, error) {
	b, err := f.readMeta(addr, uint64(8+2*f.lenSize+f.offSize), "local heap")
	if err != nil {
		return nil, err
	}
	d := f.decoder(b)
	if err := d.signature("HEAP"); err != nil {
		return nil, fmt.Errorf("local heap at %#x: %w", addr, err)
	}
	if v := d.u8(); v != 0 {
		return nil, unsupported("local heap version %d", v)
	}
	d.skip(3)
	size := d.length()
	d.length() // free list
	data := d.addr()
	if d.err != nil {
		return nil, fmt.Errorf("local heap at %#x: %w", addr, d.err)
	}
	seg, err := f.readMeta(data, size, "local heap data segment")
	if err != nil {
		return nil, err
	}
	return &localHeap{addr: addr, data: seg}, nil
}

// name returns the null-terminated string at off.
func (h *localHeap) name(off uint64) (string, error) {
	if off >= uint64(len(h.data)) {
		return "", fmt.Errorf("name offset %d is past the end of the local heap at %#x (%d bytes)", off, h.addr, len(h.data))
	}
	s := h.data[off:]
	if len(s) > maxNameBytes+1 {
		s = s[:maxNameBytes+1]
	}
	end := bytes.IndexByte(s, 0)
	if end < 0 {
		return "", fmt.Errorf("name at offset %d of the local heap at %#x is not terminated", off, h.addr)
	}
	if end == 0 {
		return "", fmt.Errorf("empty name at offset %d of the local heap at %#x", off, h.addr)
	}
	return string(s[:end]), nil
}

// walkBTree1 visits the children of the leaves (level 0) of a version 1
// B-tree of the given type, with each child's left key: for type 0 (group
// nodes) children are symbol table nodes; for type 1 (raw data chunks)
// children are chunks and keys hold their size, filter mask and offsets.
func (f *File) walkBTree1(addr uint64, typ uint8, fn func(child uint64, key []byte) error) error {
	return f.walkBTree1Key(addr, typ, 0, fn)
}

func (f *File) walkBTree1Key(addr uint64, typ uint8, keySize int, fn func(child uint64, key []byte) error) error {
	if typ == 0 {
		keySize = f.lenSize
	}
	seen := newVisited("B-tree node", maxBTreeVisits)
	var walk func(addr uint64, level int) error
	walk = func(addr uint64, level int) error {
		if err := seen.visit(addr); err != nil {
			return err
		}
		head, err := f.readMeta(addr, uint64(8+2*f.offSize), "B-tree node")
		if err != nil {
			return err
		}
		d := f.decoder(head)
		if err := d.signature("TREE"); err != nil {
			return fmt.Errorf("B-tree node at %#x: %w", addr, err)
		}
		if t := d.u8(); t != typ {
			return fmt.Errorf("B-tree node at %#x has type %d, want %d", addr, t, typ)
		}
		lvl := int(d.u8())
		n := int(d.u16())
		if level >= 0 && lvl != level {
			return fmt.Errorf("B-tree node at %#x has level %d, want %d", addr, lvl, level)
		}
		if lvl > maxBTreeDepth {
			return fmt.Errorf("B-tree node at %#x has level %d", addr, lvl)
		}
		body, err := f.readMeta(addr+uint64(len(head)), uint64(n*(keySize+f.offSize)+keySize), "B-tree node")
		if err != nil {
			return err
		}
		d = f.decoder(body)
		for i := 0; i < n; i++ {
			key := d.take(keySize)
			child := d.addr()
			if d.err != nil {
				return fmt.Errorf("B-tree node at %#x: %w", addr, d.err)
			}
			if lvl > 0 {
				if err := walk(child, lvl-1); err != nil {
					return err
				}
				continue
			}
			if err := fn(child, key); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(addr, -1)
}
