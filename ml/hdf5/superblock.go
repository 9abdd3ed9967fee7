package hdf5

import (
	"errors"
	"fmt"
)

const signature = "\x89HDF\r\n\x1a\n"

// readSuperblock finds and decodes the superblock and returns the root
// group's object header address. The superblock is at offset 0 or, after
// a user block, at 512, 1024, 2048, ...
func (f *File) readSuperblock() (uint64, error) {
	for off := int64(0); off+8 <= f.size; off = nextSuperblockOffset(off) {
		sig := make([]byte, 8)
		if _, err := f.r.ReadAt(sig, off); err != nil {
			return 0, fmt.Errorf("reading superblock signature at offset %d: %w", off, err)
		}
		if string(sig) == signature {
			return f.decodeSuperblock(off)
		}
	}
	return 0, errors.New("not an HDF5 file (no superblock signature)")
}

func nextSuperblockOffset(off int64) int64 {
	if off == 0 {
		return 512
	}
	return off * 2
}

func (f *File) decodeSuperblock(off int64) (uint64, error) {
	// Addresses in the file are relative to the superblock, whatever its
	// base address field says; the HDF5 library does the same.
	f.base = uint64(off)
	// Until the sizes are known, read with 8-byte fields; a superblock is
	// never longer than 8+16+4+4*8+2*8+24 bytes.
	f.offSize, f.lenSize = 8, 8
	b, err := f.readUpTo(0, 128, "superblock")
	if err != nil {
		return 0, err
	}
	d := f.decoder(b)
	d.skip(8)
	f.super = int(d.u8())
	switch f.super {
	case 0, 1:
		d.skip(4) // free-space, root group entry, reserved, shared header versions
		f.offSize = int(d.u8())
		f.lenSize = int(d.u8())
		if err := f.checkSizes(); err != nil {
			return 0, err
		}
		d.skip(1 + 2 + 2 + 4) // reserved, group leaf and internal node K, flags
		if f.super == 1 {
			d.skip(4) // indexed storage internal node K, reserved
		}
		d.addr() // base address
		d.addr() // free-space info address
		d.addr() // end of file address
		d.addr() // driver information block address
		// Root group symbol table entry.
		d.addr() // link name offset
		root := d.addr()
		if d.err != nil {
			return 0, fmt.Errorf("superblock: %w", d.err)
		}
		return root, nil
	case 2, 3:
		f.offSize = int(d.u8())
		f.lenSize = int(d.u8())
		if err := f.checkSizes(); err != nil {
			return 0, err
		}
		d.skip(1) // file consistency flags
		d.addr()  // base address
		d.addr()  // superblock extension address
		d.addr()  // end of file address
		root := d.addr()
		if d.err != nil {
			return 0, fmt.Errorf("superblock: %w", d.err)
		}
		if d.p+4 > len(b) {
			return 0, fmt.Errorf("superblock: %w", errTruncated)
		}
		if err := checkSum(b[:d.p+4], "superblock", 0); err != nil {
			return 0, err
		}
		return root, nil
	default:
		return 0, unsupported("superblock version %d", f.super)
	}
}

func (f *File) checkSizes() error {
	ok := func(n int) bool { return n == 2 || n == 4 || n == 8 }
	if !ok(f.offSize) || !ok(f.lenSize) {
		return fmt.Errorf("superblock: bad sizes of offsets (%d) and lengths (%d)", f.offSize, f.lenSize)
	}
	return nil
}
