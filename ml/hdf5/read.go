package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// undef is an undefined address (all bits set in the file).
const undef = ^uint64(0)

// maxMetaBytes bounds one read of file metadata (an object header chunk, a
// B-tree node, a heap block). HDF5 keeps these well below a megabyte; the
// bound keeps a corrupt length from allocating gigabytes.
const maxMetaBytes = 64 << 20

// read returns n bytes at address addr (relative to the base address).
func (f *File) read(addr, n uint64, what string) ([]byte, error) {
	if addr == undef {
		return nil, fmt.Errorf("%s: undefined address", what)
	}
	abs := f.base + addr
	if abs < f.base || abs > uint64(f.size) || n > uint64(f.size)-abs {
		return nil, fmt.Errorf("%s at address %#x (%d bytes) is past the end of the file (%d bytes)", what, addr, n, f.size)
	}
	b := make([]byte, n)
	if n == 0 {
		return b, nil
	}
	m, err := f.r.ReadAt(b, int64(abs))
	if m == len(b) {
		return b, nil // io.ReaderAt may return io.EOF with a full read at the end
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("%s at address %#x: %w", what, addr, err)
}

// readMeta is read for metadata, whose size is bounded by maxMetaBytes.
func (f *File) readMeta(addr, n uint64, what string) ([]byte, error) {
	if n > maxMetaBytes {
		return nil, fmt.Errorf("%s at address %#x: size %d is larger than the limit of %d bytes", what, addr, n, maxMetaBytes)
	}
	return f.read(addr, n, what)
}

// readUpTo reads at most n bytes at addr, fewer where the file ends; for
// structures whose size is only known once their start is decoded.
func (f *File) readUpTo(addr, n uint64, what string) ([]byte, error) {
	if addr == undef {
		return nil, fmt.Errorf("%s: undefined address", what)
	}
	abs := f.base + addr
	if abs < f.base || abs >= uint64(f.size) {
		return nil, fmt.Errorf("%s at address %#x is past the end of the file (%d bytes)", what, addr, f.size)
	}
	if rest := uint64(f.size) - abs; n > rest {
		n = rest
	}
	return f.read(addr, n, what)
}

// A decoder reads little-endian fields from b. The first read past the end
// sets err (errTruncated) and later reads return zeros, so that a
// structure is decoded in straight-line code and checked once.
type decoder struct {
	f   *File
	b   []byte
	p   int
	err error
}

func (f *File) decoder(b []byte) *decoder { return &decoder{f: f, b: b} }

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.p {
		d.err = errTruncated
		d.p = len(d.b)
		return nil
	}
	s := d.b[d.p : d.p+n : d.p+n]
	d.p += n
	return s
}

func (d *decoder) u8() uint8 {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if b := d.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// uvar reads an n-byte little-endian unsigned integer, 0 <= n <= 8.
func (d *decoder) uvar(n int) uint64 {
	if n > 8 {
		d.err = errors.New("integer field wider than 8 bytes")
		return 0
	}
	return leUint(d.take(n))
}

func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// addr reads an address; all bits set means undefined (undef).
func (d *decoder) addr() uint64 {
	b := d.take(d.f.offSize)
	if b == nil {
		return undef
	}
	v := leUint(b)
	if d.f.offSize < 8 && v == 1<<(8*d.f.offSize)-1 {
		return undef
	}
	return v
}

// length reads a length field.
func (d *decoder) length() uint64 { return leUint(d.take(d.f.lenSize)) }

func (d *decoder) skip(n int) { d.take(n) }

func (d *decoder) remaining() int { return len(d.b) - d.p }

// signature reads 4 bytes and checks them.
func (d *decoder) signature(sig string) error {
	b := d.take(len(sig))
	if d.err != nil {
		return d.err
	}
	if string(b) != sig {
		return fmt.Errorf("bad signature %q, want %q", b, sig)
	}
	return nil
}

// mulOK returns a*b and whether it did not overflow.
func mulOK(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}

// lookup3 is Bob Jenkins' lookup3 hashlittle, which HDF5 uses as the
// checksum of its newer metadata structures (initval 0).
func lookup3(k []byte, initval uint32) uint32 {
	rot := bits.RotateLeft32
	n := len(k)
	a := 0xdeadbeef + uint32(n) + initval
	b, c := a, a
	for n > 12 {
		a += binary.LittleEndian.Uint32(k)
		b += binary.LittleEndian.Uint32(k[4:])
		c += binary.LittleEndian.Uint32(k[8:])
		a -= c
		a ^= rot(c, 4)
		c += b
		b -= a
		b ^= rot(a, 6)
		a += c
		c -= b
		c ^= rot(b, 8)
		b += a
		a -= c
		a ^= rot(c, 16)
		c += b
		b -= a
		b ^= rot(a, 19)
		a += c
		c -= b
		c ^= rot(b, 4)
		b += a
		n -= 12
		k = k[12:]
	}
	if n == 0 {
		return c
	}
	var tail [12]byte
	copy(tail[:], k)
	a += binary.LittleEndian.Uint32(tail[0:])
	b += binary.LittleEndian.Uint32(tail[4:])
	c += binary.LittleEndian.Uint32(tail[8:])
	c ^= b
	c -= rot(b, 14)
	a ^= c
	a -= rot(c, 11)
	b ^= a
	b -= rot(a, 25)
	c ^= b
	c -= rot(b, 16)
	a ^= c
	a -= rot(c, 4)
	b ^= a
	b -= rot(a, 14)
	c ^= b
	c -= rot(b, 24)
	return c
}

// checkSum verifies that the last 4 bytes of b are the lookup3 checksum of
// the bytes before them.
func checkSum(b []byte, what string, addr uint64) error {
	if len(b) < 4 {
		return fmt.Errorf("%s at address %#x: %w", what, addr, errTruncated)
	}
	n := len(b) - 4
	stored := binary.LittleEndian.Uint32(b[n:])
	if got := lookup3(b[:n], 0); got != stored {
		return fmt.Errorf("%s at address %#x: checksum mismatch (stored %#08x, computed %#08x)", what, addr, stored, got)
	}
	return nil
}

// fletcher32 is HDF5's Fletcher-32 checksum (H5_checksum_fletcher32): sums
// of big-endian 16-bit words, an odd last byte taken as the high byte.
func fletcher32(data []byte) uint32 {
	var sum1, sum2 uint32
	n := len(data) / 2
	p := data
	for n > 0 {
		t := n
		if t > 360 {
			t = 360
		}
		n -= t
		for ; t > 0; t-- {
			sum1 += uint32(p[0])<<8 | uint32(p[1])
			p = p[2:]
			sum2 += sum1
		}
		sum1 = (sum1 & 0xffff) + (sum1 >> 16)
		sum2 = (sum2 & 0xffff) + (sum2 >> 16)
	}
	if len(data)%2 == 1 {
		sum1 += uint32(p[0]) << 8
		sum2 += sum1
		sum1 = (sum1 & 0xffff) + (sum1 >> 16)
		sum2 = (sum2 & 0xffff) + (sum2 >> 16)
	}
	sum1 = (sum1 & 0xffff) + (sum1 >> 16)
	sum2 = (sum2 & 0xffff) + (sum2 >> 16)
	return sum2<<16 | sum1
}

// visited detects loops in the file's linked structures and bounds how
// many nodes one walk may visit.
type visited struct {
	seen  map[uint64]bool
	limit int
	what  string
}

func newVisited(what string, limit int) *visited {
	return &visited{seen: make(map[uint64]bool), limit: limit, what: what}
}

func (v *visited) visit(addr uint64) error {
	if v.seen[addr] {
		return fmt.Errorf("%s at address %#x is reached twice (a loop in the file)", v.what, addr)
	}
	if len(v.seen) >= v.limit {
		return fmt.Errorf("more than %d %ss", v.limit, v.what)
	}
	v.seen[addr] = true
	return nil
}
