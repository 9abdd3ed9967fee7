package photo

import (
	"image"
	"image/color"
)

// A rowFunc writes row y of an image (y in the image's own coordinates) into
// dst, composited over white, one packed pixel (see pack) for each of the
// image's Bounds().Dx() pixels.
type rowFunc func(dst []uint64, y int)

// Lanes of a packed pixel.
const (
	laneBits = 21
	laneMask = 1<<laneBits - 1
)

// pack puts an RGB pixel in the 21-bit lanes of a uint64: R in bits 0-20,
// G in 21-41, B in 42-62. A sum of packed pixels times non-negative weights
// that total at most 1<<13 keeps every lane below 1<<21 (255<<13 < 1<<21),
// so one 64-bit multiply-add filters all three channels at once.
func pack(r, g, b uint8) uint64 {
	return uint64(r) | uint64(g)<<laneBits | uint64(b)<<(2*laneBits)
}

// unpack is the inverse of pack.
func unpack(p uint64) (r, g, b uint8) {
	return uint8(p), uint8(p >> laneBits), uint8(p >> (2 * laneBits))
}

// rowConverter returns the rowFunc for src. The concrete image types that
// decoders return read their pixel slices directly, because the resizer
// calls this for every source pixel of every photo and an At call per pixel
// costs more than the resize itself. Every fast path produces exactly what
// the generic path produces for the same colour (tested), except YCbCr,
// which converts like color.YCbCrToRGB (the 8-bit conversion; YCbCr.RGBA
// rounds its 16-bit result slightly differently).
func rowConverter(src image.Image) rowFunc {
	b := src.Bounds()
	x0, w := b.Min.X, b.Dx()
	switch m := src.(type) {
	case *RGB:
		return func(dst []uint64, y int) {
			s := m.Pix[3*(y*m.Width+x0):][:3*w]
			for i := range w {
				p := s[3*i : 3*i+3 : 3*i+3]
				dst[i] = pack(p[0], p[1], p[2])
			}
		}
	case *image.YCbCr:
		return ycbcrRows(m)
	case *image.NYCbCrA:
		rgb := ycbcrRows(&m.YCbCr)
		return func(dst []uint64, y int) {
			rgb(dst, y)
			as := m.A[m.AOffset(x0, y):][:w]
			for i, a := range as {
				if a != 0xff {
					r, g, b := unpack(dst[i])
					dst[i] = pack(overWhiteN8(r, a), overWhiteN8(g, a), overWhiteN8(b, a))
				}
			}
		}
	case *image.RGBA:
		return func(dst []uint64, y int) {
			s := m.Pix[m.PixOffset(x0, y):][:4*w]
			for i := range w {
				p := s[4*i : 4*i+4 : 4*i+4]
				if a := p[3]; a == 0xff {
					dst[i] = pack(p[0], p[1], p[2])
				} else {
					dst[i] = pack(overWhiteP8(p[0], a), overWhiteP8(p[1], a), overWhiteP8(p[2], a))
				}
			}
		}
	case *image.NRGBA:
		return func(dst []uint64, y int) {
			s := m.Pix[m.PixOffset(x0, y):][:4*w]
			for i := range w {
				p := s[4*i : 4*i+4 : 4*i+4]
				if a := p[3]; a == 0xff {
					dst[i] = pack(p[0], p[1], p[2])
				} else {
					dst[i] = pack(overWhiteN8(p[0], a), overWhiteN8(p[1], a), overWhiteN8(p[2], a))
				}
			}
		}
	case *image.Gray:
		return func(dst []uint64, y int) {
			s := m.Pix[m.PixOffset(x0, y):][:w]
			for i, v := range s {
				dst[i] = pack(v, v, v)
			}
		}
	case *image.Gray16:
		return func(dst []uint64, y int) {
			s := m.Pix[m.PixOffset(x0, y):][:2*w]
			for i := range w {
				v := s[2*i] // the high byte: 16-bit to 8-bit truncates, as in image/color
				dst[i] = pack(v, v, v)
			}
		}
	case *image.RGBA64:
		return func(dst []uint64, y int) {
			s := m.Pix[m.PixOffset(x0, y):][:8*w]
			for i := range w {
				p := s[8*i : 8*i+8 : 8*i+8]
				a := uint32(p[6])<<8 | uint32(p[7])
				dst[i] = pack(
					overWhite16(uint32(p[0])<<8|uint32(p[1]), a),
					overWhite16(uint32(p[2])<<8|uint32(p[3]), a),
					overWhite16(uint32(p[4])<<8|uint32(p[5]), a))
			}
		}
	case *image.NRGBA64:
		return func(dst []uint64, y int) {
			s := m.Pix[m.PixOffset(x0, y):][:8*w]
			for i := range w {
				p := s[8*i : 8*i+8 : 8*i+8]
				a := uint32(p[6])<<8 | uint32(p[7])
				// Premultiply as color.NRGBA64.RGBA does.
				dst[i] = pack(
					overWhite16((uint32(p[0])<<8|uint32(p[1]))*a/0xffff, a),
					overWhite16((uint32(p[2])<<8|uint32(p[3]))*a/0xffff, a),
					overWhite16((uint32(p[4])<<8|uint32(p[5]))*a/0xffff, a))
			}
		}
	case *image.CMYK:
		return func(dst []uint64, y int) {
			s := m.Pix[m.PixOffset(x0, y):][:4*w]
			for i := range w {
				p := s[4*i : 4*i+4 : 4*i+4]
				dst[i] = pack(color.CMYKToRGB(p[0], p[1], p[2], p[3]))
			}
		}
	case *image.Paletted:
		// Indices past the palette read as opaque black, as image/png
		// pads short palettes, instead of panicking as At would.
		var lut [256]uint64
		for i, c := range m.Palette {
			if i < len(lut) && c != nil {
				lut[i] = genericRGB(c)
			}
		}
		return func(dst []uint64, y int) {
			s := m.Pix[m.PixOffset(x0, y):][:w]
			for i, v := range s {
				dst[i] = lut[v]
			}
		}
	}
	return func(dst []uint64, y int) {
		for i := range w {
			dst[i] = genericRGB(src.At(x0+i, y))
		}
	}
}

// genericRGB composites any colour over white: with premultiplied 16-bit
// components, white shows through in proportion to the missing alpha.
func genericRGB(c color.Color) uint64 {
	r, g, b, a := c.RGBA()
	return pack(overWhite16(r, a), overWhite16(g, a), overWhite16(b, a))
}

// overWhite16 composites a premultiplied 16-bit component over white and
// truncates to 8 bits as image/color does. Invalid premultiplied input
// (component above alpha) saturates.
func overWhite16(c, a uint32) uint8 {
	return uint8(min((c+0xffff-a)>>8, 0xff))
}

// overWhiteP8 is overWhite16 for a premultiplied 8-bit component: with both
// values widened by 0x101 the expression reduces to c + 255 - a.
func overWhiteP8(c, a uint8) uint8 {
	return uint8(min(uint32(c)+0xff-uint32(a), 0xff))
}

// overWhiteN8 is overWhite16 for a non-premultiplied 8-bit component,
// premultiplied as color.NRGBA.RGBA does.
func overWhiteN8(c, a uint8) uint8 {
	a16 := uint32(a) * 0x101
	return overWhite16(uint32(c)*0x101*uint32(a)/0xff, a16)
}

// ycbcrRows converts rows of a YCbCr image with the arithmetic of
// color.YCbCrToRGB, inlined (the compiler does not inline that function)
// and reading chroma at the position YCbCr.COffset gives.
func ycbcrRows(m *image.YCbCr) rowFunc {
	b := m.Rect
	x0, w := b.Min.X, b.Dx()
	var hshift uint
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420:
		hshift = 1
	case image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410:
		hshift = 2
	}
	if x0 < 0 {
		// COffset divides with truncation toward zero, which the
		// shifts below do not reproduce for negative x. No decoder
		// makes such an image; convert it the slow, exact way.
		return func(dst []uint64, y int) {
			for i := range w {
				c := m.YCbCrAt(x0+i, y)
				dst[i] = pack(color.YCbCrToRGB(c.Y, c.Cb, c.Cr))
			}
		}
	}
	// Chroma index of pixel x0+i, relative to COffset(x0, y), is
	// ((x0+i)>>hshift) - (x0>>hshift), which is (phase+i)>>hshift.
	phase := x0 & (1<<hshift - 1)
	return func(dst []uint64, y int) {
		ys := m.Y[m.YOffset(x0, y):][:w]
		ci := m.COffset(x0, y)
		nc := (phase+w-1)>>hshift + 1
		cbs, crs := m.Cb[ci:][:nc], m.Cr[ci:][:nc]
		dst = dst[:w]
		for i, yv := range ys {
			c := (phase + i) >> hshift
			yy1 := int32(yv) * 0x10101
			cb1 := int32(cbs[c]) - 128
			cr1 := int32(crs[c]) - 128
			// YCbCrToRGB's bit twiddling clamps (v >> 16) to
			// [0, 255]; min and max do the same without
			// branches, which mispredict on saturated colours.
			r := min(max((yy1+91881*cr1)>>16, 0), 0xff)
			g := min(max((yy1-22554*cb1-46802*cr1)>>16, 0), 0xff)
			bb := min(max((yy1+116130*cb1)>>16, 0), 0xff)
			dst[i] = uint64(r) | uint64(g)<<laneBits | uint64(bb)<<(2*laneBits)
		}
	}
}
