package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
)

// Limits for fuzzing: small, so that the memory bound below is tight.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 16}

// fuzzAllocBound is the most Decode may allocate for one input: the input,
// plus a generous 64 bytes per permitted pixel (the decoded image is at most
// 8, a progressive JPEG's coefficients 4 per sample of up to 4 components,
// padded to whole blocks), plus a fixed allowance for decoder tables.
func fuzzAllocBound(n int) uint64 {
	return uint64(4*n) + 64*uint64(fuzzLimits.MaxPixels) + 1<<20
}

// FuzzDecode feeds arbitrary bytes to Decode, then the result to the
// resizer: nothing may panic, every error must be a classified *Error, a
// decoded image must respect the limits, and decoding must not allocate
// beyond what the limits allow.
func FuzzDecode(f *testing.F) {
	q := quadrants(12, 9)
	pal := image.NewPaletted(q.Rect, color.Palette{red, green, blue, black})
	gray16 := image.NewGray16(q.Rect)
	seeds := [][]byte{
		encodeJPEG(f, q),
		withJPEGExif(encodeJPEG(f, q), 6, binary.BigEndian),
		encodePNG(f, q),
		encodePNG(f, gray16),
		withPNGChunk(f, encodePNG(f, pal), "eXIf", exifBlock(3, binary.LittleEndian), false),
		encodeGIF(f, pal),
		encodeBMP(f, q),
		encodeTIFF(f, q),
		rawTIFF(q, 12, 9, 8),
		withWebPExif(readTestdata(f, "lossy.webp"), 64, 48, exifBlock(5, binary.LittleEndian)),
		hugePNG(), hugeJPEG(), hugeGIF(), hugeBMP(), hugeWebPLossless(), hugeWebPExtended(),
		rawTIFF(nil, 100000, 100000, 1),
	}
	for _, name := range []string{"progressive.jpg", "cmyk.jpg", "ycck.jpg", "lossy.webp", "lossless-alpha.webp", "lossy-alpha.webp"} {
		seeds = append(seeds, readTestdata(f, name))
	}
	// A small photo.
	if b, err := os.ReadFile(filepath.Join(flowersDir, "daisy", "100080576_f52e8ee070_n.jpg")); err == nil {
		seeds = append(seeds, b)
		// The same within the limits and with both sides of 49 pixels
		// or more, which the loader decodes at 1/8 for size 7: the
		// eighth-scale decoder's path (FuzzEighth drives it alone).
		if m, _, err := Decode(bytes.NewReader(b), Limits{}); err == nil {
			seeds = append(seeds, encodeJPEG(f, Resize(m, 200, 150)))
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var (
			m   image.Image
			err error
		)
		// The loader's path, libjpeg-turbo for JPEGs where built in,
		// may decode what Go's decoder refuses and the reverse, but
		// its errors are classified and its images within the limits.
		if sm, _, _, serr := decodeToShrink(data, 7, fuzzLimits); serr != nil {
			var e *Error
			if !errors.As(serr, &e) || e.Kind < Unreadable || e.Kind > TooLarge || e.Err == nil {
				t.Fatalf("loader: error %v (%T) is not a classified *Error", serr, serr)
			}
		} else if b := sm.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > fuzzLimits.MaxPixels {
			t.Fatalf("loader decoded %v with a limit of %d pixels", b, fuzzLimits.MaxPixels)
		}
		n := allocated(func() { m, _, err = Decode(bytes.NewReader(data), fuzzLimits) })
		if bound := fuzzAllocBound(len(data)); n > bound {
			t.Errorf("Decode of %d bytes allocated %d bytes, more than %d", len(data), n, bound)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind < Unreadable || e.Kind > TooLarge || e.Err == nil {
				t.Fatalf("error %v (%T) is not a classified *Error", err, err)
			}
			if e.Kind == Unreadable {
				t.Fatalf("reading memory gave %v", err)
			}
			return
		}
		b := m.Bounds()
		if b.Empty() || int64(b.Dx())*int64(b.Dy()) > fuzzLimits.MaxPixels {
			t.Fatalf("decoded %v with a limit of %d pixels", b, fuzzLimits.MaxPixels)
		}
		p := Resize(m, 7, 5)
		if len(p.Pix) != 3*7*5 {
			t.Fatalf("Resize gave %d bytes", len(p.Pix))
		}
		Thumbnail(m, 16)
	})
}
