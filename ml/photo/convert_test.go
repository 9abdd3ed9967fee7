package photo

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// hidden hides an image's concrete type, so that rowConverter takes
// its generic path, At per pixel.
type hidden struct{ image.Image }

func convertAll(m image.Image) [][3]uint8 {
	b := m.Bounds()
	conv := rowConverter(m)
	row := make([]uint64, b.Dx())
	var out [][3]uint8
	for y := b.Min.Y; y < b.Max.Y; y++ {
		conv(row, y)
		for _, p := range row {
			r, g, bb := unpack(p)
			out = append(out, [3]uint8{r, g, bb})
		}
	}
	return out
}

// TestRowConverterFastPaths checks that every fast path produces exactly
// what the generic path (At, then compositing over white) produces, for
// random pixels including every alpha, and for images whose bounds do not
// start at the origin.
func TestRowConverterFastPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func(pix []byte) []byte {
		for i := range pix {
			pix[i] = byte(rng.Uint32())
		}
		return pix
	}
	r := image.Rect(-3, 2, 37, 31)
	const w, h = 40, 29
	rgba := &image.RGBA{Pix: fill(make([]byte, 4*w*h)), Stride: 4 * w, Rect: r}
	// Valid premultiplied colours: components no larger than alpha.
	for i := 0; i < len(rgba.Pix); i += 4 {
		a := rgba.Pix[i+3]
		for c := range 3 {
			rgba.Pix[i+c] = uint8(uint32(rgba.Pix[i+c]) * uint32(a) / 255)
		}
	}
	rgba64 := &image.RGBA64{Pix: fill(make([]byte, 8*w*h)), Stride: 8 * w, Rect: r}
	for i := 0; i < len(rgba64.Pix); i += 8 {
		a := uint32(rgba64.Pix[i+6])<<8 | uint32(rgba64.Pix[i+7])
		for c := range 3 {
			v := (uint32(rgba64.Pix[i+2*c])<<8 | uint32(rgba64.Pix[i+2*c+1])) * a / 0xffff
			rgba64.Pix[i+2*c], rgba64.Pix[i+2*c+1] = uint8(v>>8), uint8(v)
		}
	}
	pal := make(color.Palette, 200) // short: indices 200-255 are out of range
	for i := range pal {
		pal[i] = color.NRGBA{uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32())}
	}
	paletted := &image.Paletted{Pix: make([]byte, w*h), Stride: w, Rect: r, Palette: pal}
	for i := range paletted.Pix {
		paletted.Pix[i] = uint8(rng.IntN(len(pal)))
	}
	images := []image.Image{
		rgba,
		rgba.SubImage(image.Rect(0, 5, 11, 9)),
		&image.NRGBA{Pix: fill(make([]byte, 4*w*h)), Stride: 4 * w, Rect: r},
		rgba64,
		&image.NRGBA64{Pix: fill(make([]byte, 8*w*h)), Stride: 8 * w, Rect: r},
		&image.Gray{Pix: fill(make([]byte, w*h)), Stride: w, Rect: r},
		&image.Gray16{Pix: fill(make([]byte, 2*w*h)), Stride: 2 * w, Rect: r},
		&image.CMYK{Pix: fill(make([]byte, 4*w*h)), Stride: 4 * w, Rect: r},
		paletted,
	}
	for _, m := range images {
		got, want := convertAll(m), convertAll(hidden{m})
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%T: pixel %d = %v, generic path %v", m, i, got[i], want[i])
			}
		}
	}
}

// TestRowConverterYCbCr checks the YCbCr paths against color.YCbCrToRGB
// at the chroma sample YCbCrAt picks, for every subsampling ratio and for
// bounds at odd and negative offsets (COffset rounds toward zero).
func TestRowConverterYCbCr(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	for _, ratio := range ratios {
		for _, r := range []image.Rectangle{
			image.Rect(0, 0, 37, 23), image.Rect(3, 5, 40, 28), image.Rect(-5, -3, 30, 20),
		} {
			m := image.NewYCbCr(r, ratio)
			for _, p := range [][]byte{m.Y, m.Cb, m.Cr} {
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
			}
			alpha := &image.NYCbCrA{YCbCr: *m, A: make([]byte, r.Dx()*r.Dy()), AStride: r.Dx()}
			for i := range alpha.A {
				alpha.A[i] = byte(rng.Uint32())
			}
			sub := m.SubImage(image.Rect(r.Min.X+1, r.Min.Y+1, r.Max.X-2, r.Max.Y-1))
			for _, img := range []image.Image{m, sub, alpha} {
				got := convertAll(img)
				b := img.Bounds()
				i := 0
				for y := b.Min.Y; y < b.Max.Y; y++ {
					for x := b.Min.X; x < b.Max.X; x++ {
						var c color.YCbCr
						var a uint8 = 0xff
						switch img := img.(type) {
						case *image.YCbCr:
							c = img.YCbCrAt(x, y)
						case *image.NYCbCrA:
							c = img.YCbCrAt(x, y)
							a = img.A[img.AOffset(x, y)]
						}
						r8, g8, b8 := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
						want := [3]uint8{r8, g8, b8}
						if a != 0xff {
							// The alpha part matches the generic
							// path for NRGBA.
							c := genericRGB(color.NRGBA{r8, g8, b8, a})
							rr, gg, bb := unpack(c)
							want = [3]uint8{rr, gg, bb}
						}
						if got[i] != want {
							t.Fatalf("%v %T %v: (%d, %d) = %v, want %v", ratio, img, b, x, y, got[i], want)
						}
						i++
					}
				}
			}
		}
	}
}

// TestYCbCrExhaustive compares the inlined conversion with
// color.YCbCrToRGB for all 2^24 inputs.
func TestYCbCrExhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("16M conversions")
	}
	m := image.NewYCbCr(image.Rect(0, 0, 256, 256), image.YCbCrSubsampleRatio444)
	for i := range 256 * 256 {
		m.Cb[i], m.Cr[i] = uint8(i), uint8(i>>8)
	}
	conv := rowConverter(m)
	row := make([]uint64, 256)
	for yv := range 256 {
		for i := range m.Y {
			m.Y[i] = uint8(yv)
		}
		for y := range 256 {
			conv(row, y)
			for x, p := range row {
				r, g, b := unpack(p)
				wr, wg, wb := color.YCbCrToRGB(uint8(yv), uint8(x), uint8(y))
				if r != wr || g != wg || b != wb {
					t.Fatalf("YCbCr(%d, %d, %d) = %d %d %d, want %d %d %d", yv, x, y, r, g, b, wr, wg, wb)
				}
			}
		}
	}
}
