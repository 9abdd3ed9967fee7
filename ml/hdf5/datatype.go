package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Datatype classes.
const (
	classFixed  = 0
	classFloat  = 1
	classString = 3
	classVlen   = 9
)

var classNames = map[uint8]string{
	0: "fixed-point", 1: "floating-point", 2: "time", 3: "string", 4: "bit field",
	5: "opaque", 6: "compound", 7: "reference", 8: "enumerated",
	9: "variable-length", 10: "array",
}

// datatype is a decoded datatype message, limited to the classes this
// package reads.
type datatype struct {
	class     uint8
	size      int
	bigEndian bool
	signed    bool  // fixed-point
	pad       uint8 // string padding: 0 null-terminated, 1 null-padded, 2 space-padded
	utf8      bool  // string character set
	vlenStr   bool  // variable-length string
}

func (t *datatype) String() string {
	order := "little-endian"
	if t.bigEndian {
		order = "big-endian"
	}
	switch t.class {
	case classFixed:
		s := "int"
		if !t.signed {
			s = "uint"
		}
		return fmt.Sprintf("%s%d %s", s, 8*t.size, order)
	case classFloat:
		return fmt.Sprintf("float%d %s", 8*t.size, order)
	case classString:
		return fmt.Sprintf("fixed-length %s string (%d bytes)", t.charset(), t.size)
	case classVlen:
		return fmt.Sprintf("variable-length %s string", t.charset())
	}
	return fmt.Sprintf("datatype class %d", t.class)
}

func (t *datatype) charset() string {
	if t.utf8 {
		return "UTF-8"
	}
	return "ASCII"
}

// parseDatatype decodes a datatype message. Unsupported classes and
// layouts are reported as such.
func parseDatatype(b []byte) (datatype, error) {
	var t datatype
	if len(b) < 8 {
		return t, fmt.Errorf("datatype message: %w", errTruncated)
	}
	t.class = b[0] & 0x0f
	version := b[0] >> 4
	if version < 1 || version > 4 {
		return t, unsupported("datatype message version %d", version)
	}
	bits := uint32(b[1]) | uint32(b[2])<<8 | uint32(b[3])<<16
	size := binary.LittleEndian.Uint32(b[4:])
	props := b[8:]
	if size == 0 || size > 1<<20 {
		return t, fmt.Errorf("datatype of %d bytes", size)
	}
	t.size = int(size)
	switch t.class {
	case classFixed:
		t.bigEndian = bits&1 != 0
		t.signed = bits&8 != 0
		if len(props) < 4 {
			return t, fmt.Errorf("fixed-point datatype: %w", errTruncated)
		}
		off := binary.LittleEndian.Uint16(props)
		prec := binary.LittleEndian.Uint16(props[2:])
		if size != 1 && size != 2 && size != 4 && size != 8 || off != 0 || int(prec) != 8*t.size {
			return t, unsupported("integer datatype of %d bytes with %d bits at offset %d", size, prec, off)
		}
	case classFloat:
		if bits&0x40 != 0 {
			return t, unsupported("VAX byte order floating-point datatype")
		}
		t.bigEndian = bits&1 != 0
		if len(props) < 12 {
			return t, fmt.Errorf("floating-point datatype: %w", errTruncated)
		}
		d := decoder{b: props}
		off, prec := d.u16(), d.u16()
		expLoc, expSize, manLoc, manSize := d.u8(), d.u8(), d.u8(), d.u8()
		bias := d.u32()
		signLoc := uint8(bits >> 8)
		norm := (bits >> 4) & 3
		type ieee struct {
			expLoc, expSize, manSize uint8
			bias                     uint32
		}
		want := map[uint32]ieee{2: {10, 5, 10, 15}, 4: {23, 8, 23, 127}, 8: {52, 11, 52, 1023}}
		w, ok := want[size]
		if !ok || off != 0 || int(prec) != 8*t.size || expLoc != w.expLoc || expSize != w.expSize ||
			manLoc != 0 || manSize != w.manSize || bias != w.bias || int(signLoc) != 8*t.size-1 || norm != 2 {
			return t, unsupported("non-IEEE floating-point datatype of %d bytes", size)
		}
	case classString:
		t.pad = uint8(bits & 0x0f)
		t.utf8 = (bits>>4)&0x0f == 1
	case classVlen:
		if bits&0x0f != 1 {
			return t, unsupported("datatype class 9 (variable-length sequence)")
		}
		t.vlenStr = true
		t.pad = uint8((bits >> 4) & 0x0f)
		t.utf8 = (bits>>8)&0x0f == 1
	default:
		name := classNames[t.class]
		if name == "" {
			name = "unknown"
		}
		return t, unsupported("datatype class %d (%s)", t.class, name)
	}
	return t, nil
}

// checkLen checks that raw holds n elements.
func (t *datatype) checkLen(raw []byte, n uint64) error {
	if need, ok := mulOK(n, uint64(t.size)); !ok || uint64(len(raw)) < need {
		return fmt.Errorf("%d bytes hold fewer than %d values of %d bytes", len(raw), n, t.size)
	}
	return nil
}

func (t *datatype) order() binary.ByteOrder {
	if t.bigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func errConvert(t *datatype, to string) error {
	return fmt.Errorf("cannot read %s values as %s", t, to)
}

// float16 converts an IEEE half-precision value.
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | man<<13)
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for man&0x400 == 0 {
			man <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (man&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
}

func (t *datatype) numeric() bool { return t.class == classFloat || t.class == classFixed }

func (t *datatype) float32s(raw []byte, n uint64) ([]float32, error) {
	if !t.numeric() {
		return nil, errConvert(t, "numbers")
	}
	if err := t.checkLen(raw, n); err != nil {
		return nil, err
	}
	out := make([]float32, n)
	t.putFloat32s(out, raw)
	return out, nil
}

// putFloat32s converts len(dst) numeric values from raw, which holds at
// least that many.
func (t *datatype) putFloat32s(dst []float32, raw []byte) {
	bo := t.order()
	switch {
	case t.class == classFloat && t.size == 4 && !t.bigEndian:
		// The common case, with the byte order known to the compiler.
		raw = raw[:4*len(dst)]
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case t.class == classFloat && t.size == 4:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.BigEndian.Uint32(raw[4*i:]))
		}
	case t.class == classFloat && t.size == 8:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(bo.Uint64(raw[8*i:])))
		}
	case t.class == classFloat && t.size == 2:
		for i := range dst {
			dst[i] = float16(bo.Uint16(raw[2*i:]))
		}
	default:
		for i := range dst {
			u := t.uintAt(raw, i)
			if t.signed {
				dst[i] = float32(t.signExtend(u))
			} else {
				dst[i] = float32(u)
			}
		}
	}
}

// uintAt returns integer element i of raw, zero-extended.
func (t *datatype) uintAt(raw []byte, i int) uint64 {
	bo := t.order()
	switch t.size {
	case 1:
		return uint64(raw[i])
	case 2:
		return uint64(bo.Uint16(raw[2*i:]))
	case 4:
		return uint64(bo.Uint32(raw[4*i:]))
	}
	return bo.Uint64(raw[8*i:])
}

func (t *datatype) signExtend(u uint64) int64 {
	shift := 64 - 8*t.size
	return int64(u<<shift) >> shift
}

func (t *datatype) float64s(raw []byte, n uint64) ([]float64, error) {
	if !t.numeric() {
		return nil, errConvert(t, "numbers")
	}
	if err := t.checkLen(raw, n); err != nil {
		return nil, err
	}
	out := make([]float64, n)
	bo := t.order()
	switch {
	case t.class == classFloat && t.size == 8:
		for i := range out {
			out[i] = math.Float64frombits(bo.Uint64(raw[8*i:]))
		}
	case t.class == classFloat:
		v, err := t.float32s(raw, n)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = float64(v[i])
		}
	case !t.signed && t.size == 8:
		for i := range out {
			out[i] = float64(bo.Uint64(raw[8*i:]))
		}
	default:
		v, err := t.int64s(raw, n)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = float64(v[i])
		}
	}
	return out, nil
}

func (t *datatype) int64s(raw []byte, n uint64) ([]int64, error) {
	if t.class != classFixed {
		return nil, errConvert(t, "integers")
	}
	if err := t.checkLen(raw, n); err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		u := t.uintAt(raw, i)
		switch {
		case t.signed:
			out[i] = t.signExtend(u)
		case u > math.MaxInt64:
			return nil, fmt.Errorf("value %d does not fit int64", u)
		default:
			out[i] = int64(u)
		}
	}
	return out, nil
}

// strings decodes n strings. Variable-length strings are read from the
// global heap.
func (f *File) strings(t *datatype, raw []byte, n uint64) ([]string, error) {
	if t.class != classString && t.class != classVlen {
		return nil, errConvert(t, "strings")
	}
	if err := t.checkLen(raw, n); err != nil {
		return nil, err
	}
	out := make([]string, n)
	if t.class == classString {
		for i := range out {
			s := raw[i*t.size : (i+1)*t.size]
			switch t.pad {
			case 2:
				out[i] = strings.TrimRight(string(s), " ")
			default:
				if j := indexByte(s, 0); j >= 0 {
					s = s[:j]
				}
				out[i] = string(s)
			}
		}
		return out, nil
	}
	// Each element: length (4 bytes), global heap collection address, and
	// object index (4 bytes).
	if t.size != 4+f.offSize+4 {
		return nil, fmt.Errorf("variable-length string of %d bytes, want %d", t.size, 4+f.offSize+4)
	}
	heaps := make(map[uint64]*globalHeap)
	total, heapBytes := uint64(0), uint64(0)
	for i := range out {
		d := f.decoder(raw[i*t.size : (i+1)*t.size])
		length := uint64(d.u32())
		addr := d.addr()
		index := d.u32()
		if length == 0 {
			continue
		}
		if addr == 0 || addr == undef {
			return nil, fmt.Errorf("string %d: undefined global heap address", i)
		}
		h := heaps[addr]
		if h == nil {
			if len(heaps) >= maxGlobalHeaps {
				return nil, fmt.Errorf("strings in more than %d global heap collections", maxGlobalHeaps)
			}
			var err error
			if h, err = f.readGlobalHeap(addr); err != nil {
				return nil, fmt.Errorf("string %d: %w", i, err)
			}
			heaps[addr] = h
			if heapBytes += h.size; heapBytes > uint64(f.maxVal) {
				return nil, fmt.Errorf("strings in global heap collections of more than %d bytes", f.maxVal)
			}
		}
		obj, ok := h.objects[index]
		if !ok {
			return nil, fmt.Errorf("string %d: global heap collection at %#x has no object %d", i, addr, index)
		}
		if length > uint64(len(obj)) {
			return nil, fmt.Errorf("string %d: length %d is longer than its global heap object (%d bytes)", i, length, len(obj))
		}
		if total += length; total > uint64(f.maxVal) {
			return nil, fmt.Errorf("strings longer than %d bytes in all", f.maxVal)
		}
		out[i] = string(obj[:length])
	}
	return out, nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// Global heaps.

const maxGlobalHeaps = 1 << 12

type globalHeap struct {
	size    uint64
	objects map[uint32][]byte
}

// readGlobalHeap reads a global heap collection: "GCOL", version 1,
// reserved, collection size, then objects (index, reference count,
// reserved, size, data padded to 8 bytes) up to a free-space object (index
// 0).
func (f *File) readGlobalHeap(addr uint64) (*globalHeap, error) {
	head, err := f.readMeta(addr, uint64(8+f.lenSize), "global heap collection")
	if err != nil {
		return nil, err
	}
	d := f.decoder(head)
	if err := d.signature("GCOL"); err != nil {
		return nil, fmt.Errorf("global heap collection at %#x: %w", addr, err)
	}
	if v := d.u8(); v != 1 {
		return nil, unsupported("global heap version %d", v)
	}
	d.skip(3)
	size := d.length()
	if size < uint64(len(head)) {
		return nil, fmt.Errorf("global heap collection at %#x: size %d is too small", addr, size)
	}
	b, err := f.readMeta(addr, size, "global heap collection")
	if err != nil {
		return nil, err
	}
	h := &globalHeap{size: size, objects: make(map[uint32][]byte)}
	d = f.decoder(b)
	d.skip(len(head))
	for d.remaining() >= 8+f.lenSize {
		index := d.u16()
		d.skip(2 + 4) // reference count, reserved
		n := d.length()
		if index == 0 {
			break // free space
		}
		if n > uint64(d.remaining()) {
			return nil, fmt.Errorf("global heap collection at %#x: object %d of %d bytes runs past the collection", addr, index, n)
		}
		data := d.take(int(n))
		if pad := (8 - n%8) % 8; pad <= uint64(d.remaining()) {
			d.skip(int(pad))
		} else {
			d.skip(d.remaining())
		}
		if _, dup := h.objects[uint32(index)]; !dup {
			h.objects[uint32(index)] = data
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("global heap collection at %#x: %w", addr, d.err)
	}
	return h, nil
}

// Dataspaces.

const maxRank = 32

// dataspace is a decoded dataspace message.
type dataspace struct {
	dims    []uint64 // nil for a scalar
	maxDims []uint64 // nil if not stored; undef for unlimited
	null    bool     // no elements at all
	n       uint64   // number of elements
}

func (s *dataspace) intShape() []int {
	out := make([]int, len(s.dims))
	for i, d := range s.dims {
		out[i] = int(d)
	}
	return out
}

func parseDataspace(b []byte, lenSize int) (dataspace, error) {
	var s dataspace
	d := decoder{b: b, f: &File{lenSize: lenSize, offSize: 8}}
	version := d.u8()
	rank := int(d.u8())
	flags := d.u8()
	switch version {
	case 1:
		d.skip(5)
	case 2:
		switch typ := d.u8(); typ {
		case 0: // scalar
		case 1: // simple
		case 2:
			s.null = true
		default:
			return s, fmt.Errorf("dataspace type %d", typ)
		}
	default:
		if d.err == nil {
			return s, unsupported("dataspace message version %d", version)
		}
	}
	if rank > maxRank {
		return s, fmt.Errorf("dataspace of rank %d", rank)
	}
	s.n = 1
	if rank > 0 {
		s.dims = make([]uint64, rank)
		for i := range s.dims {
			s.dims[i] = d.length()
			var ok bool
			if s.n, ok = mulOK(s.n, s.dims[i]); !ok || s.dims[i] > math.MaxInt64/2 {
				return s, errors.New("dataspace dimensions overflow")
			}
		}
		if flags&1 != 0 {
			s.maxDims = make([]uint64, rank)
			for i := range s.maxDims {
				m := d.length()
				if lenSize < 8 && m == 1<<(8*lenSize)-1 {
					m = undef
				}
				s.maxDims[i] = m
			}
		}
	}
	if s.null {
		s.n = 0
	}
	if s.n > math.MaxInt64/16 {
		return s, errors.New("dataspace dimensions overflow")
	}
	if d.err != nil {
		return s, fmt.Errorf("dataspace message: %w", d.err)
	}
	return s, nil
}
