package hdf5

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// A fractalHeap is an opened fractal heap, which holds the link messages of
// dense groups and the attribute messages of dense attribute storage.
type fractalHeap struct {
	f    *File
	addr uint64

	idLen         int
	maxManaged    uint64
	hugeBTree     uint64
	width         uint64
	startSize     uint64
	maxDirect     uint64
	maxHeapBits   int
	rootAddr      uint64
	rootRows      int
	checksummed   bool
	offBytes      int // heap offsets in IDs and block headers
	lenBytes      int // object lengths in managed IDs
	maxDirectRows int
	firstRowBits  int
	rowSize       []uint64 // block size of each row
	rowOff        []uint64 // heap offset of each row's first block

	blocks map[uint64][]byte // direct blocks read so far
	read   uint64            // bytes of blocks read, bounded by maxHeapRead

	huges     map[uint64][2]uint64 // huge object ID -> address, length
	hugeBytes uint64               // bytes of huge objects read, bounded by the File's MaxValueBytes
}

// maxHeapRead bounds the bytes of blocks one walk of a fractal heap reads;
// all are kept, so that objects sharing a block read it once.
const maxHeapRead = 64 << 20

func (h *fractalHeap) budget(n uint64) error {
	if h.read += n; h.read > maxHeapRead {
		return fmt.Errorf("fractal heap at %#x: more than %d bytes of blocks", h.addr, maxHeapRead)
	}
	return nil
}

const maxHeapRows = 64

// openFractalHeap reads a fractal heap header ("FRHP").
func (f *File) openFractalHeap(addr uint64) (*fractalHeap, error) {
	size := 4 + 1 + 2 + 2 + 1 + 4 + 12*f.lenSize + 3*f.offSize + 2 + 2 + 2 + 2 + 4
	b, err := f.readMeta(addr, uint64(size), "fractal heap header")
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("fractal heap at %#x: %s", addr, fmt.Sprintf(format, args...))
	}
	d := f.decoder(b)
	if err := d.signature("FRHP"); err != nil {
		return nil, bad("%v", err)
	}
	if v := d.u8(); v != 0 {
		return nil, unsupported("fractal heap version %d", v)
	}
	h := &fractalHeap{f: f, addr: addr, blocks: make(map[uint64][]byte)}
	h.idLen = int(d.u16())
	filterLen := d.u16()
	flags := d.u8()
	h.maxManaged = uint64(d.u32())
	d.length() // next huge object ID
	h.hugeBTree = d.addr()
	d.length() // free space in managed blocks
	d.addr()   // free-space manager
	d.length() // managed space
	d.length() // allocated managed space
	d.length() // direct block allocation iterator offset
	d.length() // managed objects
	d.length() // huge objects size
	d.length() // huge objects
	d.length() // tiny objects size
	d.length() // tiny objects
	h.width = uint64(d.u16())
	h.startSize = d.length()
	h.maxDirect = d.length()
	h.maxHeapBits = int(d.u16())
	d.u16() // starting rows in root indirect block
	h.rootAddr = d.addr()
	h.rootRows = int(d.u16())
	if d.err != nil {
		return nil, bad("%v", d.err)
	}
	if filterLen > 0 {
		return nil, unsupported("fractal heap with I/O filters")
	}
	if err := checkSum(b[:d.p+4], "fractal heap header", addr); err != nil {
		return nil, err
	}
	h.checksummed = flags&2 != 0
	pow2 := func(v uint64) bool { return v != 0 && v&(v-1) == 0 }
	if !pow2(h.width) || !pow2(h.startSize) || !pow2(h.maxDirect) || h.maxDirect < h.startSize || h.maxDirect > maxMetaBytes {
		return nil, bad("bad doubling table (width %d, start block %d, max direct block %d)", h.width, h.startSize, h.maxDirect)
	}
	if h.maxHeapBits < 1 || h.maxHeapBits > 64 || h.idLen < 2 || h.idLen > 1<<10 {
		return nil, bad("bad heap size bits %d or ID length %d", h.maxHeapBits, h.idLen)
	}
	startBits := bits.TrailingZeros64(h.startSize)
	h.firstRowBits = startBits + bits.TrailingZeros64(h.width)
	h.maxDirectRows = bits.TrailingZeros64(h.maxDirect) - startBits + 2
	maxRows := h.maxHeapBits - h.firstRowBits + 1
	if maxRows < 1 || maxRows > maxHeapRows || h.rootRows > maxRows {
		return nil, bad("bad number of rows (%d of at most %d)", h.rootRows, maxRows)
	}
	h.offBytes = (h.maxHeapBits + 7) / 8
	h.lenBytes = bytesFor(h.maxDirect) // bytes to hold a direct block offset
	if l := (bits.Len64(h.maxManaged) + 7) / 8; l < h.lenBytes {
		h.lenBytes = l
	}
	// Row sizes: rows 0 and 1 have blocks of the starting size, and each
	// later row doubles.
	h.rowSize = make([]uint64, maxRows)
	h.rowOff = make([]uint64, maxRows)
	size0, off := h.startSize, h.startSize*h.width
	for r := range h.rowSize {
		if r == 0 {
			h.rowSize[0] = h.startSize
			continue
		}
		h.rowSize[r] = size0
		h.rowOff[r] = off
		size0 *= 2
		off *= 2
	}
	return h, nil
}

// bytesFor is the number of bytes used for offsets within a block of size
// n (a power of two): HDF5's H5HF_SIZEOF_OFFSET_LEN.
func bytesFor(n uint64) int { return (bits.TrailingZeros64(n) + 7) / 8 }

// get returns the object with the given heap ID.
func (h *fractalHeap) get(id []byte) ([]byte, error) {
	if len(id) < 1 {
		return nil, fmt.Errorf("fractal heap at %#x: empty heap ID", h.addr)
	}
	if id[0]>>6 != 0 {
		return nil, unsupported("fractal heap ID version %d", id[0]>>6)
	}
	switch (id[0] >> 4) & 3 {
	case 0:
		d := decoder{b: id[1:]}
		off := d.uvar(h.offBytes)
		n := d.uvar(h.lenBytes)
		if d.err != nil {
			return nil, fmt.Errorf("fractal heap at %#x: heap ID: %w", h.addr, d.err)
		}
		return h.managed(off, n)
	case 1:
		return h.huge(id[1:])
	case 2:
		// Tiny objects live in the ID itself.
		if h.idLen <= 18 {
			n := int(id[0]&0x0f) + 1
			if n > len(id)-1 {
				return nil, fmt.Errorf("fractal heap at %#x: tiny object longer than its ID", h.addr)
			}
			return id[1 : 1+n], nil
		}
		if len(id) < 2 {
			return nil, fmt.Errorf("fractal heap at %#x: short heap ID", h.addr)
		}
		n := (int(id[0]&0x0f)<<8 | int(id[1])) + 1
		if n > len(id)-2 {
			return nil, fmt.Errorf("fractal heap at %#x: tiny object longer than its ID", h.addr)
		}
		return id[2 : 2+n], nil
	}
	return nil, fmt.Errorf("fractal heap at %#x: bad heap ID type %d", h.addr, (id[0]>>4)&3)
}

// huge returns a huge object: one too large for the heap's blocks, kept
// elsewhere in the file. Its ID holds the object's address and length when
// they fit, or else a key into a version 2 B-tree (type 1 records:
// address, length, ID).
func (h *fractalHeap) huge(id []byte) ([]byte, error) {
	f := h.f
	if h.idLen-1 >= f.offSize+f.lenSize {
		d := f.decoder(id)
		addr, n := d.addr(), d.length()
		if d.err != nil {
			return nil, fmt.Errorf("fractal heap at %#x: huge object ID: %w", h.addr, d.err)
		}
		return h.hugeRead(addr, n)
	}
	d := decoder{b: id}
	key := d.uvar(min(h.idLen-1, 8))
	if d.err != nil {
		return nil, fmt.Errorf("fractal heap at %#x: huge object ID: %w", h.addr, d.err)
	}
	if h.huges == nil {
		// Read the huge objects' B-tree once: type 1 records hold address,
		// length and ID.
		h.huges = make(map[uint64][2]uint64)
		err := f.walkBTree2(h.hugeBTree, 1, func(rec []byte) error {
			d := f.decoder(rec)
			a, l, k := d.addr(), d.length(), d.length()
			if d.err != nil {
				return fmt.Errorf("huge object record: %w", d.err)
			}
			if _, dup := h.huges[k]; !dup {
				h.huges[k] = [2]uint64{a, l}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	obj, ok := h.huges[key]
	if !ok {
		return nil, fmt.Errorf("fractal heap at %#x: no huge object %d", h.addr, key)
	}
	addr, n := obj[0], obj[1]
	return h.hugeRead(addr, n)
}

func (h *fractalHeap) hugeRead(addr, n uint64) ([]byte, error) {
	if n > uint64(h.f.maxVal) {
		return nil, fmt.Errorf("fractal heap at %#x: huge object of %d bytes is larger than the limit", h.addr, n)
	}
	if h.hugeBytes += n; h.hugeBytes > uint64(h.f.maxVal) {
		return nil, fmt.Errorf("fractal heap at %#x: huge objects of more than %d bytes", h.addr, h.f.maxVal)
	}
	return h.f.read(addr, n, "fractal heap huge object")
}

// managed returns the object at heap offset off, n bytes long, finding
// its direct block through the doubling table of the root and child
// indirect blocks.
func (h *fractalHeap) managed(off, n uint64) ([]byte, error) {
	if n == 0 || n > h.maxDirect {
		return nil, fmt.Errorf("fractal heap at %#x: object of %d bytes", h.addr, n)
	}
	blockAddr, blockOff, blockSize := h.rootAddr, uint64(0), h.startSize
	if h.rootRows > 0 {
		iblock, iblockOff, rows := h.rootAddr, uint64(0), h.rootRows
		for depth := 0; ; depth++ {
			if depth > maxHeapRows {
				return nil, fmt.Errorf("fractal heap at %#x: indirect blocks nested too deep", h.addr)
			}
			rel := off - iblockOff
			if off < iblockOff {
				return nil, fmt.Errorf("fractal heap at %#x: bad object offset %d", h.addr, off)
			}
			row, col := h.lookup(rel)
			if row >= rows {
				return nil, fmt.Errorf("fractal heap at %#x: object offset %d is outside the heap", h.addr, off)
			}
			child, err := h.indirectEntry(iblock, iblockOff, rows, row*int(h.width)+int(col))
			if err != nil {
				return nil, err
			}
			start := iblockOff + h.rowOff[row] + col*h.rowSize[row]
			if row < h.maxDirectRows {
				blockAddr, blockOff, blockSize = child, start, h.rowSize[row]
				break
			}
			iblock, iblockOff = child, start
			rows = bits.TrailingZeros64(h.rowSize[row]) - h.firstRowBits + 1
			if rows < 1 {
				return nil, fmt.Errorf("fractal heap at %#x: bad indirect block size", h.addr)
			}
		}
	}
	if blockAddr == undef {
		return nil, fmt.Errorf("fractal heap at %#x: object offset %d is in an unallocated block", h.addr, off)
	}
	block, err := h.directBlock(blockAddr, blockOff, blockSize)
	if err != nil {
		return nil, err
	}
	rel := off - blockOff
	hdr := uint64(5 + h.f.offSize + h.offBytes)
	if h.checksummed {
		hdr += 4
	}
	if rel < hdr || rel > uint64(len(block)) || n > uint64(len(block))-rel {
		return nil, fmt.Errorf("fractal heap at %#x: object at offset %d (%d bytes) is outside its direct block", h.addr, off, n)
	}
	return block[rel : rel+n : rel+n], nil
}

// lookup returns the row and column of the doubling table that holds heap
// offset off.
func (h *fractalHeap) lookup(off uint64) (int, uint64) {
	if off < h.startSize*h.width {
		return 0, off / h.startSize
	}
	high := bits.Len64(off) - 1
	row := high - h.firstRowBits + 1
	if row >= len(h.rowSize) {
		return len(h.rowSize), 0
	}
	return row, (off - 1<<high) / h.rowSize[row]
}

// indirectEntry reads entry i of the indirect block at addr, which has
// the given number of rows: "FHIB", version, heap header address, block
// offset, child addresses (direct then indirect), checksum.
func (h *fractalHeap) indirectEntry(addr, blockOff uint64, rows, i int) (uint64, error) {
	f := h.f
	n := rows * int(h.width)
	hdr := 4 + 1 + f.offSize + h.offBytes
	size := uint64(hdr + n*f.offSize + 4)
	b, ok := h.blocks[addr]
	if ok && uint64(len(b)) != size {
		return 0, fmt.Errorf("fractal heap block at %#x is used with two sizes", addr)
	}
	d := f.decoder(b)
	d.skip(hdr)
	if !ok {
		// Read and check the block once; later lookups reuse it.
		if err := h.budget(size); err != nil {
			return 0, err
		}
		var err error
		if b, err = f.readMeta(addr, size, "fractal heap indirect block"); err != nil {
			return 0, err
		}
		d = f.decoder(b)
		if err := d.signature("FHIB"); err != nil {
			return 0, fmt.Errorf("fractal heap indirect block at %#x: %w", addr, err)
		}
		if v := d.u8(); v != 0 {
			return 0, unsupported("fractal heap indirect block version %d", v)
		}
		if a := d.addr(); a != h.addr {
			return 0, fmt.Errorf("fractal heap indirect block at %#x belongs to heap %#x, not %#x", addr, a, h.addr)
		}
		if o := d.uvar(h.offBytes); o != blockOff {
			return 0, fmt.Errorf("fractal heap indirect block at %#x has offset %d, want %d", addr, o, blockOff)
		}
		if err := checkSum(b, "fractal heap indirect block", addr); err != nil {
			return 0, err
		}
		h.blocks[addr] = b
	}
	d.skip(i * f.offSize)
	child := d.addr()
	if d.err != nil {
		return 0, fmt.Errorf("fractal heap indirect block at %#x: %w", addr, d.err)
	}
	return child, nil
}

// directBlock reads a direct block: "FHDB", version, heap header address,
// block offset, [checksum], objects.
func (h *fractalHeap) directBlock(addr, blockOff, size uint64) ([]byte, error) {
	if b, ok := h.blocks[addr]; ok {
		if uint64(len(b)) != size {
			return nil, fmt.Errorf("fractal heap block at %#x is used with two sizes", addr)
		}
		return b, nil
	}
	if err := h.budget(size); err != nil {
		return nil, err
	}
	f := h.f
	b, err := f.readMeta(addr, size, "fractal heap direct block")
	if err != nil {
		return nil, err
	}
	d := f.decoder(b)
	if err := d.signature("FHDB"); err != nil {
		return nil, fmt.Errorf("fractal heap direct block at %#x: %w", addr, err)
	}
	if v := d.u8(); v != 0 {
		return nil, unsupported("fractal heap direct block version %d", v)
	}
	if a := d.addr(); a != h.addr {
		return nil, fmt.Errorf("fractal heap direct block at %#x belongs to heap %#x, not %#x", addr, a, h.addr)
	}
	if o := d.uvar(h.offBytes); o != blockOff {
		return nil, fmt.Errorf("fractal heap direct block at %#x has offset %d, want %d", addr, o, blockOff)
	}
	if h.checksummed {
		// The checksum covers the whole block with the checksum field zeroed.
		p := d.p
		stored := d.u32()
		if d.err != nil {
			return nil, fmt.Errorf("fractal heap direct block at %#x: %w", addr, d.err)
		}
		tmp := make([]byte, len(b))
		copy(tmp, b)
		binary.LittleEndian.PutUint32(tmp[p:], 0)
		if got := lookup3(tmp, 0); got != stored {
			return nil, fmt.Errorf("fractal heap direct block at %#x: checksum mismatch", addr)
		}
	}
	h.blocks[addr] = b
	return b, nil
}
