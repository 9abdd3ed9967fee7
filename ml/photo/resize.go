package photo

import (
	"image"
	"image/color"
	"math"
	"slices"
)

// RGB is an image with 8-bit red, green and blue samples, 3 bytes per pixel,
// row-major with no padding between rows: the layout of a network's NHWC
// input. It implements image.Image so that it can be encoded or shown.
type RGB struct {
	Width, Height int
	// Pix holds the samples; pixel (x, y) starts at Pix[3*(y*Width+x)].
	Pix []uint8
}

// ColorModel returns color.RGBAModel.
func (p *RGB) ColorModel() color.Model { return color.RGBAModel }

// Bounds returns the rectangle (0, 0)-(Width, Height).
func (p *RGB) Bounds() image.Rectangle { return image.Rect(0, 0, p.Width, p.Height) }

// At returns the opaque colour of pixel (x, y), or transparent black outside
// the bounds.
func (p *RGB) At(x, y int) color.Color {
	if !(image.Point{x, y}.In(p.Bounds())) {
		return color.RGBA{}
	}
	i := 3 * (y*p.Width + x)
	return color.RGBA{p.Pix[i], p.Pix[i+1], p.Pix[i+2], 0xff}
}

// AppendFloat32 appends p's samples to dst as float32 in NHWC order (row by
// row, R G B for each pixel), each sample v becoming v*scale + offset, and
// returns the extended slice. Keras' InceptionV3 preprocessing (x/127.5 - 1)
// is scale 2/255, offset -1; plain [0, 1] scaling is 1/255, 0. Appending
// lets a caller fill a batch tensor in place.
func (p *RGB) AppendFloat32(dst []float32, scale, offset float32) []float32 {
	// 256 possible samples: look the values up rather than compute
	// each of the 268,203 of a 299x299 image.
	var lut [256]float32
	for v := range lut {
		lut[v] = float32(v)*scale + offset
	}
	n := len(dst)
	dst = slices.Grow(dst, len(p.Pix))[:n+len(p.Pix)]
	out := dst[n:]
	for i, v := range p.Pix {
		out[i] = lut[v]
	}
	return dst
}

// Resize squashes src to exactly w×h pixels, ignoring its aspect ratio as
// Keras' load_img(target_size=...) does, composites any transparency over
// white and returns the result as RGB. Shrinking filters with a triangle
// (bilinear) kernel stretched by the shrink factor, so every source pixel
// contributes, as Pillow's BILINEAR and tf.image.resize(antialias=True) do;
// enlarging interpolates bilinearly. An empty src gives a white image.
// Resize panics if w or h is not positive.
func Resize(src image.Image, w, h int) *RGB {
	if w <= 0 || h <= 0 {
		panic("photo: Resize to a non-positive size")
	}
	var rs resizer
	dst := &RGB{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
	rs.resize(dst.Pix, 3*w, 3, src, w, h)
	return dst
}

// Thumbnail shrinks src so that its longer side is maxSide pixels, keeping
// its aspect ratio, for display: transparency is composited over white and
// the result is opaque. An image that already fits is converted without
// being enlarged. Thumbnail panics if maxSide is not positive.
func Thumbnail(src image.Image, maxSide int) *image.RGBA {
	if maxSide <= 0 {
		panic("photo: Thumbnail with a non-positive size")
	}
	b := src.Bounds()
	w, h := thumbnailSize(b.Dx(), b.Dy(), maxSide)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	var rs resizer
	rs.resize(dst.Pix, dst.Stride, 4, src, w, h)
	return dst
}

// thumbnailSize scales w×h down so that the longer side is maxSide, rounding
// the shorter side and keeping it at least 1 pixel.
func thumbnailSize(w, h, maxSide int) (int, int) {
	switch {
	case w <= 0 || h <= 0:
		return 1, 1
	case w <= maxSide && h <= maxSide:
		return w, h
	case w >= h:
		return maxSide, max(1, int((int64(h)*int64(maxSide)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(maxSide)+int64(h)/2)/int64(h))), maxSide
}

// Fixed-point formats of the resizer. The weights of each output sample are
// integers summing exactly to 1<<bits, so a weighted sum of values in
// [0, v] stays in [0, v] and nothing needs clamping. The horizontal pass
// filters packed pixels (see pack), which allows 13-bit weights; between
// the passes a sample keeps interBits fraction bits (Pillow rounds to whole
// values there), and the vertical sums reach 255<<(interBits+vBits) =
// 255<<21 < 1<<31.
const (
	hBits     = 13
	vBits     = 14
	interBits = 7
)

// A filter holds the precomputed weights that resample one axis from in to
// out samples: output i is the weighted sum of the taps inputs start[i],
// start[i]+1, ... with weights w[i*taps:][:taps]. Every output has the same
// number of taps (short windows are padded with zero weights and shifted
// to stay inside the input), so that the loops that apply the weights run
// a fixed count, unrolled for the common small ones.
type filter struct {
	start []int
	w     []int32
	taps  int
}

// make computes the weights, with bits fraction bits, of a triangle kernel
// for resampling in samples to out. Sample centres sit at half-integers, so
// output i is centred on input coordinate (i+0.5)*in/out. When shrinking,
// the kernel is widened by the shrink factor, so that it averages over the
// whole footprint of an output sample instead of skipping inputs
// (aliasing); when enlarging it is the plain bilinear tent of radius 1.
// Weights are normalised to sum to 1, which also handles the image edges (a
// renormalised, truncated kernel). The arithmetic follows Pillow's
// precompute_coeffs.
func (f *filter) make(in, out int, bits uint) {
	scale := float64(in) / float64(out)
	fscale := max(scale, 1)
	support := fscale // the triangle's radius is 1 input sample, widened
	window := int(math.Ceil(support))*2 + 1
	ws := make([]float64, out*window) // output i's weights, from lo[i]
	lo := make([]int, out)
	n := make([]int, out)
	f.taps = 1
	for i := range out {
		center := (float64(i) + 0.5) * scale
		l := max(int(center-support+0.5), 0)
		h := min(int(center+support+0.5), in, l+window)
		w := ws[i*window:][:max(h-l, 1)]
		var sum float64
		for x := l; x < h; x++ {
			t := max(1-math.Abs((float64(x)-center+0.5)/fscale), 0)
			w[x-l] = t
			sum += t
		}
		// Drop zero weights at the ends, which only cost time.
		first, k := 0, h-l
		for first < k && w[first] == 0 {
			first++
		}
		for k > first && w[k-1] == 0 {
			k--
		}
		if k == first { // impossible for in, out > 0; keep one sane tap
			l, first, k, w[0], sum = min(max(int(center), 0), in-1), 0, 1, 1, 1
		}
		for j := first; j < k; j++ {
			w[j-first] = w[j] / sum
		}
		lo[i], n[i] = l+first, k-first
		f.taps = max(f.taps, n[i])
	}
	f.start = grow(f.start, out)
	f.w = grow(f.w, out*f.taps)
	clear(f.w)
	for i := range out {
		// Pad to f.taps, keeping the window inside the input (f.taps
		// <= in, since no window is wider than the input).
		start := min(lo[i], in-f.taps)
		f.start[i] = start
		w := f.w[i*f.taps:][:f.taps]
		// Round the running sum rather than each weight: the
		// weights then sum exactly to 1<<bits and stay
		// non-negative however many there are.
		one := float64(int(1) << bits)
		var cum float64
		prev := int32(0)
		for j, v := range ws[i*window:][:n[i]] {
			cum += v
			next := int32(math.Round(min(cum, 1) * one))
			w[lo[i]-start+j] = next - prev
			prev = next
		}
		w[lo[i]-start+n[i]-1] += int32(one) - prev // cum may fall short of 1 by a rounding error
	}
}

// A resizer holds the filters and buffers of a resize.
type resizer struct {
	hf, vf filter
	hw     []uint64 // hf.w widened, to multiply packed pixels
	row    []uint64 // one source row, packed
	ring   []int32  // horizontally resampled source rows, a ring of vf.taps rows
	out    []uint8  // one output row as RGB, when the destination is RGBA
}

// resize resamples src to w×h and writes it to dst, rows dstStride bytes
// apart, pixels bpp (3 or 4) bytes apart; with 4 the alpha byte is set
// opaque. It streams: each source row is converted and resampled
// horizontally once, into a ring buffer just deep enough for the vertical
// filter, so memory stays proportional to one output row times the filter
// height whatever the source size.
func (rs *resizer) resize(dst []uint8, dstStride, bpp int, src image.Image, w, h int) {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw <= 0 || sh <= 0 {
		for y := range h {
			row := dst[y*dstStride:][:w*bpp]
			for i := range row {
				row[i] = 0xff
			}
		}
		return
	}
	rs.hf.make(sw, w, hBits)
	rs.vf.make(sh, h, vBits)
	rs.hw = grow(rs.hw, len(rs.hf.w))
	for i, v := range rs.hf.w {
		rs.hw[i] = uint64(v)
	}
	rowLen := 3 * w
	taps := rs.vf.taps
	rs.row = grow(rs.row, sw)
	rs.ring = grow(rs.ring, taps*rowLen)
	if bpp != 3 {
		rs.out = grow(rs.out, rowLen)
	}
	conv := rowConverter(src)
	var rows [64][]int32
	in := rows[:0]
	if taps > len(rows) {
		in = make([][]int32, 0, taps)
	}
	next := 0 // the next source row to convert
	for y := range h {
		lo := rs.vf.start[y]
		next = max(next, lo)
		for ; next < lo+taps; next++ {
			conv(rs.row, b.Min.Y+next)
			slot := next % taps
			horizontal(rs.ring[slot*rowLen:][:rowLen], rs.row, rs.hf.start, rs.hw, rs.hf.taps)
		}
		in = in[:0]
		for k := range taps {
			in = append(in, rs.ring[(lo+k)%taps*rowLen:][:rowLen])
		}
		wv := rs.vf.w[y*taps:][:taps]
		if bpp == 3 {
			vertical(dst[y*dstStride:][:rowLen], in, wv)
			continue
		}
		vertical(rs.out, in, wv)
		d := dst[y*dstStride:][:4*w]
		for x := range w {
			p, q := rs.out[3*x:3*x+3:3*x+3], d[4*x:4*x+4:4*x+4]
			q[0], q[1], q[2], q[3] = p[0], p[1], p[2], 0xff
		}
	}
}

// horizontal resamples one row of packed pixels into dst, three int32 per
// pixel with interBits fraction bits. The common tap counts are unrolled:
// this runs for every pixel of every source row.
func horizontal(dst []int32, row []uint64, start []int, w []uint64, taps int) {
	dst = dst[:3*len(start)]
	switch taps {
	case 1:
		for x, s := range start {
			unpackInter(dst[3*x:3*x+3:3*x+3], row[s]*w[x])
		}
	case 2:
		for x, s := range start {
			w, p := w[2*x:2*x+2:2*x+2], row[s:s+2:s+2]
			unpackInter(dst[3*x:3*x+3:3*x+3], p[0]*w[0]+p[1]*w[1])
		}
	case 3:
		for x, s := range start {
			w, p := w[3*x:3*x+3:3*x+3], row[s:s+3:s+3]
			unpackInter(dst[3*x:3*x+3:3*x+3], p[0]*w[0]+p[1]*w[1]+p[2]*w[2])
		}
	case 4:
		for x, s := range start {
			w, p := w[4*x:4*x+4:4*x+4], row[s:s+4:s+4]
			unpackInter(dst[3*x:3*x+3:3*x+3], p[0]*w[0]+p[1]*w[1]+p[2]*w[2]+p[3]*w[3])
		}
	default:
		for x, s := range start {
			w, p := w[taps*x:][:taps], row[s:][:taps]
			var acc uint64
			for k, wk := range w {
				acc += p[k] * wk
			}
			unpackInter(dst[3*x:3*x+3:3*x+3], acc)
		}
	}
}

// unpackInter splits a horizontal sum of packed pixels into its channels,
// rounded from hBits to interBits fraction bits.
func unpackInter(d []int32, acc uint64) {
	const (
		shift = hBits - interBits
		half  = 1 << (shift - 1)
	)
	d[0] = int32((acc&laneMask + half) >> shift)
	d[1] = int32((acc>>laneBits&laneMask + half) >> shift)
	d[2] = int32((acc>>(2*laneBits) + half) >> shift)
}

// vertical writes the rounded weighted sum of the rows in to out. The common
// tap counts are unrolled: this runs for every output sample.
func vertical(out []uint8, in [][]int32, w []int32) {
	const (
		shift = vBits + interBits
		half  = 1 << (shift - 1)
	)
	switch len(in) {
	case 1:
		r0 := in[0][:len(out)]
		for i := range out {
			out[i] = uint8((r0[i] + 1<<(interBits-1)) >> interBits)
		}
	case 2:
		r0, r1 := in[0][:len(out)], in[1][:len(out)]
		w0, w1 := w[0], w[1]
		for i := range out {
			out[i] = uint8((r0[i]*w0 + r1[i]*w1 + half) >> shift)
		}
	case 3:
		r0, r1, r2 := in[0][:len(out)], in[1][:len(out)], in[2][:len(out)]
		w0, w1, w2 := w[0], w[1], w[2]
		for i := range out {
			out[i] = uint8((r0[i]*w0 + r1[i]*w1 + r2[i]*w2 + half) >> shift)
		}
	case 4:
		r0, r1, r2, r3 := in[0][:len(out)], in[1][:len(out)], in[2][:len(out)], in[3][:len(out)]
		w0, w1, w2, w3 := w[0], w[1], w[2], w[3]
		for i := range out {
			out[i] = uint8((r0[i]*w0 + r1[i]*w1 + r2[i]*w2 + r3[i]*w3 + half) >> shift)
		}
	default:
		for i := range out {
			var v int32
			for k, r := range in {
				v += r[i] * w[k]
			}
			out[i] = uint8((v + half) >> shift)
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
