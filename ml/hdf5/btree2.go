package hdf5

import (
	"fmt"
	"math/bits"
)

// walkBTree2 calls fn with every record of the version 2 B-tree at addr,
// which must hold records of type typ.
func (f *File) walkBTree2(addr uint64, typ uint8, fn func(rec []byte) error) error {
	if addr == undef {
		return nil
	}
	size := 4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + f.offSize + 2 + f.lenSize + 4
	b, err := f.readMeta(addr, uint64(size), "v2 B-tree header")
	if err != nil {
		return err
	}
	d := f.decoder(b)
	if err := d.signature("BTHD"); err != nil {
		return fmt.Errorf("v2 B-tree header at %#x: %w", addr, err)
	}
	if v := d.u8(); v != 0 {
		return unsupported("v2 B-tree version %d", v)
	}
	if t := d.u8(); t != typ {
		return fmt.Errorf("v2 B-tree at %#x has type %d, want %d", addr, t, typ)
	}
	nodeSize := int(d.u32())
	recSize := int(d.u16())
	depth := int(d.u16())
	d.skip(2) // split and merge percents
	root := d.addr()
	rootRecs := int(d.u16())
	d.length() // total records
	if d.err != nil {
		return fmt.Errorf("v2 B-tree header at %#x: %w", addr, d.err)
	}
	if err := checkSum(b, "v2 B-tree header", addr); err != nil {
		return err
	}
	if nodeSize < 16 || nodeSize > 1<<20 || recSize < 1 || recSize > nodeSize || depth > maxBTreeDepth {
		return fmt.Errorf("v2 B-tree at %#x: bad node size %d, record size %d or depth %d", addr, nodeSize, recSize, depth)
	}
	// Sizes of the fields that count records in child pointers, as HDF5
	// computes them (H5B2__hdr_init): the largest number of records a leaf
	// holds, and the largest number under a node of each depth.
	const prefix = 4 + 1 + 1 + 4                                     // signature, version, type, checksum
	encSize := func(n uint64) int { return (bits.Len64(n)-1)/8 + 1 } // H5VM_limit_enc_size
	maxLeaf := uint64((nodeSize - prefix) / recSize)
	if maxLeaf == 0 {
		return fmt.Errorf("v2 B-tree at %#x: node too small for a record", addr)
	}
	nrecSize := encSize(maxLeaf)
	cumSize := make([]int, depth+1) // bytes for total records under a child of a node at depth d
	cum := maxLeaf
	for dd := 1; dd <= depth; dd++ {
		ptr := f.offSize + nrecSize + cumSize[dd-1]
		maxInt := uint64((nodeSize - (prefix + ptr)) / (recSize + ptr))
		if maxInt == 0 {
			return fmt.Errorf("v2 B-tree at %#x: node too small", addr)
		}
		if dd < depth {
			next, ok1 := mulOK(maxInt+1, cum)
			next += maxInt
			if !ok1 || next < maxInt {
				next = ^uint64(0) >> 1
			}
			cum = next
			cumSize[dd] = encSize(cum)
		}
	}
	// cumSize[dd] above is the size for children of nodes at depth dd+1.
	seen := newVisited("v2 B-tree node", maxBTreeVisits)
	var walk func(addr uint64, nrec, depth int) error
	walk = func(node uint64, nrec, dep int) error {
		if err := seen.visit(node); err != nil {
			return err
		}
		if dep == 0 {
			b, err := f.readMeta(node, uint64(6+nrec*recSize+4), "v2 B-tree leaf node")
			if err != nil {
				return err
			}
			if string(b[:4]) != "BTLF" || b[4] != 0 || b[5] != typ {
				return fmt.Errorf("v2 B-tree leaf node at %#x: bad signature, version or type", node)
			}
			if err := checkSum(b, "v2 B-tree leaf node", node); err != nil {
				return err
			}
			for i := 0; i < nrec; i++ {
				if err := fn(b[6+i*recSize : 6+(i+1)*recSize]); err != nil {
					return err
				}
			}
			return nil
		}
		ptr := f.offSize + nrecSize
		if dep > 1 {
			ptr += cumSize[dep-1]
		}
		b, err := f.readMeta(node, uint64(6+nrec*recSize+(nrec+1)*ptr+4), "v2 B-tree internal node")
		if err != nil {
			return err
		}
		if string(b[:4]) != "BTIN" || b[4] != 0 || b[5] != typ {
			return fmt.Errorf("v2 B-tree internal node at %#x: bad signature, version or type", node)
		}
		if err := checkSum(b, "v2 B-tree internal node", node); err != nil {
			return err
		}
		d := f.decoder(b[6+nrec*recSize:])
		for i := 0; i <= nrec; i++ {
			child := d.addr()
			n := d.uvar(nrecSize)
			if dep > 1 {
				d.skip(cumSize[dep-1])
			}
			if d.err != nil {
				return fmt.Errorf("v2 B-tree internal node at %#x: %w", node, d.err)
			}
			if n > maxLeaf {
				return fmt.Errorf("v2 B-tree internal node at %#x: child with %d records", node, n)
			}
			if err := walk(child, int(n), dep-1); err != nil {
				return err
			}
			if i < nrec {
				if err := fn(b[6+i*recSize : 6+(i+1)*recSize]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if root == undef || rootRecs == 0 && depth == 0 {
		return nil
	}
	if uint64(rootRecs) > maxLeaf {
		return fmt.Errorf("v2 B-tree at %#x: root with %d records", addr, rootRecs)
	}
	return walk(root, rootRecs, depth)
}
