package hdf5

import (
	"fmt"
	"math/bits"
)

// eachChunk calls fn with every stored chunk of a chunked dataset, from
// whichever chunk index the dataset has.
func (ds *Dataset) eachChunk(chunkBytes uint64, fn func(chunkRef) error) error {
	l := &ds.lay
	rank := len(ds.space.dims)
	if l.addr == undef {
		return nil // no chunks written yet
	}
	switch l.index {
	case indexBTree1:
		return ds.f.walkBTree1Key(l.addr, 1, l.btreeKeySize, func(child uint64, key []byte) error {
			d := ds.f.decoder(key)
			c := chunkRef{addr: child, size: uint64(d.u32()), mask: d.u32(), scaled: make([]uint64, rank)}
			for i := range c.scaled {
				off := d.u64()
				if off%l.chunk[i] != 0 {
					return fmt.Errorf("chunk offset %d is not a multiple of the chunk size %d", off, l.chunk[i])
				}
				c.scaled[i] = off / l.chunk[i]
			}
			if d.err != nil {
				return fmt.Errorf("B-tree key: %w", d.err)
			}
			return fn(c)
		})
	case indexSingle:
		c := chunkRef{addr: l.addr, size: chunkBytes, scaled: make([]uint64, rank)}
		if l.flags&layoutSingleFiltered != 0 {
			c.size, c.mask = l.singleSize, l.singleMask
		}
		return fn(c)
	case indexImplicit:
		// Chunks are stored one after the other, in row-major order of the
		// grid of the dataset's maximum dimensions.
		maxGrid, err := ds.maxGrid(-1)
		if err != nil {
			return err
		}
		total := uint64(1)
		for _, g := range maxGrid {
			var ok bool
			if total, ok = mulOK(total, g); !ok {
				return fmt.Errorf("implicit chunk index of too many chunks")
			}
		}
		if size, ok := mulOK(total, chunkBytes); !ok || l.addr+size < l.addr || ds.f.base+l.addr+size > uint64(ds.f.size) {
			return fmt.Errorf("implicit chunk index: %d chunks of %d bytes run past the end of the file", total, chunkBytes)
		}
		for i := uint64(0); i < total; i++ {
			c := chunkRef{addr: l.addr + i*chunkBytes, size: chunkBytes, scaled: unravel(i, maxGrid, -1)}
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	case indexFixed:
		return ds.eachFixedArrayChunk(fn)
	case indexExtArray:
		return ds.eachExtArrayChunk(fn)
	case indexBTree2:
		typ := uint8(10)
		if len(ds.pipe) > 0 {
			typ = 11
		}
		f := ds.f
		return f.walkBTree2(l.addr, typ, func(rec []byte) error {
			d := f.decoder(rec)
			c := chunkRef{addr: d.addr(), size: chunkBytes, scaled: make([]uint64, rank)}
			if typ == 11 {
				n := len(rec) - f.offSize - 4 - 8*rank
				if n < 1 || n > 8 {
					return fmt.Errorf("chunk record of %d bytes", len(rec))
				}
				c.size = d.uvar(n)
				c.mask = d.u32()
			}
			for i := range c.scaled {
				c.scaled[i] = d.u64()
			}
			if d.err != nil {
				return fmt.Errorf("chunk record: %w", d.err)
			}
			if c.addr == undef {
				return nil
			}
			return fn(c)
		})
	}
	return unsupported("chunk index type %d", l.index)
}

// maxGrid returns the number of chunks along each dimension for the
// dataset's maximum dimensions. The dimension skip (-1 for none) may be
// unlimited; any other unlimited dimension is an error.
func (ds *Dataset) maxGrid(skip int) ([]uint64, error) {
	g := make([]uint64, len(ds.space.dims))
	for i, d := range ds.space.dims {
		if ds.space.maxDims != nil {
			if m := ds.space.maxDims[i]; m == undef {
				if i != skip {
					return nil, fmt.Errorf("unlimited dimension %d with a %s chunk index", i, indexNames[ds.lay.index])
				}
				continue
			} else if m >= d {
				d = m
			}
		}
		g[i] = (d + ds.lay.chunk[i] - 1) / ds.lay.chunk[i]
	}
	return g, nil
}

// unravel turns a linear chunk index into a position, row-major over grid.
// The dimension first (-1 for none) is the slowest-varying one, whatever
// its place (an extensible array's unlimited dimension), and unbounded.
func unravel(idx uint64, grid []uint64, first int) []uint64 {
	rank := len(grid)
	out := make([]uint64, rank)
	for i := rank - 1; i >= 0; i-- {
		if i == first {
			continue
		}
		if i == 0 && first < 0 || grid[i] == 0 {
			out[i] = idx
			idx = 0
			continue
		}
		out[i] = idx % grid[i]
		idx /= grid[i]
	}
	if first >= 0 {
		out[first] = idx
	}
	return out
}

// chunkElement decodes one element of a fixed or extensible array chunk
// index: address, and for filtered chunks their size and filter mask.
func (ds *Dataset) chunkElement(b []byte, filtered bool, chunkBytes uint64) (chunkRef, error) {
	f := ds.f
	d := f.decoder(b)
	c := chunkRef{addr: d.addr(), size: chunkBytes}
	if filtered {
		n := len(b) - f.offSize - 4
		if n < 1 || n > 8 {
			return c, fmt.Errorf("chunk index element of %d bytes", len(b))
		}
		c.size = d.uvar(n)
		c.mask = d.u32()
	}
	return c, d.err
}

// eachFixedArrayChunk walks a fixed array chunk index: a header ("FAHD")
// and one data block ("FADB") of elements, possibly split into pages.
func (ds *Dataset) eachFixedArrayChunk(fn func(chunkRef) error) error {
	f := ds.f
	addr := ds.lay.addr
	chunkBytes := ds.chunkBytes()
	b, err := f.readMeta(addr, uint64(4+1+1+1+1+f.lenSize+f.offSize+4), "fixed array header")
	if err != nil {
		return err
	}
	d := f.decoder(b)
	if err := d.signature("FAHD"); err != nil {
		return fmt.Errorf("fixed array header at %#x: %w", addr, err)
	}
	if v := d.u8(); v != 0 {
		return unsupported("fixed array version %d", v)
	}
	client := d.u8()
	esize := int(d.u8())
	pageBits := int(d.u8())
	nelmts := d.length()
	dblock := d.addr()
	if d.err != nil {
		return fmt.Errorf("fixed array header at %#x: %w", addr, d.err)
	}
	if err := checkSum(b, "fixed array header", addr); err != nil {
		return err
	}
	filtered := client == 1
	if client > 1 || esize < f.offSize || filtered != (esize > f.offSize) || pageBits > 32 {
		return fmt.Errorf("fixed array at %#x: bad client %d, element size %d or page bits %d", addr, client, esize, pageBits)
	}
	grid, err := ds.maxGrid(-1)
	if err != nil {
		return err
	}
	total := uint64(1)
	for _, g := range grid {
		total *= g
	}
	if nelmts != total {
		return fmt.Errorf("fixed array at %#x has %d elements for %d chunks", addr, nelmts, total)
	}
	if dblock == undef {
		return nil
	}
	if n, ok := mulOK(nelmts, uint64(esize)); !ok || n > uint64(f.size) {
		return fmt.Errorf("fixed array at %#x: %d elements do not fit the file", addr, nelmts)
	}
	prefix := 4 + 1 + 1 + f.offSize
	each := func(base uint64, elems []byte) error {
		for i := 0; i+esize <= len(elems); i += esize {
			c, err := ds.chunkElement(elems[i:i+esize], filtered, chunkBytes)
			if err != nil {
				return fmt.Errorf("fixed array at %#x: %w", addr, err)
			}
			if c.addr == undef {
				continue
			}
			c.scaled = unravel(base+uint64(i/esize), grid, -1)
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	pageN := uint64(1) << pageBits
	if nelmts <= pageN {
		b, err := f.readMeta(dblock, uint64(prefix)+nelmts*uint64(esize)+4, "fixed array data block")
		if err != nil {
			return err
		}
		if err := checkArrayBlock(b, "FADB", client, addr, f, "fixed array data block", dblock); err != nil {
			return err
		}
		return each(0, b[prefix:len(b)-4])
	}
	npages := (nelmts + pageN - 1) / pageN
	bitmap := int((npages + 7) / 8)
	b, err = f.readMeta(dblock, uint64(prefix+bitmap+4), "fixed array data block")
	if err != nil {
		return err
	}
	if err := checkArrayBlock(b, "FADB", client, addr, f, "fixed array data block", dblock); err != nil {
		return err
	}
	init := b[prefix : prefix+bitmap]
	pageAddr := dblock + uint64(len(b))
	for p := uint64(0); p < npages; p++ {
		n := min(pageN, nelmts-p*pageN)
		size := n*uint64(esize) + 4
		if init[p/8]&(0x80>>(p%8)) != 0 {
			pb, err := f.readMeta(pageAddr, size, "fixed array data block page")
			if err != nil {
				return err
			}
			if err := checkSum(pb, "fixed array data block page", pageAddr); err != nil {
				return err
			}
			if err := each(p*pageN, pb[:len(pb)-4]); err != nil {
				return err
			}
		}
		pageAddr += size
	}
	return nil
}

// checkArrayBlock checks the signature, version, client ID, owner and
// checksum of a fixed or extensible array block.
func checkArrayBlock(b []byte, sig string, client uint8, owner uint64, f *File, what string, addr uint64) error {
	d := f.decoder(b)
	if err := d.signature(sig); err != nil {
		return fmt.Errorf("%s at %#x: %w", what, addr, err)
	}
	if v := d.u8(); v != 0 {
		return unsupported("%s version %d", what, v)
	}
	if c := d.u8(); c != client {
		return fmt.Errorf("%s at %#x: client %d, want %d", what, addr, c, client)
	}
	if a := d.addr(); a != owner {
		return fmt.Errorf("%s at %#x belongs to %#x, not %#x", what, addr, a, owner)
	}
	if d.err != nil {
		return fmt.Errorf("%s at %#x: %w", what, addr, d.err)
	}
	return checkSum(b, what, addr)
}

func (ds *Dataset) chunkBytes() uint64 {
	n := uint64(ds.dt.size)
	for _, c := range ds.lay.chunk {
		n *= c
	}
	return n
}

// eachExtArrayChunk walks an extensible array chunk index: a header
// ("EAHD"), an index block ("EAIB") holding the first elements and the
// addresses of the first data blocks and of super blocks ("EASB"), which
// hold the addresses of later data blocks ("EADB"), possibly paged.
func (ds *Dataset) eachExtArrayChunk(fn func(chunkRef) error) error {
	f := ds.f
	addr := ds.lay.addr
	chunkBytes := ds.chunkBytes()
	b, err := f.readMeta(addr, uint64(4+1+1+6+6*f.lenSize+f.offSize+4), "extensible array header")
	if err != nil {
		return err
	}
	d := f.decoder(b)
	if err := d.signature("EAHD"); err != nil {
		return fmt.Errorf("extensible array header at %#x: %w", addr, err)
	}
	if v := d.u8(); v != 0 {
		return unsupported("extensible array version %d", v)
	}
	client := d.u8()
	esize := int(d.u8())
	maxBits := int(d.u8())
	idxElmts := uint64(d.u8())
	dblkMin := uint64(d.u8())
	sblkMinPtrs := uint64(d.u8())
	pageBits := int(d.u8())
	d.skip(4 * f.lenSize) // super and data block statistics
	maxIdx := d.length()  // highest index set, plus one
	d.length()            // elements realized
	iblock := d.addr()
	if d.err != nil {
		return fmt.Errorf("extensible array header at %#x: %w", addr, d.err)
	}
	if err := checkSum(b, "extensible array header", addr); err != nil {
		return err
	}
	pow2 := func(v uint64) bool { return v != 0 && v&(v-1) == 0 }
	filtered := client == 1
	if client > 1 || esize < f.offSize || filtered != (esize > f.offSize) || pageBits > 32 ||
		!pow2(dblkMin) || !pow2(sblkMinPtrs) || maxBits > 64 || maxBits < bits.TrailingZeros64(dblkMin) {
		return fmt.Errorf("extensible array at %#x: bad parameters", addr)
	}
	if iblock == undef || maxIdx == 0 {
		return nil
	}
	unlim := -1
	for i, m := range ds.space.maxDims {
		if m == undef {
			unlim = i
			break
		}
	}
	if unlim < 0 {
		return fmt.Errorf("extensible array chunk index for a dataset without an unlimited dimension")
	}
	grid, err := ds.maxGrid(unlim)
	if err != nil {
		return err
	}

	// Super block sizes (H5EA__hdr_init).
	nsblks := 1 + maxBits - bits.TrailingZeros64(dblkMin)
	type sblkInfo struct{ ndblks, nelmts, startIdx, startDblk uint64 }
	info := make([]sblkInfo, nsblks)
	var startIdx, startDblk uint64
	for u := range info {
		info[u] = sblkInfo{1 << (u / 2), dblkMin << ((u + 1) / 2), startIdx, startDblk}
		startIdx += info[u].ndblks * info[u].nelmts
		startDblk += info[u].ndblks
	}
	arrOff := (maxBits + 7) / 8
	pageN := uint64(1) << pageBits
	iblockSblks := 2 * bits.TrailingZeros64(sblkMinPtrs)
	ndblkAddrs := int(2 * (sblkMinPtrs - 1))
	nsblkAddrs := nsblks - iblockSblks
	if nsblkAddrs < 0 {
		return fmt.Errorf("extensible array at %#x: bad parameters", addr)
	}
	prefix := 4 + 1 + 1 + f.offSize
	size := uint64(prefix) + idxElmts*uint64(esize) + uint64((ndblkAddrs+nsblkAddrs)*f.offSize) + 4
	ib, err := f.readMeta(iblock, size, "extensible array index block")
	if err != nil {
		return err
	}
	if err := checkArrayBlock(ib, "EAIB", client, addr, f, "extensible array index block", iblock); err != nil {
		return err
	}
	each := func(base uint64, elems []byte) error {
		for i := 0; i+esize <= len(elems); i += esize {
			idx := base + uint64(i/esize)
			if idx >= maxIdx {
				return nil
			}
			c, err := ds.chunkElement(elems[i:i+esize], filtered, chunkBytes)
			if err != nil {
				return fmt.Errorf("extensible array at %#x: %w", addr, err)
			}
			if c.addr == undef {
				continue
			}
			c.scaled = unravel(idx, grid, unlim)
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	d = f.decoder(ib[prefix : len(ib)-4])
	if err := each(0, d.take(int(idxElmts)*esize)); err != nil {
		return err
	}
	dblks := make([]uint64, ndblkAddrs)
	for i := range dblks {
		dblks[i] = d.addr()
	}
	sblks := make([]uint64, nsblkAddrs)
	for i := range sblks {
		sblks[i] = d.addr()
	}
	dataBlock := func(a, start, nelmts uint64, pageInit []byte) error {
		dprefix := prefix + arrOff
		if n, ok := mulOK(nelmts, uint64(esize)); !ok || n > uint64(f.size) {
			return fmt.Errorf("extensible array at %#x: data block of %d elements does not fit the file", addr, nelmts)
		}
		if nelmts <= pageN {
			b, err := f.readMeta(a, uint64(dprefix)+nelmts*uint64(esize)+4, "extensible array data block")
			if err != nil {
				return err
			}
			if err := checkArrayBlock(b, "EADB", client, addr, f, "extensible array data block", a); err != nil {
				return err
			}
			return each(start, b[dprefix:len(b)-4])
		}
		b, err := f.readMeta(a, uint64(dprefix)+4, "extensible array data block")
		if err != nil {
			return err
		}
		if err := checkArrayBlock(b, "EADB", client, addr, f, "extensible array data block", a); err != nil {
			return err
		}
		psize := pageN*uint64(esize) + 4
		for p := uint64(0); p < nelmts/pageN; p++ {
			if start+p*pageN >= maxIdx {
				break
			}
			if pageInit != nil && pageInit[p/8]&(0x80>>(p%8)) == 0 {
				continue
			}
			pa := a + uint64(len(b)) + p*psize
			pb, err := f.readMeta(pa, psize, "extensible array data block page")
			if err != nil {
				return err
			}
			if err := checkSum(pb, "extensible array data block page", pa); err != nil {
				return err
			}
			if err := each(start+p*pageN, pb[:len(pb)-4]); err != nil {
				return err
			}
		}
		return nil
	}
	for u := 0; u < nsblks; u++ {
		s := info[u]
		start := idxElmts + s.startIdx
		if start >= maxIdx {
			break
		}
		if u < iblockSblks {
			for j := uint64(0); j < s.ndblks; j++ {
				k := s.startDblk + j
				if k >= uint64(len(dblks)) {
					return fmt.Errorf("extensible array at %#x: bad parameters", addr)
				}
				if dblks[k] == undef {
					continue
				}
				if err := dataBlock(dblks[k], start+j*s.nelmts, s.nelmts, nil); err != nil {
					return err
				}
			}
			continue
		}
		sa := sblks[u-iblockSblks]
		if sa == undef {
			continue
		}
		initSize := uint64(0)
		if s.nelmts > pageN {
			initSize = (s.nelmts/pageN + 7) / 8
		}
		sbSize, ok := mulOK(s.ndblks, initSize+uint64(f.offSize))
		if !ok || sbSize > uint64(f.size) {
			return fmt.Errorf("extensible array at %#x: super block does not fit the file", addr)
		}
		sb, err := f.readMeta(sa, uint64(prefix+arrOff)+sbSize+4, "extensible array super block")
		if err != nil {
			return err
		}
		if err := checkArrayBlock(sb, "EASB", client, addr, f, "extensible array super block", sa); err != nil {
			return err
		}
		d := f.decoder(sb[prefix+arrOff : len(sb)-4])
		inits := d.take(int(s.ndblks * initSize))
		for j := uint64(0); j < s.ndblks; j++ {
			a := d.addr()
			if d.err != nil {
				return fmt.Errorf("extensible array super block at %#x: %w", sa, d.err)
			}
			if a == undef {
				continue
			}
			var pageInit []byte
			if initSize > 0 {
				pageInit = inits[j*initSize : (j+1)*initSize]
			}
			if err := dataBlock(a, start+j*s.nelmts, s.nelmts, pageInit); err != nil {
				return err
			}
		}
	}
	return nil
}
