package hdf5

import (
	"fmt"
	"sort"
)

const maxAttrs = 1 << 16

// attrs returns all attributes of an object: those in its header, then
// those in dense storage.
func (f *File) attrs(oh *objectHeader, kind, path string) ([]*Attribute, error) {
	where := kind + " " + path
	var out []*Attribute
	err := f.eachAttr(oh, where, func(a *Attribute) (bool, error) {
		out = append(out, a)
		return false, nil
	})
	if err != nil {
		return nil, wrapErr(err, kind, path)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// attr returns the named attribute of an object.
func (f *File) attr(oh *objectHeader, kind, path, name string) (*Attribute, error) {
	where := kind + " " + path
	var found *Attribute
	err := f.eachAttrNamed(oh, where, name, func(a *Attribute) (bool, error) {
		if a.name == name {
			found = a
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return nil, wrapErr(err, kind, path)
	}
	if found == nil {
		return nil, &pathError{kind: kind, path: path, err: fmt.Errorf("attribute %q %w", name, ErrNotFound)}
	}
	return found, nil
}

func (f *File) eachAttr(oh *objectHeader, where string, fn func(*Attribute) (bool, error)) error {
	return f.eachAttrNamed(oh, where, "", fn)
}

// eachAttrNamed calls fn with the object's attributes until it returns
// true. With a name, attributes in dense storage whose name hash differs
// are skipped without being decoded.
func (f *File) eachAttrNamed(oh *objectHeader, where, name string, fn func(*Attribute) (bool, error)) error {
	count := 0
	for _, m := range oh.msgs {
		if m.typ != msgAttribute {
			continue
		}
		if count++; count > maxAttrs {
			return fmt.Errorf("more than %d attributes", maxAttrs)
		}
		if m.flags&msgFlagShared != 0 {
			return unsupported("shared attribute message")
		}
		a, err := f.parseAttr(m.data, where)
		if err != nil {
			return err
		}
		if done, err := fn(a); done || err != nil {
			return err
		}
	}
	m := oh.find(msgAttrInfo)
	if m == nil {
		return nil
	}
	// Attribute info message: version 0, flags, [maximum creation index],
	// fractal heap address, name index address, [creation order index].
	d := f.decoder(m.data)
	if v := d.u8(); v != 0 {
		return unsupported("attribute info message version %d", v)
	}
	flags := d.u8()
	if flags&1 != 0 {
		d.skip(2)
	}
	heap, names := d.addr(), d.addr()
	if d.err != nil {
		return fmt.Errorf("attribute info message: %w", d.err)
	}
	if heap == undef {
		return nil
	}
	h, err := f.openFractalHeap(heap)
	if err != nil {
		return err
	}
	var hash uint32
	if name != "" {
		hash = lookup3([]byte(name), 0)
	}
	stop := false
	decoded := uint64(0)
	// Name index records (type 8): heap ID (8 bytes), message flags,
	// creation order, name hash.
	err = f.walkBTree2(names, 8, func(rec []byte) error {
		if stop {
			return nil
		}
		if len(rec) != h.idLen+1+4+4 {
			return fmt.Errorf("attribute name index record of %d bytes", len(rec))
		}
		if count++; count > maxAttrs {
			return fmt.Errorf("more than %d attributes", maxAttrs)
		}
		if rec[h.idLen]&msgFlagShared != 0 {
			return unsupported("shared attribute message")
		}
		if name != "" {
			d := decoder{b: rec[h.idLen+5:]}
			if d.u32() != hash {
				return nil
			}
		}
		obj, err := h.get(rec[:h.idLen])
		if err != nil {
			return err
		}
		if decoded += uint64(len(obj)); decoded > uint64(f.maxVal) {
			return fmt.Errorf("attributes of more than %d bytes", f.maxVal)
		}
		a, err := f.parseAttr(obj, where)
		if err != nil {
			return err
		}
		stop, err = fn(a)
		return err
	})
	return err
}

// parseAttr decodes an attribute message (versions 1 to 3): name, datatype,
// dataspace and data.
func (f *File) parseAttr(b []byte, where string) (*Attribute, error) {
	d := f.decoder(b)
	version := d.u8()
	if version < 1 || version > 3 {
		return nil, unsupported("attribute message version %d", version)
	}
	flags := d.u8()
	if flags&3 != 0 {
		return nil, unsupported("attribute with a shared datatype or dataspace")
	}
	nameLen := int(d.u16())
	typeLen := int(d.u16())
	spaceLen := int(d.u16())
	if version == 3 {
		d.skip(1) // name character set
	}
	pad := func(n int) int {
		if version == 1 {
			return (n + 7) &^ 7
		}
		return n
	}
	name := d.take(pad(nameLen))
	typ := d.take(pad(typeLen))
	space := d.take(pad(spaceLen))
	if d.err != nil {
		return nil, fmt.Errorf("attribute message: %w", d.err)
	}
	if nameLen > 0 {
		name = name[:nameLen]
		if j := indexByte(name, 0); j >= 0 {
			name = name[:j]
		}
	}
	a := &Attribute{f: f, name: string(name), where: where}
	var err error
	if a.dt, err = parseDatatype(typ[:typeLen]); err != nil {
		return nil, fmt.Errorf("attribute %q: %w", a.name, err)
	}
	if a.space, err = parseDataspace(space[:spaceLen], f.lenSize); err != nil {
		return nil, fmt.Errorf("attribute %q: %w", a.name, err)
	}
	need, ok := mulOK(a.space.n, uint64(a.dt.size))
	if !ok || need > uint64(d.remaining()) {
		return nil, fmt.Errorf("attribute %q: %d values of %d bytes do not fit its message", a.name, a.space.n, a.dt.size)
	}
	a.data = d.take(int(need))
	return a, nil
}
