package photo

import (
	"bytes"
	"encoding/binary"
	"sync"
)

// An eighth-scale decode of a baseline JPEG, for 12-megapixel photos.
//
// At 1/8 scale a JPEG's luma block becomes one pixel, its DC coefficient,
// so all a decoder needs from the block's 63 AC coefficients is where they
// end. libjpeg-turbo still decodes them one Huffman symbol at a time, which
// is three quarters of a 12-megapixel photo's decoding (its Huffman decoder
// is plain C: SIMD covers the inverse DCTs and colour conversion). Here
// they are skipped with a table that consumes every symbol whose code and
// extra bits fit in the next 14 bits, per look-up (skipLuma). The 4:2:0
// chroma's 2×2 inverse DCT reads a quarter of a block's coefficients:
// their terms are summed into its first pass as they are decoded
// (sumBlock), with no block to fill and clear. Everything else is libjpeg-turbo's
// arithmetic at this scale, with TJFLAG_FASTUPSAMPLE, so that the pixels
// are libjpeg-turbo's to the byte (tested): the luma's 1×1 reduced inverse
// DCT and its range limit (jidctred.c), the 4:2:0 chroma's 2×2 one as the
// SSE2 code computes it (idct2x2), and the YCbCr conversion (jdcolor.c).
// Feature caches keyed "libjpeg-turbo" stay valid. (On ARM, libjpeg-turbo's
// NEON 2×2 inverse DCT could differ from SSE2's where extreme quantisation
// tables push values out of range; not measured.)
//
// In builds without libjpeg-turbo it decodes phone-sized photos on its
// own (turbo_other.go); there a file it declines goes to Go's decoder.
//
// Only the common case is taken: one interleaved baseline (or extended
// sequential Huffman) scan of 8-bit YCbCr (told from RGB as libjpeg-turbo
// does: JFIF, Adobe's transform, the component ids) with 4:2:0 or 4:4:4
// sampling, restart markers in sequence, the end marker right after the
// scan. For anything else — progressive, grayscale, CMYK, RGB, other
// sampling, a bad Huffman code, data cut short, stray bytes or markers,
// what libjpeg-turbo warns of in the headers — decodeEighth declines and
// libjpeg-turbo decodes the file, with its own errors and warnings, so
// damaged files keep their behaviour.

const (
	lookBits = 10 // bits of a single-symbol look-up
	skipBits = 14 // bits of a look-up in the luma's skipping table
)

// huffTable is one Huffman table's decoding state.
type huffTable struct {
	// look maps the next lookBits bits to len<<8 | symbol for codes of
	// at most lookBits bits; 0 for longer codes.
	look [1 << lookBits]uint16
	// maxcode[l] is the largest code of length l (-1 if none);
	// valoff[l] turns a code of length l into an index into vals.
	maxcode [18]int32
	valoff  [17]int32
	vals    [256]uint8
	// ac, for AC tables read with values (the chroma's), maps the next
	// lookBits bits to value<<16 | advance<<8 | bits for a symbol whose
	// code and extra bits fit in lookBits: advance is the zero run plus
	// one (16 for a run of sixteen zeros, 0 for the end of the block);
	// 0 when they do not fit.
	ac *[1 << lookBits]int32
	// dcv, for DC tables, maps the next lookBits bits to
	// difference<<8 | bits for a difference whose code and extra bits fit
	// in lookBits; 0 when they do not.
	dcv *[1 << lookBits]int32
	// skip, for the luma's AC table (and the chroma's with 4:4:4), maps
	// the next skipBits bits to the symbols whose codes and extra bits fit
	// in them (see skipAdv).
	skip *[1 << skipBits]uint16
	// def is the DHT definition (code counts and symbols) the tables
	// were built from, and built says which of ac, dcv and skip are
	// built from it: a phone's photos share their tables, and the
	// skipping table took a hundredth of a decode to build.
	def   []byte
	built uint8
}

// The derived tables, for huffTable.built.
const (
	builtAC = 1 << iota
	builtDC
	builtSkip
)

// define makes the decoding tables from def, a DHT segment's 16 code
// counts and its symbols, unless they are built from the same already; it
// refuses what libjpeg-turbo refuses.
func (t *huffTable) define(def []byte, isDC bool) bool {
	if t.def != nil && bytes.Equal(t.def, def) {
		return true
	}
	t.def, t.built = nil, 0
	var counts [17]int
	for l := 1; l <= 16; l++ {
		counts[l] = int(def[l-1])
	}
	if !t.build(counts, def[16:], isDC) {
		return false
	}
	t.def = append(t.def[:0:0], def...)
	return true
}

// build makes the decoding tables from a DHT segment's code counts and
// symbols, refusing what libjpeg-turbo refuses (jpeg_make_d_derived_tbl).
func (t *huffTable) build(counts [17]int, vals []byte, isDC bool) bool {
	n := copy(t.vals[:], vals)
	code, k := int32(0), 0
	var codes [256]int32
	var lens [256]uint8
	for l := 1; l <= 16; l++ {
		for range counts[l] {
			codes[k], lens[k] = code, uint8(l)
			code++
			k++
		}
		if code > 1<<l {
			return false
		}
		code <<= 1
	}
	k = 0
	for l := 1; l <= 16; l++ {
		if counts[l] == 0 {
			t.maxcode[l] = -1
			continue
		}
		t.valoff[l] = int32(k) - codes[k]
		k += counts[l]
		t.maxcode[l] = codes[k-1]
	}
	t.maxcode[17] = 0x7fffffff
	clear(t.look[:])
	for i := range n {
		if l := int(lens[i]); l <= lookBits {
			base := int(codes[i]) << (lookBits - l)
			for j := range 1 << (lookBits - l) {
				t.look[base+j] = uint16(l)<<8 | uint16(t.vals[i])
			}
		}
		if isDC && t.vals[i] > 15 {
			return false
		}
	}
	return true
}

// decodeSlow decodes a symbol whose code is longer than lookBits from the
// left-aligned bits acc; it returns the code's length, 0 for a bad code.
func (t *huffTable) decodeSlow(acc uint64) (int, uint8) {
	for l := lookBits + 1; l <= 16; l++ {
		c := int32(acc >> (64 - l))
		if c <= t.maxcode[l] {
			return l, t.vals[(c+t.valoff[l])&0xff]
		}
	}
	return 0, 0
}

// symbolAt decodes the symbol at the start of the n bits left-aligned in
// v, for building tables: its length, or 0 when it does not fit in n bits
// or is not a code.
func (t *huffTable) symbolAt(v uint64, n int) (int, uint8) {
	e := t.look[v>>(64-lookBits)]
	if l := int(e >> 8); l > 0 {
		if l > n {
			return 0, 0
		}
		return l, uint8(e)
	}
	l, s := t.decodeSlow(v)
	if l > n {
		return 0, 0
	}
	return l, s
}

// buildAC fills t.ac (see huffTable).
func (t *huffTable) buildAC() {
	if t.built&builtAC != 0 {
		return
	}
	t.built |= builtAC
	if t.ac == nil {
		t.ac = new([1 << lookBits]int32)
	}
	for i := range t.ac {
		v := uint64(i) << (64 - lookBits)
		t.ac[i] = 0
		l, sym := t.symbolAt(v, lookBits)
		if l == 0 {
			continue
		}
		r, s := int(sym>>4), int(sym&15)
		switch {
		case s == 0 && r == 15:
			t.ac[i] = 16<<8 | int32(l)
		case s == 0:
			t.ac[i] = int32(l) // the end of the block: advance 0
		case l+s <= lookBits:
			x := int32(v << l >> (64 - s))
			t.ac[i] = extend(x, s)<<16 | int32(r+1)<<8 | int32(l+s)
		}
	}
}

// buildDC fills t.dcv (see huffTable).
func (t *huffTable) buildDC() {
	if t.built&builtDC != 0 {
		return
	}
	t.built |= builtDC
	if t.dcv == nil {
		t.dcv = new([1 << lookBits]int32)
	}
	for i := range t.dcv {
		t.dcv[i] = 0
		v := uint64(i) << (64 - lookBits)
		if l, s := t.symbolAt(v, lookBits); l > 0 && l+int(s) <= lookBits {
			var x int32
			if s > 0 {
				x = extend(int32(v<<uint(l)>>(64-uint(s))), int(s))
			}
			t.dcv[i] = x<<8 | int32(l+int(s))
		}
	}
}

// A skip entry packs what the symbols at the start of skipBits bits do:
// bits 0–3 the bits they take, 4–9 how many coefficients they advance,
// 10–15 how many the symbols before the last one advance (an end of block
// advances 63, and both sums are capped at 63: from coefficient 1 or
// more, either ends the block). They all belong to the block when the
// symbols before the last one leave it unfinished: when that count is
// below the coefficients left. When the first symbol does not fit, the
// count is 63 and the entry is never taken (it is decoded alone). Entries
// of 16 bits keep the table at 32 KB, within the L1 cache, at 14 bits.
const (
	skipAdv    = 4
	skipBefore = 10
)

// buildSkip fills t.skip (see huffTable).
func (t *huffTable) buildSkip() {
	if t.built&builtSkip != 0 {
		return
	}
	t.built |= builtSkip
	if t.skip == nil {
		t.skip = new([1 << skipBits]uint16)
	}
	for i := range t.skip {
		v := uint64(i) << (64 - skipBits)
		bits, adv, e := uint32(0), uint32(0), uint32(63)<<skipBefore
		for adv < 63 {
			l, sym := t.symbolAt(v<<bits, skipBits-int(bits))
			if l == 0 {
				break
			}
			r, s := uint32(sym>>4), uint32(sym&15)
			if int(bits)+l+int(s) > skipBits {
				break
			}
			before := adv
			bits += uint32(l) + s
			switch {
			case s != 0:
				adv += r + 1
			case r == 15:
				adv += 16
			default:
				adv = 63
			}
			adv = min(adv, 63)
			e = bits | adv<<skipAdv | before<<skipBefore
		}
		t.skip[i] = uint16(e)
	}
}

// extend turns s extra bits x into the signed value they code (F.2.2.1).
func extend(x int32, s int) int32 {
	if x < 1<<(s-1) {
		return x - 1<<s + 1
	}
	return x
}

// eighthComp is one colour component of the frame.
type eighthComp struct {
	id, h, v, tq int
	dc, ac       *huffTable
}

// eighthDecoder holds a decode's tables.
type eighthDecoder struct {
	quant   [4][64]int32
	qset    [4]bool
	huff    [2][4]huffTable // [DC, AC][slot]
	hset    [2][4]bool
	w, h    int
	comps   [3]eighthComp
	restart int
	planes  []uint8
}

// decodeEighth decodes a JPEG at 1/8 scale exactly as libjpeg-turbo does
// with TJFLAG_FASTUPSAMPLE, or returns false when the file is not one it
// takes (see above), for libjpeg-turbo to decode.
func decodeEighth(data []byte) (m *RGB, ok bool) {
	defer func() {
		// The decoder checks its reads; should a corrupt file still
		// reach a bounds check, libjpeg-turbo decides about it.
		if recover() != nil {
			m, ok = nil, false
		}
	}()
	return eighth(data)
}

// eighth is decodeEighth without the recovery, for tests to see a panic.
func eighth(data []byte) (*RGB, bool) {
	d := eighthPool.Get().(*eighthDecoder)
	defer eighthPool.Put(d)
	d.reset()
	scan, ok := d.parse(data)
	if !ok {
		return nil, false
	}
	return d.decode(data[scan:])
}

// eighthPool keeps decoders, whose tables and buffers (the size of a
// file's data) would otherwise be allocated and cleared for every photo.
var eighthPool = sync.Pool{New: func() any { return new(eighthDecoder) }}

// eighthPix keeps the pixels of eighth-scale decodes that LoadFile has
// shrunk (*[]byte): half a megabyte for a phone's photo, allocated and
// cleared for each one otherwise.
var eighthPix sync.Pool

// eighthPixels returns n bytes for a decode's pixels, reused from
// eighthPix when it has enough; the caller writes every byte.
func eighthPixels(n int) []uint8 {
	if bp, ok := eighthPix.Get().(*[]byte); ok && cap(*bp) >= n {
		return (*bp)[:n]
	}
	return make([]uint8, n)
}

// releaseEighth gives the pixels of m, an eighth-scale decode, back to
// eighthPix; m must not be used after.
func releaseEighth(m *RGB) {
	pix := m.Pix
	m.Pix = nil
	eighthPix.Put(&pix)
}

// reset forgets the previous file's tables and settings, keeping the
// memory.
func (d *eighthDecoder) reset() {
	d.qset, d.hset, d.restart, d.w, d.h = [4]bool{}, [2][4]bool{}, 0, 0, 0
	d.comps = [3]eighthComp{}
}

// parse reads the markers up to the scan and returns where its data
// starts.
func (d *eighthDecoder) parse(data []byte) (int, bool) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 0, false
	}
	frame, jfif := false, false
	for i := 2; ; {
		if i+4 > len(data) || data[i] != 0xFF {
			return 0, false
		}
		for data[i+1] == 0xFF { // fill bytes
			if i++; i+4 > len(data) {
				return 0, false
			}
		}
		marker := data[i+1]
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 0, false
		}
		seg := data[i+4 : i+2+n]
		i += 2 + n
		switch {
		case marker == 0xE0 && len(seg) >= 14 && string(seg[:5]) == "JFIF\x00":
			jfif = true
			if seg[5] != 1 {
				return 0, false // libjpeg-turbo warns of the version
			}
		case marker == 0xEE && len(seg) >= 12 && string(seg[:5]) == "Adobe":
			if seg[11] != 1 {
				return 0, false // RGB (0), or a transform libjpeg-turbo warns of
			}
		case marker >= 0xE0 && marker <= 0xEF, marker == 0xFE: // APPn, COM
		case marker == 0xDB:
			if !d.parseDQT(seg) {
				return 0, false
			}
		case marker == 0xC4:
			if !d.parseDHT(seg) {
				return 0, false
			}
		case marker == 0xDD:
			if len(seg) != 2 {
				return 0, false
			}
			d.restart = int(binary.BigEndian.Uint16(seg))
		case marker == 0xC0 || marker == 0xC1:
			if frame || !d.parseSOF(seg) {
				return 0, false
			}
			frame = true
		case marker == 0xDA:
			if !frame || !d.parseSOS(seg) {
				return 0, false
			}
			// Without JFIF or Adobe markers, libjpeg takes the
			// components 'R', 'G', 'B' for RGB.
			if c := d.comps; !jfif && c[0].id == 'R' && c[1].id == 'G' && c[2].id == 'B' {
				return 0, false
			}
			return i, true
		default: // progressive, lossless, arithmetic, DNL, anything odd
			return 0, false
		}
	}
}

func (d *eighthDecoder) parseDQT(seg []byte) bool {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&15
		if pq != 0 || tq > 3 || len(seg) < 65 {
			return false
		}
		for k := range 64 {
			d.quant[tq][naturalOrder[k]] = int32(seg[1+k])
		}
		d.qset[tq] = true
		seg = seg[65:]
	}
	return true
}

func (d *eighthDecoder) parseDHT(seg []byte) bool {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return false
		}
		tc, th := seg[0]>>4, seg[0]&15
		if tc > 1 || th > 3 {
			return false
		}
		total := 0
		for l := 1; l <= 16; l++ {
			total += int(seg[l])
		}
		if total > 256 || len(seg) < 17+total {
			return false
		}
		if !d.huff[tc][th].define(seg[1:17+total], tc == 0) {
			return false
		}
		d.hset[tc][th] = true
		seg = seg[17+total:]
	}
	return true
}

func (d *eighthDecoder) parseSOF(seg []byte) bool {
	if len(seg) != 6+3*3 || seg[0] != 8 || seg[5] != 3 {
		return false
	}
	d.h = int(binary.BigEndian.Uint16(seg[1:]))
	d.w = int(binary.BigEndian.Uint16(seg[3:]))
	if d.w == 0 || d.h == 0 {
		return false
	}
	for c := range 3 {
		p := seg[6+3*c:]
		d.comps[c] = eighthComp{id: int(p[0]), h: int(p[1] >> 4), v: int(p[1] & 15), tq: int(p[2])}
		if d.comps[c].tq > 3 {
			return false
		}
	}
	// 4:2:0 or 4:4:4: the chroma's blocks are one pixel per MCU (or,
	// with 4:2:0, two by two through the 2×2 inverse DCT).
	c := d.comps
	if c[1].h != 1 || c[1].v != 1 || c[2].h != 1 || c[2].v != 1 {
		return false
	}
	return c[0].h == c[0].v && (c[0].h == 1 || c[0].h == 2)
}

func (d *eighthDecoder) parseSOS(seg []byte) bool {
	if len(seg) != 1+2*3+3 || seg[0] != 3 {
		return false
	}
	for c := range 3 {
		id, t := int(seg[1+2*c]), seg[2+2*c]
		td, ta := t>>4, t&15
		if id != d.comps[c].id || td > 3 || ta > 3 || !d.hset[0][td] || !d.hset[1][ta] || !d.qset[d.comps[c].tq] {
			return false
		}
		d.comps[c].dc, d.comps[c].ac = &d.huff[0][td], &d.huff[1][ta]
	}
	// Ss=0, Se=63, Ah=Al=0: one sequential scan.
	return seg[7] == 0 && seg[8] == 63 && seg[9] == 0
}

// idctRange is libjpeg's range limit after an inverse DCT
// (IDCT_range_limit, indexed by the value masked with 1023): the value
// plus 128, clamped, wrapping as libjpeg's table does for values out of
// [-512, 511].
var idctRange = func() (t [1024]uint8) {
	for v := range t {
		switch {
		case v < 128:
			t[v] = uint8(v + 128)
		case v < 512:
			t[v] = 255
		case v < 896:
			t[v] = 0
		default:
			t[v] = uint8(v - 896)
		}
	}
	return t
}()

func (d *eighthDecoder) decode(data []byte) (*RGB, bool) {
	mcu := 8 * d.comps[0].h // pixels of an MCU side at full size
	mx, my := (d.w+mcu-1)/mcu, (d.h+mcu-1)/mcu
	ps := d.comps[0].h // output pixels of an MCU side
	if mx*my*(ps*ps+2) > 4*len(data) {
		// Every block takes 2 bits or more: the data cannot hold
		// them, and the planes below would be the dimensions' size,
		// not the file's.
		return nil, false
	}
	pw, ph := mx*ps, my*ps
	// Planes at the MCUs' size; the output crops them.
	if cap(d.planes) < 3*pw*ph {
		d.planes = make([]uint8, 3*pw*ph)
	}
	planes := d.planes[:3*pw*ph] // every sample is written
	yp, cbp, crp := planes[:pw*ph], planes[pw*ph:2*pw*ph], planes[2*pw*ph:]
	luma := d.comps[0].ac
	luma.buildSkip()
	dct0 := d.comps[0].dc
	dct0.buildDC()
	lt := lumaTables{dc: dct0, dcv: dct0.dcv, skip: luma.skip, ac: luma}
	if ps == 2 {
		d.comps[1].ac.buildAC()
		if d.comps[2].ac != d.comps[1].ac {
			d.comps[2].ac.buildAC()
		}
	}
	interval := d.restart
	total := mx * my
	if interval == 0 {
		interval = total
	}
	q0 := d.quant[d.comps[0].tq][0]
	var qc [2]*[64]int32
	qc[0], qc[1] = &d.quant[d.comps[1].tq], &d.quant[d.comps[2].tq]
	var ct chromaTables
	if ps == 2 {
		for c := range 2 {
			ct.terms[c].build(qc[c])
			ct.dc[c], ct.ac[c] = d.comps[c+1].dc, d.comps[c+1].ac
			ct.dc[c].buildDC()
			ct.dcv[c] = ct.dc[c].dcv
		}
	}
	// 4:4:4 chroma blocks take only their DC, as luma blocks do.
	var cl [2]lumaTables
	if ps == 1 {
		for c := range 2 {
			dc, ac := d.comps[c+1].dc, d.comps[c+1].ac
			dc.buildDC()
			ac.buildSkip()
			cl[c] = lumaTables{dc: dc, dcv: dc.dcv, skip: ac.skip, ac: ac}
		}
	}
	for first, rst := 0, 0; first < total; first, rst = first+interval, rst+1 {
		last := min(first+interval, total)
		var ok bool
		var acc uint64
		var n uint
		p := 0
		var pred [3]int32
		bx, by := first%mx, first/mx
		for i := first; i < last; i, bx = i+1, bx+1 {
			if bx == mx {
				bx, by = 0, by+1
			}
			if n > 64 {
				return nil, false // read past the data (see refillSlow)
			}
			// Luma blocks: the DC coefficient, the rest skipped.
			var dcs [4]int32
			if acc, n, p, ok = skipLuma(&lt, data, acc, n, p, &dcs, ps*ps); !ok {
				return nil, false
			}
			for b := range ps * ps {
				pred[0] += dcs[b]
				v := (int32(int16(pred[0]))*q0 + 4) >> 3
				yo := (by*ps+b>>1)*pw + bx*ps + b&1
				if ps == 1 {
					yo = by*pw + bx
				}
				yp[yo] = idctRange[v&1023]
			}
			// Chroma blocks: the 2×2 inverse DCT of 4:2:0 reads a
			// quarter of the coefficients, summed into its first pass
			// as they are decoded; 4:4:4 reads only the DC.
			for c := 1; c < 3; c++ {
				plane := cbp
				if c == 2 {
					plane = crp
				}
				o := by*ps*pw + bx*ps
				if ps == 1 {
					var dcs [4]int32
					if acc, n, p, ok = skipLuma(&cl[c-1], data, acc, n, p, &dcs, 1); !ok {
						return nil, false
					}
					pred[c] += dcs[0]
					plane[o] = idctRange[((int32(int16(pred[c]))*qc[c-1][0]+4)>>3)&1023]
					continue
				}
				var sums [16]int32
				var touched uint32
				var dc int32
				if acc, n, p, dc, touched, ok = sumBlock(&ct, c-1, data, acc, n, p, &sums); !ok {
					return nil, false
				}
				pred[c] += dc
				// The DC, dequantised in 16 bits as the SIMD code does.
				sums[0] += int32(int16(int32(int16(pred[c]))*qc[c-1][0])) << 15
				if touched&0x3fe == 0 {
					// Only the DC: idct2x2 gives the same value to
					// all four pixels, its arithmetic in 32 bits
					// (the shift can wrap, as SIMD's does).
					v := satSample(((sums[0]+1<<12)>>13<<15 + 1<<19) >> 20)
					plane[o], plane[o+1], plane[o+pw], plane[o+pw+1] = v, v, v, v
					continue
				}
				idct2x2(plane[o:], pw, &sums, touched)
			}
		}
		// What libjpeg-turbo reads of the interval must be all there
		// is, apart from the last byte's padding bits, and the marker
		// after it the next in sequence, or the end of the image.
		acc, n, p = refillSlow(data, acc, n, p)
		if n >= 8 || p >= len(data) {
			return nil, false
		}
		q := pastFill(data, p)
		if q >= len(data) || last < total && data[q] != 0xD0+byte(rst&7) || last == total && data[q] != 0xD9 {
			return nil, false // out of sequence, or cut short: libjpeg-turbo warns
		}
		data = data[q+1:]
	}
	// Colour conversion, cropping to the output size.
	ow, oh := (d.w+7)/8, (d.h+7)/8
	out := &RGB{Width: ow, Height: oh, Pix: eighthPixels(3 * ow * oh)}
	for y := range oh {
		yr, cbr, crr := yp[y*pw:][:ow], cbp[y*pw:][:ow], crp[y*pw:][:ow]
		o := out.Pix[3*y*ow:][:3*ow]
		for x := range ow {
			yy, cb, cr := int32(yr[x]), cbr[x], crr[x]
			px := o[3*x : 3*x+3 : 3*x+3]
			px[0] = clamp8(yy + crR[cr])
			px[1] = clamp8(yy + (cbG[cb]+crG[cr])>>16)
			px[2] = clamp8(yy + cbB[cb])
		}
	}
	return out, true
}

// lumaTables are the tables skipLuma reads: a luma component's, or a
// 4:4:4 chroma component's.
type lumaTables struct {
	dc, ac *huffTable
	dcv    *[1 << lookBits]int32
	skip   *[1 << skipBits]uint16
}

// skipLuma decodes the DC differences of blocks blocks of lt's component
// into dcs and skips their AC coefficients, from the bit reader acc (n
// bits, the next load at data[p]); false for a bad code. It takes the luma
// blocks of an MCU in one call, and a 4:4:4 chroma block alone.
func skipLuma(lt *lumaTables, data []byte, acc uint64, n uint, p int, dcs *[4]int32, blocks int) (uint64, uint, int, bool) {
	skip := lt.skip
	var fast bool
	for b := range blocks {
		if acc, n, p, fast = refill(data, acc, n, p); !fast {
			acc, n, p = refillSlow(data, acc, n, p)
		}
		var dc int32
		var used uint
		if e := lt.dcv[acc>>(64-lookBits)]; e != 0 {
			dc, used = e>>8, uint(e&255)
		} else if dc, used = dcDiff(lt.dc, acc); used == 0 {
			return acc, n, p, false
		}
		acc <<= used & 63
		n -= used
		left := uint(63) // coefficients left in the block
	block:
		for {
			// Refilled every four look-ups, without a test: a test
			// taken at random every few look-ups was mispredicted.
			// Four look-ups take at most 4×skipBits bits, the 56 or
			// more a refill gives. They are written out: a loop of
			// them kept its counter and more in memory, and an inlined
			// function for each was 3% slower (its result tested
			// again).
			if acc, n, p, fast = refill(data, acc, n, p); !fast {
				acc, n, p = refillSlow(data, acc, n, p)
			}
			e := uint(skip[acc>>(64-skipBits)])
			if e>>skipBefore < left {
				acc <<= e & 15
				n -= e & 15
				if adv := e >> skipAdv & 63; adv < left {
					left -= adv
				} else {
					break block
				}
				e = uint(skip[acc>>(64-skipBits)])
				if e>>skipBefore < left {
					acc <<= e & 15
					n -= e & 15
					if adv := e >> skipAdv & 63; adv < left {
						left -= adv
					} else {
						break block
					}
					e = uint(skip[acc>>(64-skipBits)])
					if e>>skipBefore < left {
						acc <<= e & 15
						n -= e & 15
						if adv := e >> skipAdv & 63; adv < left {
							left -= adv
						} else {
							break block
						}
						e = uint(skip[acc>>(64-skipBits)])
						if e>>skipBefore < left {
							acc <<= e & 15
							n -= e & 15
							if adv := e >> skipAdv & 63; adv < left {
								left -= adv
							} else {
								break block
							}
							continue
						}
					}
				}
			}
			// A long code or a large coefficient, decoded alone.
			if n < 32 {
				if acc, n, p, fast = refill(data, acc, n, p); !fast {
					acc, n, p = refillSlow(data, acc, n, p)
				}
			}
			l, sym := lookup(lt.ac, acc)
			if l == 0 {
				return acc, n, p, false
			}
			r, s := uint(sym>>4), uint(sym&15)
			acc <<= uint(l) + s
			n -= uint(l) + s
			adv := r + 1
			if s == 0 && r != 15 {
				adv = 64 // the end of the block
			}
			if adv >= left {
				break block
			}
			left -= adv
		}
		dcs[b&3] = dc
	}
	return acc, n, p, true
}

// chromaTables are the tables sumBlock reads, for Cb and Cr.
type chromaTables struct {
	dc, ac [2]*huffTable
	dcv    [2]*[1 << lookBits]int32
	terms  [2]idctTerms
}

// sumBlock decodes the DC difference of a block of chroma component c (0
// for Cb, 1 for Cr) and adds its AC coefficients' terms to the sums of the
// 2×2 inverse DCT's first pass (see idctTerm), from the bit reader acc (n
// bits, the next load at data[p]), also returning which sums it touched
// (bit i for sums[i]); false for a bad code.
func sumBlock(ct *chromaTables, c int, data []byte, acc uint64, n uint, p int, sums *[16]int32) (uint64, uint, int, int32, uint32, bool) {
	c &= 1
	var fast bool
	// Refilled without a test: a chroma block takes about 20 bits, so
	// the test within the loop below is rarely true, but one here
	// would be true at random.
	if acc, n, p, fast = refill(data, acc, n, p); !fast {
		acc, n, p = refillSlow(data, acc, n, p)
	}
	var dc int32
	var used uint
	if e := ct.dcv[c][acc>>(64-lookBits)]; e != 0 {
		dc, used = e>>8, uint(e&255)
	} else if dc, used = dcDiff(ct.dc[c], acc); used == 0 {
		return acc, n, p, 0, 0, false
	}
	acc <<= used & 63
	n -= used
	var touched uint32
	t, terms := ct.ac[c], &ct.terms[c]
	tac := t.ac
	for k := uint(1); k < 64; {
		if n < 32 {
			if acc, n, p, fast = refill(data, acc, n, p); !fast {
				acc, n, p = refillSlow(data, acc, n, p)
			}
		}
		var v int32
		if e := tac[acc>>(64-lookBits)]; e != 0 {
			// The bits are at most lookBits: masked with 63, the
			// shift needs no test for 64 or more.
			acc <<= uint(e) & 63
			n -= uint(e) & 63
			adv := uint(e >> 8 & 255)
			if adv == 0 {
				break // the end of the block
			}
			// A run of sixteen zeros adds a zero term.
			k += adv - 1
			v = e >> 16
		} else {
			l, sym := lookup(t, acc)
			if l == 0 {
				return acc, n, p, 0, 0, false
			}
			r, s := uint(sym>>4), uint(sym&15)
			acc <<= uint(l)
			n -= uint(l)
			if s == 0 {
				if r != 15 {
					break
				}
				k += 16
				continue
			}
			x := int32(acc >> (64 - s))
			acc <<= s
			n -= s
			k += r
			v = extend(x, int(s))
		}
		// Dequantised in 16 bits, as the SIMD code multiplies.
		tm := &terms[k&127]
		sums[tm.sum&15] += int32(int16(int32(int16(v))*tm.q)) * tm.w
		touched |= 1 << tm.sum
		k++
	}
	return acc, n, p, dc, touched, true
}

// idctTerm is what the coefficient at one zigzag index adds to the first
// pass of the 2×2 inverse DCT: its dequantised value (in 16 bits) times w
// to sums[sum]. The first pass's sums are, for each of the columns 0, 1,
// 3, 5 and 7 (sums 2c and 2c+1 for the c-th), the even part (row 0,
// shifted up 15 bits) and the odd part (rows 1, 3, 5 and 7 with their
// constants); the other rows and columns are never read, and go to
// sums[10], which nothing reads (sums has 16 for the bounds). Each coefficient is written once, and the
// SIMD code's 32-bit sums wrap as Go's do, so summing them as they are
// decoded gives jsimd_idct_2x2_sse2's first pass.
type idctTerm struct {
	q, w int32
	sum  uint32
}

// idctTerms holds the terms of the zigzag indices, with the extra ones of
// naturalOrder.
type idctTerms [128]idctTerm

// The constants of jidctred.c's jpeg_idct_2x2 (CONST_BITS 13).
const (
	fix0720959822 = 5906
	fix0850430095 = 6967
	fix1272758580 = 10426
	fix3624509785 = 29692
)

// build fills the terms for the quantisation table q (natural order); the
// indices past 63, where a corrupt run reaches, are libjpeg's position 63.
func (terms *idctTerms) build(q *[64]int32) {
	col := [8]int{0, 1, -1, 2, -1, 3, -1, 4}
	rowW := [8]int32{1 << 15, fix3624509785, 0, -fix1272758580, 0, fix0850430095, 0, -fix0720959822}
	for k := range terms {
		z := naturalOrder[k]
		r, c := z/8, z%8
		t := idctTerm{q: q[z], sum: 10}
		if col[c] >= 0 && rowW[r] != 0 {
			t.w = rowW[r]
			t.sum = uint32(2 * col[c])
			if r != 0 {
				t.sum++
			}
		}
		terms[k] = t
	}
}

// The sum in jdcolor.c's ycc_rgb_convert, tables as its build_ycc_rgb_table.
var crR, cbB, crG, cbG = func() (crR, cbB, crG, cbG [256]int32) {
	fix := func(x float64) int32 { return int32(x*(1<<16) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + 1<<15) >> 16
		cbB[i] = (fix(1.77200)*x + 1<<15) >> 16
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + 1<<15
	}
	return
}()

func clamp8(v int32) uint8 { return uint8(min(max(v, 0), 255)) }

// refill tops the bit reader up to 56 bits or more from the entropy-coded
// data: acc holds n bits, left-aligned, and the next byte to load is
// data[p] (the bits below n are the following ones or zeros, so loading
// them again changes nothing). It loads eight bytes at once when none of
// them is 0xFF, a stuffed byte's or a marker's (a phone photo's data has
// one in about 250 bytes), and says so; otherwise it changes nothing, and
// the caller calls refillSlow. So the data is decoded where it lies,
// without a copy with the stuffed bytes removed, and refill is inlined
// (with the call in it, it was not, and the decode no faster).
func refill(data []byte, acc uint64, n uint, p int) (uint64, uint, int, bool) {
	if p+8 <= len(data) {
		w := binary.BigEndian.Uint64(data[p:])
		// A byte of ^w is zero where one of w is 0xFF.
		if (^w-0x0101010101010101)&w&0x8080808080808080 == 0 {
			return acc | w>>(n&63), n | 56, p + int(63-n)>>3, true
		}
	}
	return acc, n, p, false
}

// refillSlow is refill a byte at a time, for any data, as libjpeg's
// jpeg_fill_bit_buffer: a stuffed 0xFF 0x00 (after any fill bytes 0xFF)
// loads 0xFF; at a marker, or the end of the data, it stops with p at the
// marker's first 0xFF and loads nothing more, so that the bits below n stay zeros, which libjpeg
// decodes past the data. Decoding past them makes n wrap round below
// zero: a number above 64, which the decoder checks after each MCU (a
// refill gives 56 bits or more while there is data, and an MCU reads at
// most 56 bits between two refills, so that n wraps only past the data).
// It is rare, and kept out of the decoding loops, whose registers it
// would take.
//
//go:noinline
func refillSlow(data []byte, acc uint64, n uint, p int) (uint64, uint, int) {
	for n <= 56 && p < len(data) {
		b := data[p]
		if b != 0xFF {
			p++
		} else {
			q := pastFill(data, p)
			if q >= len(data) || data[q] != 0 {
				break // a marker
			}
			p = q + 1
		}
		acc |= uint64(b) << (56 - n)
		n += 8
	}
	return acc, n, p
}

// pastFill returns where the byte after the 0xFF at data[p], and after
// any fill bytes 0xFF that follow it, is: a stuffed 0x00 or a marker's
// code; len(data) when the data ends first.
func pastFill(data []byte, p int) int {
	q := p + 1
	for q < len(data) && data[q] == 0xFF {
		q++
	}
	return q
}

// dcDiff decodes the DC difference at the start of the left-aligned bits
// acc (at least 32 of them) with the table t, returning it and how many
// bits it takes; 0 bits for a bad code.
func dcDiff(t *huffTable, acc uint64) (int32, uint) {
	l, s := lookup(t, acc)
	switch {
	case l == 0:
		return 0, 0
	case s == 0:
		return 0, uint(l)
	}
	return extend(int32(acc<<uint(l)>>(64-uint(s))), int(s)), uint(l) + uint(s)
}

// lookup decodes one Huffman symbol from the left-aligned bits acc,
// returning its code's length (0 for a bad code).
func lookup(t *huffTable, acc uint64) (int, uint8) {
	if e := t.look[acc>>(64-lookBits)]; e != 0 {
		return int(e >> 8), uint8(e)
	}
	return t.decodeSlow(acc)
}

// idct2x2 is libjpeg-turbo's 2×2 reduced inverse DCT as its SIMD code
// (jsimd_idct_2x2_sse2) computes it, which is what decodes: jidctred.c's
// jpeg_idct_2x2 with the coefficients dequantised in 16 bits, the first
// pass's odd terms saturated to 16 bits before the second, and the result
// saturated to a sample instead of looked up in the range-limit table
// (the two differ only for values out of range, from extreme quantisation
// tables). It finishes the first pass from its sums (see idctTerm;
// touched says which are not zero) and writes two rows of two pixels to
// dst, rows stride apart.
func idct2x2(dst []uint8, stride int, sums *[16]int32, touched uint32) {
	if touched&0x3f0 == 0 {
		// Only columns 0 and 1 (most chroma blocks): the others'
		// terms are zero.
		e0, o0, e1, o1 := sums[0], sums[1], sums[2], sums[3]
		for r := range 2 {
			tmp10 := (e0 + o0 + 1<<12) >> 13 << 15
			tmp0 := sat16((e1+o1+1<<12)>>13) * fix3624509785
			dst[r*stride] = satSample((tmp10 + tmp0 + 1<<19) >> 20)
			dst[r*stride+1] = satSample((tmp10 - tmp0 + 1<<19) >> 20)
			o0, o1 = -o0, -o1 // the second row: the even part minus the odd
		}
		return
	}
	var ws [2][5]int32
	for c := range 5 {
		even, odd := sums[2*c], sums[2*c+1]
		ws[0][c] = (even + odd + 1<<12) >> 13
		ws[1][c] = (even - odd + 1<<12) >> 13
	}
	for r := range 2 {
		w := &ws[r]
		tmp10 := w[0] << 15
		tmp0 := sat16(w[4])*-fix0720959822 + sat16(w[3])*fix0850430095 +
			sat16(w[2])*-fix1272758580 + sat16(w[1])*fix3624509785
		dst[r*stride] = satSample((tmp10 + tmp0 + 1<<19) >> 20)
		dst[r*stride+1] = satSample((tmp10 - tmp0 + 1<<19) >> 20)
	}
}

// sat16 saturates v to 16 bits, as SSE2's packssdw does.
func sat16(v int32) int32 { return min(max(v, -32768), 32767) }

// satSample turns an inverse DCT's output into a sample as the SIMD code
// does: saturated to [-128, 127] (packssdw, packsswb), plus 128.
func satSample(v int32) uint8 { return uint8(min(max(v, -128), 127) + 128) }

// naturalOrder is libjpeg's jpeg_natural_order: zigzag index to position
// in the block, with extra entries at 63 where a corrupt run reaches past
// the end (16 in libjpeg; up to 128 here, so that an index masked with 127
// needs no bounds check).
var naturalOrder = [128]int{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
}
