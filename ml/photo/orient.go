package photo

import (
	"image"
	"image/color"
)

// An orientation is an EXIF Orientation value, 1 to 8: how the stored pixels
// must be flipped and rotated to show the photo upright.
//
//	1 as stored          5 transpose (flip over the main diagonal)
//	2 mirror left-right  6 rotate 90° clockwise
//	3 rotate 180°        7 transverse (flip over the anti-diagonal)
//	4 mirror top-bottom  8 rotate 90° counter-clockwise
type orientation uint8

// swapsAxes reports whether the upright image is the stored one transposed,
// so that its width is the stored height.
func (o orientation) swapsAxes() bool { return o >= 5 && o <= 8 }

// layout says where the pixels of a stored w×h image go in the upright image
// whose rows are stride bytes apart and whose pixels are bpp bytes: stored
// pixel (x, y) starts at byte origin + x*stepX + y*stepY.
func (o orientation) layout(w, h, stride, bpp int) (origin, stepX, stepY int) {
	switch o {
	case 2: // upright (w-1-x, y)
		return (w - 1) * bpp, -bpp, stride
	case 3: // (w-1-x, h-1-y)
		return (h-1)*stride + (w-1)*bpp, -bpp, -stride
	case 4: // (x, h-1-y)
		return (h - 1) * stride, bpp, -stride
	case 5: // (y, x)
		return 0, stride, bpp
	case 6: // (h-1-y, x)
		return (h - 1) * bpp, stride, -bpp
	case 7: // (h-1-y, w-1-x)
		return (w-1)*stride + (h-1)*bpp, -stride, -bpp
	case 8: // (y, w-1-x)
		return (w - 1) * stride, -stride, bpp
	}
	return 0, bpp, stride
}

// uprightSize returns the dimensions of the upright image.
func (o orientation) uprightSize(w, h int) (int, int) {
	if o.swapsAxes() {
		return h, w
	}
	return w, h
}

// orientPix copies the stored w×h pixels of src (rows srcStride bytes
// apart) to their upright places in dst.
func orientPix(dst []byte, dstStride int, src []byte, srcStride, w, h, bpp int, o orientation) {
	origin, stepX, stepY := o.layout(w, h, dstStride, bpp)
	for y := 0; y < h; y++ {
		row := src[y*srcStride:][:w*bpp]
		d := origin + y*stepY
		switch bpp {
		case 1:
			for _, v := range row {
				dst[d] = v
				d += stepX
			}
		case 3:
			for x := 0; x < len(row); x += 3 {
				p, q := row[x:x+3:x+3], dst[d:d+3:d+3]
				q[0], q[1], q[2] = p[0], p[1], p[2]
				d += stepX
			}
		case 4:
			for x := 0; x < len(row); x += 4 {
				p, q := row[x:x+4:x+4], dst[d:d+4:d+4]
				q[0], q[1], q[2], q[3] = p[0], p[1], p[2], p[3]
				d += stepX
			}
		default:
			for x := 0; x < len(row); x += bpp {
				copy(dst[d:d+bpp], row[x:x+bpp])
				d += stepX
			}
		}
	}
}

// orientRGB returns p turned upright; p itself when o is 1.
func orientRGB(p *RGB, o orientation) *RGB {
	if o <= 1 || o > 8 {
		return p
	}
	w, h := o.uprightSize(p.Width, p.Height)
	q := &RGB{Width: w, Height: h, Pix: make([]uint8, len(p.Pix))}
	orientPix(q.Pix, 3*w, p.Pix, 3*p.Width, p.Width, p.Height, 3, o)
	return q
}

// orientImage returns m turned upright; m itself when o is 1. The result
// keeps m's pixel type where that type is a plain pixel array (including a
// palette), so nothing is lost; YCbCr becomes RGBA, because rotating
// subsampled chroma planes would move chroma samples at odd edges.
func orientImage(m image.Image, o orientation) image.Image {
	if o <= 1 || o > 8 {
		return m
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	r := image.Rect(0, 0, w, h)
	if o.swapsAxes() {
		r = image.Rect(0, 0, h, w)
	}
	switch m := m.(type) {
	case *image.RGBA:
		d := image.NewRGBA(r)
		orientPix(d.Pix, d.Stride, m.Pix, m.Stride, w, h, 4, o)
		return d
	case *image.NRGBA:
		d := image.NewNRGBA(r)
		orientPix(d.Pix, d.Stride, m.Pix, m.Stride, w, h, 4, o)
		return d
	case *image.RGBA64:
		d := image.NewRGBA64(r)
		orientPix(d.Pix, d.Stride, m.Pix, m.Stride, w, h, 8, o)
		return d
	case *image.NRGBA64:
		d := image.NewNRGBA64(r)
		orientPix(d.Pix, d.Stride, m.Pix, m.Stride, w, h, 8, o)
		return d
	case *image.Gray:
		d := image.NewGray(r)
		orientPix(d.Pix, d.Stride, m.Pix, m.Stride, w, h, 1, o)
		return d
	case *image.Gray16:
		d := image.NewGray16(r)
		orientPix(d.Pix, d.Stride, m.Pix, m.Stride, w, h, 2, o)
		return d
	case *image.CMYK:
		d := image.NewCMYK(r)
		orientPix(d.Pix, d.Stride, m.Pix, m.Stride, w, h, 4, o)
		return d
	case *image.Paletted:
		d := image.NewPaletted(r, m.Palette)
		orientPix(d.Pix, d.Stride, m.Pix, m.Stride, w, h, 1, o)
		return d
	case *image.YCbCr:
		// Convert row by row with the resizer's converter, then place
		// the opaque RGBA pixels.
		d := image.NewRGBA(r)
		origin, stepX, stepY := o.layout(w, h, d.Stride, 4)
		conv := ycbcrRows(m)
		row := make([]uint64, w)
		for y := 0; y < h; y++ {
			conv(row, b.Min.Y+y)
			i := origin + y*stepY
			for _, p := range row {
				q := d.Pix[i : i+4 : i+4]
				q[0], q[1], q[2] = unpack(p)
				q[3] = 0xff
				i += stepX
			}
		}
		return d
	}
	// Anything else (NYCbCrA, types from other packages) goes through
	// At into 16-bit premultiplied RGBA, which holds any colour exactly.
	d := image.NewRGBA64(r)
	origin, stepX, stepY := o.layout(w, h, d.Stride, 8)
	for y := 0; y < h; y++ {
		i := origin + y*stepY
		for x := 0; x < w; x++ {
			c := color.RGBA64Model.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA64)
			q := d.Pix[i : i+8 : i+8]
			q[0], q[1] = uint8(c.R>>8), uint8(c.R)
			q[2], q[3] = uint8(c.G>>8), uint8(c.G)
			q[4], q[5] = uint8(c.B>>8), uint8(c.B)
			q[6], q[7] = uint8(c.A>>8), uint8(c.A)
			i += stepX
		}
	}
	return d
}
