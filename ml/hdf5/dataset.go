package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Layout classes.
const (
	layoutCompact    = 0
	layoutContiguous = 1
	layoutChunked    = 2
)

// Chunk index types of layout message version 4 (version 3 always uses a
// version 1 B-tree, given here as indexBTree1).
const (
	indexSingle   = 1
	indexImplicit = 2
	indexFixed    = 3
	indexExtArray = 4
	indexBTree2   = 5
	indexBTree1   = 6
)

var indexNames = map[uint8]string{
	indexSingle: "single chunk", indexImplicit: "implicit", indexFixed: "fixed array",
	indexExtArray: "extensible array", indexBTree2: "version 2 B-tree", indexBTree1: "version 1 B-tree",
}

type layout struct {
	class   uint8
	compact []byte // compact data
	addr    uint64 // contiguous data, or chunk index
	size    uint64 // contiguous data size

	// Chunked.
	chunk        []uint64 // chunk dimensions, without the element size
	index        uint8
	flags        uint8  // version 4 flags
	singleSize   uint64 // filtered size of a single chunk
	singleMask   uint32 // filter mask of a single chunk
	btreeKeySize int    // version 1 B-tree key size
}

const (
	layoutDontFilterPartial = 0x01
	layoutSingleFiltered    = 0x02
)

type filter struct {
	id     uint16
	flags  uint16
	name   string
	client []uint32
}

// newDataset decodes the messages that describe a dataset.
func (f *File) newDataset(oh *objectHeader, path string) (*Dataset, error) {
	ds := &Dataset{f: f, path: path, oh: oh}
	for _, m := range oh.msgs {
		switch m.typ {
		case msgDatatype:
			if m.flags&msgFlagShared != 0 {
				return nil, unsupported("committed (shared) datatype")
			}
		case msgDataspace, msgLayout, msgFilters, msgFill, msgFillOld:
			if m.flags&msgFlagShared != 0 {
				return nil, unsupported("shared object header message of type %#x", m.typ)
			}
		case msgExternal:
			return nil, unsupported("external data storage")
		}
	}
	var err error
	m := oh.find(msgDataspace)
	if m == nil {
		return nil, errors.New("no dataspace message")
	}
	if ds.space, err = parseDataspace(m.data, f.lenSize); err != nil {
		return nil, err
	}
	if m = oh.find(msgDatatype); m == nil {
		return nil, errors.New("no datatype message")
	}
	if ds.dt, err = parseDatatype(m.data); err != nil {
		return nil, err
	}
	if m = oh.find(msgFilters); m != nil {
		if ds.pipe, err = f.parseFilters(m.data); err != nil {
			return nil, err
		}
	}
	if m = oh.find(msgLayout); m == nil {
		return nil, errors.New("no data layout message")
	}
	if ds.lay, err = f.parseLayout(m.data, &ds.space, &ds.dt); err != nil {
		return nil, err
	}
	ds.fill = parseFill(oh, ds.dt.size)
	return ds, nil
}

// parseFill returns the dataset's fill value if it has one of the right
// size that is not all zeros.
func parseFill(oh *objectHeader, size int) []byte {
	var v []byte
	if m := oh.find(msgFill); m != nil {
		d := decoder{b: m.data}
		switch version := d.u8(); version {
		case 1, 2:
			d.skip(2) // allocation and write times
			defined := d.u8()
			if version == 1 || defined != 0 {
				n := d.u32()
				v = d.take(int(n))
			}
		case 3:
			flags := d.u8()
			if flags&0x20 != 0 {
				n := d.u32()
				v = d.take(int(n))
			}
		}
		if d.err != nil {
			v = nil
		}
	} else if m := oh.find(msgFillOld); m != nil {
		d := decoder{b: m.data}
		n := d.u32()
		v = d.take(int(n))
	}
	if len(v) != size || bytes.Count(v, []byte{0}) == len(v) {
		return nil
	}
	return v
}

// parseFilters decodes a filter pipeline message (version 1 or 2).
func (f *File) parseFilters(b []byte) ([]filter, error) {
	d := f.decoder(b)
	version := d.u8()
	n := int(d.u8())
	switch version {
	case 1:
		d.skip(6)
	case 2:
	default:
		return nil, unsupported("filter pipeline message version %d", version)
	}
	if n > 32 {
		return nil, fmt.Errorf("filter pipeline of %d filters", n)
	}
	var out []filter
	for i := 0; i < n; i++ {
		var fl filter
		fl.id = d.u16()
		nameLen := 0
		if version == 1 || fl.id >= 256 {
			nameLen = int(d.u16())
		}
		fl.flags = d.u16()
		nvals := int(d.u16())
		if nameLen > 0 {
			name := d.take(nameLen)
			if j := indexByte(name, 0); j >= 0 {
				name = name[:j]
			}
			fl.name = string(name)
			if version == 1 {
				d.skip((8 - nameLen%8) % 8)
			}
		}
		if nvals > 256 {
			return nil, fmt.Errorf("filter with %d parameters", nvals)
		}
		for j := 0; j < nvals; j++ {
			fl.client = append(fl.client, d.u32())
		}
		if version == 1 && nvals%2 == 1 {
			d.skip(4)
		}
		out = append(out, fl)
	}
	if d.err != nil {
		return nil, fmt.Errorf("filter pipeline message: %w", d.err)
	}
	return out, nil
}

// parseLayout decodes a data layout message of version 3 or 4.
func (f *File) parseLayout(b []byte, space *dataspace, dt *datatype) (layout, error) {
	var l layout
	d := f.decoder(b)
	version := d.u8()
	if version != 3 && version != 4 {
		return l, unsupported("data layout message version %d", version)
	}
	l.class = d.u8()
	switch l.class {
	case layoutCompact:
		n := int(d.u16())
		l.compact = d.take(n)
	case layoutContiguous:
		l.addr = d.addr()
		l.size = d.length()
	case layoutChunked:
		var ndims int
		var dims []uint64
		if version == 3 {
			ndims = int(d.u8())
			l.addr = d.addr()
			if ndims < 2 || ndims > maxRank+1 {
				return l, fmt.Errorf("chunked layout with %d dimensions", ndims)
			}
			for i := 0; i < ndims; i++ {
				dims = append(dims, uint64(d.u32()))
			}
			l.index = indexBTree1
			l.btreeKeySize = 4 + 4 + 8*ndims
		} else {
			l.flags = d.u8()
			ndims = int(d.u8())
			enc := int(d.u8())
			if ndims < 2 || ndims > maxRank+1 || enc < 1 || enc > 8 {
				return l, fmt.Errorf("chunked layout with %d dimensions of %d bytes", ndims, enc)
			}
			for i := 0; i < ndims; i++ {
				dims = append(dims, d.uvar(enc))
			}
			l.index = d.u8()
			switch l.index {
			case indexSingle:
				if l.flags&layoutSingleFiltered != 0 {
					l.singleSize = d.length()
					l.singleMask = d.u32()
				}
			case indexImplicit:
			case indexFixed:
				d.skip(1)
			case indexExtArray:
				d.skip(5)
			case indexBTree2:
				d.skip(6)
			default:
				if d.err == nil {
					return l, unsupported("chunk index type %d", l.index)
				}
			}
			l.addr = d.addr()
		}
		if d.err != nil {
			return l, fmt.Errorf("data layout message: %w", d.err)
		}
		// The last dimension is the element size.
		if dims[ndims-1] != uint64(dt.size) {
			return l, fmt.Errorf("chunk element size %d, want %d", dims[ndims-1], dt.size)
		}
		l.chunk = dims[:ndims-1]
		if len(l.chunk) != len(space.dims) {
			return l, fmt.Errorf("chunks of rank %d for a dataset of rank %d", len(l.chunk), len(space.dims))
		}
		n := uint64(dt.size)
		for _, c := range l.chunk {
			var ok bool
			if n, ok = mulOK(n, c); !ok || c == 0 || n > 1<<32 {
				return l, fmt.Errorf("bad chunk dimensions %v", l.chunk)
			}
		}
	case 3:
		return l, unsupported("virtual dataset layout")
	default:
		return l, fmt.Errorf("unknown layout class %d", l.class)
	}
	if d.err != nil {
		return l, fmt.Errorf("data layout message: %w", d.err)
	}
	return l, nil
}

// read returns the dataset's raw bytes: its elements in row-major order,
// in the file's datatype.
func (ds *Dataset) read() ([]byte, error) {
	f := ds.f
	nbytes, ok := mulOK(ds.space.n, uint64(ds.dt.size))
	if !ok || nbytes > uint64(f.maxVal) {
		return nil, fmt.Errorf("%d values of %d bytes are more than the limit of %d bytes", ds.space.n, ds.dt.size, f.maxVal)
	}
	switch ds.lay.class {
	case layoutCompact:
		if uint64(len(ds.lay.compact)) < nbytes {
			return nil, fmt.Errorf("compact data of %d bytes, want %d", len(ds.lay.compact), nbytes)
		}
		return append([]byte(nil), ds.lay.compact[:nbytes]...), nil
	case layoutContiguous:
		if ds.lay.addr == undef || nbytes == 0 {
			return ds.filled(nbytes), nil
		}
		if ds.lay.size < nbytes {
			return nil, fmt.Errorf("contiguous data of %d bytes, want %d", ds.lay.size, nbytes)
		}
		if len(ds.pipe) > 0 {
			return nil, unsupported("filters on contiguous data")
		}
		return f.read(ds.lay.addr, nbytes, "dataset data")
	}
	return ds.readChunked(nbytes)
}

// contiguousFloat32s reads contiguous float32 data a piece at a time, to
// avoid holding the file's bytes and the values at once; ok is false for
// other datasets.
func (ds *Dataset) contiguousFloat32s() (v []float32, ok bool, err error) {
	if ds.lay.class != layoutContiguous || ds.lay.addr == undef || len(ds.pipe) > 0 ||
		ds.dt.class != classFloat || ds.dt.size != 4 || ds.space.n == 0 {
		return nil, false, nil
	}
	f := ds.f
	nbytes, okMul := mulOK(ds.space.n, 4)
	if !okMul || nbytes > uint64(f.maxVal) {
		return nil, true, fmt.Errorf("%d values of 4 bytes are more than the limit of %d bytes", ds.space.n, f.maxVal)
	}
	if ds.lay.size < nbytes {
		return nil, true, fmt.Errorf("contiguous data of %d bytes, want %d", ds.lay.size, nbytes)
	}
	// Check the whole extent before allocating for it.
	if _, err := f.read(ds.lay.addr+nbytes, 0, "dataset data"); err != nil || ds.lay.addr+nbytes < ds.lay.addr {
		return nil, true, fmt.Errorf("dataset data at address %#x (%d bytes) is past the end of the file (%d bytes)", ds.lay.addr, nbytes, f.size)
	}
	out := make([]float32, ds.space.n)
	const piece = 256 << 10
	buf := make([]byte, min(piece, nbytes))
	for done := uint64(0); done < nbytes; {
		b := buf[:min(piece, nbytes-done)]
		if n, err := f.r.ReadAt(b, int64(f.base+ds.lay.addr+done)); n < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, true, fmt.Errorf("dataset data at address %#x: %w", ds.lay.addr+done, err)
		}
		ds.dt.putFloat32s(out[done/4:done/4+uint64(len(b))/4], b)
		done += uint64(len(b))
	}
	return out, true, nil
}

// filled returns n bytes of fill values.
func (ds *Dataset) filled(n uint64) []byte {
	b := make([]byte, n)
	if ds.fill != nil {
		for i := 0; i+len(ds.fill) <= len(b); i += len(ds.fill) {
			copy(b[i:], ds.fill)
		}
	}
	return b
}

// A chunkRef locates one stored chunk.
type chunkRef struct {
	addr   uint64
	size   uint64   // bytes stored
	mask   uint32   // filters skipped
	scaled []uint64 // position in chunks along each dimension
}

func (ds *Dataset) readChunked(nbytes uint64) ([]byte, error) {
	out := ds.filled(nbytes)
	if nbytes == 0 {
		return out, nil
	}
	rank := len(ds.space.dims)
	esize := uint64(ds.dt.size)
	chunkBytes := esize
	for _, c := range ds.lay.chunk {
		chunkBytes *= c
	}
	for _, fl := range ds.pipe {
		switch fl.id {
		case 1, 2, 3:
		default:
			name := map[uint16]string{4: "szip", 5: "n-bit", 6: "scale-offset", 32000: "LZF", 32001: "Blosc", 32004: "LZ4", 32008: "bitshuffle", 32015: "Zstandard"}[fl.id]
			if name == "" {
				name = fl.name
			}
			if name == "" {
				name = "unknown"
			}
			return nil, unsupported("filter %d (%s)", fl.id, name)
		}
	}
	// The chunk grid: chunks along each dimension.
	grid := make([]uint64, rank)
	for i := range grid {
		grid[i] = (ds.space.dims[i] + ds.lay.chunk[i] - 1) / ds.lay.chunk[i]
	}
	if chunkBytes > uint64(ds.f.maxVal) {
		return nil, fmt.Errorf("chunks of %d bytes are more than the limit of %d bytes", chunkBytes, ds.f.maxVal)
	}
	var st chunkState
	seen := make(map[uint64]bool)
	decoded := uint64(0)
	err := ds.eachChunk(chunkBytes, func(c chunkRef) error {
		if len(c.scaled) != rank {
			return errors.New("chunk of the wrong rank")
		}
		lin := uint64(0)
		for i := range grid {
			if c.scaled[i] >= grid[i] {
				return nil // outside the current extent
			}
			lin = lin*grid[i] + c.scaled[i]
		}
		if seen[lin] {
			return fmt.Errorf("chunk %v is stored twice", c.scaled)
		}
		seen[lin] = true
		// Chunks may overhang the dataset a lot; bound the work.
		if decoded += chunkBytes; decoded > 2*uint64(ds.f.maxVal) {
			return fmt.Errorf("chunks decode to more than %d bytes", 2*ds.f.maxVal)
		}
		data, err := ds.readChunk(c, chunkBytes, &st)
		if err != nil {
			return err
		}
		copyChunk(out, ds.space.dims, data, ds.lay.chunk, c.scaled, esize)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// partialEdge reports whether a chunk extends past the dataset's current
// dimensions.
func (ds *Dataset) partialEdge(scaled []uint64) bool {
	for i, s := range scaled {
		if (s+1)*ds.lay.chunk[i] > ds.space.dims[i] {
			return true
		}
	}
	return false
}

// readChunk reads a chunk and undoes its filters.
// chunkState is reused from chunk to chunk of one read: the data a chunk
// decodes to is copied out before the next chunk is read.
type chunkState struct {
	zr      io.ReadCloser
	inflate bytes.Buffer
	shuffle []byte
}

func (ds *Dataset) readChunk(c chunkRef, chunkBytes uint64, st *chunkState) ([]byte, error) {
	what := fmt.Sprintf("chunk %v at address %#x", c.scaled, c.addr)
	pipe := ds.pipe
	if ds.lay.flags&layoutDontFilterPartial != 0 && ds.partialEdge(c.scaled) {
		pipe = nil
	}
	if len(pipe) == 0 {
		if c.size != chunkBytes {
			return nil, fmt.Errorf("%s: %d bytes, want %d", what, c.size, chunkBytes)
		}
		return ds.f.read(c.addr, chunkBytes, "chunk")
	}
	if c.size > chunkBytes+chunkBytes/2+1<<20 {
		return nil, fmt.Errorf("%s: %d bytes stored for a chunk of %d bytes", what, c.size, chunkBytes)
	}
	data, err := ds.f.read(c.addr, c.size, "chunk")
	if err != nil {
		return nil, err
	}
	limit := chunkBytes + 4*uint64(len(pipe))
	for i := len(pipe) - 1; i >= 0; i-- {
		if c.mask&(1<<i) != 0 {
			continue // the filter was skipped when the chunk was written
		}
		fl := pipe[i]
		switch fl.id {
		case 1: // deflate
			var err error
			if st.zr == nil {
				st.zr, err = zlib.NewReader(bytes.NewReader(data))
			} else {
				err = st.zr.(zlib.Resetter).Reset(bytes.NewReader(data), nil)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: deflate: %w", what, err)
			}
			st.inflate.Reset()
			n, err := io.Copy(&st.inflate, io.LimitReader(st.zr, int64(limit)+1))
			if err != nil {
				return nil, fmt.Errorf("%s: deflate: %w", what, err)
			}
			if uint64(n) > limit {
				return nil, fmt.Errorf("%s: deflate: more than %d bytes", what, limit)
			}
			data = st.inflate.Bytes()
		case 2: // shuffle
			size := uint64(ds.dt.size)
			if len(fl.client) > 0 {
				size = uint64(fl.client[0])
			}
			data = unshuffle(data, int(size), &st.shuffle)
		case 3: // fletcher32
			if len(data) < 4 {
				return nil, fmt.Errorf("%s: fletcher32: %w", what, errTruncated)
			}
			n := len(data) - 4
			stored := binary.LittleEndian.Uint32(data[n:])
			sum := fletcher32(data[:n])
			// Old versions of HDF5 stored the sum with its bytes swapped.
			swapped := sum>>24 | sum>>8&0xff00 | sum<<8&0xff0000 | sum<<24
			if stored != sum && stored != swapped {
				return nil, fmt.Errorf("%s: Fletcher-32 checksum mismatch", what)
			}
			data = data[:n]
		}
	}
	if uint64(len(data)) != chunkBytes {
		return nil, fmt.Errorf("%s: %d bytes after filters, want %d", what, len(data), chunkBytes)
	}
	return data, nil
}

// unshuffle undoes the shuffle filter, which stores the first byte of
// every element, then the second byte of every element, and so on; bytes
// past the last whole element are left as they are.
func unshuffle(b []byte, size int, scratch *[]byte) []byte {
	if size <= 1 || len(b) < size {
		return b
	}
	if cap(*scratch) < len(b) {
		*scratch = make([]byte, len(b))
	}
	out := (*scratch)[:len(b)]
	n := len(b) / size
	for j := 0; j < size; j++ {
		src := b[j*n : (j+1)*n]
		for i, v := range src {
			out[i*size+j] = v
		}
	}
	copy(out[n*size:], b[n*size:])
	copy(b, out)
	return b
}

// copyChunk copies the part of a chunk that lies inside the dataset into
// dst, both in row-major order.
func copyChunk(dst []byte, dims []uint64, src []byte, chunk, scaled []uint64, esize uint64) {
	rank := len(dims)
	off := make([]uint64, rank)
	ext := make([]uint64, rank)
	for i := range dims {
		off[i] = scaled[i] * chunk[i]
		ext[i] = min(chunk[i], dims[i]-off[i])
	}
	run := ext[rank-1] * esize
	idx := make([]uint64, rank)
	for {
		var s, d uint64
		for i := 0; i < rank; i++ {
			s = s*chunk[i] + idx[i]
			d = d*dims[i] + off[i] + idx[i]
		}
		s *= esize
		d *= esize
		copy(dst[d:d+run], src[s:s+run])
		i := rank - 2
		for ; i >= 0; i-- {
			if idx[i]++; idx[i] < ext[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}
