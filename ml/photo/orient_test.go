package photo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// storedFor returns the pixels a camera stores for the upright image m
// together with EXIF orientation o: the inverse of what a viewer applies.
// Written out case by case from the EXIF specification's descriptions, as
// an independent check of orientation.layout.
func storedFor(m *image.RGBA, o int) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	s := image.NewRGBA(image.Rect(0, 0, sw, sh))
	for y := range sh {
		for x := range sw {
			var c color.RGBA
			switch o {
			case 1:
				c = m.RGBAAt(x, y)
			case 2: // viewer mirrors left-right
				c = m.RGBAAt(w-1-x, y)
			case 3: // viewer rotates 180°
				c = m.RGBAAt(w-1-x, h-1-y)
			case 4: // viewer mirrors top-bottom
				c = m.RGBAAt(x, h-1-y)
			case 5: // viewer transposes
				c = m.RGBAAt(y, x)
			case 6: // viewer rotates 90° clockwise, so stored is rotated counter-clockwise
				c = m.RGBAAt(w-1-y, x)
			case 7: // viewer flips over the anti-diagonal
				c = m.RGBAAt(w-1-y, h-1-x)
			case 8: // viewer rotates 90° counter-clockwise, so stored is rotated clockwise
				c = m.RGBAAt(y, h-1-x)
			}
			s.SetRGBA(x, y, c)
		}
	}
	return s
}

var wantQuadrants = [4]color.RGBA{red, green, blue, black}

func checkQuadrants(t *testing.T, what string, m image.Image, w, h, tol int) {
	t.Helper()
	if b := m.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s: %dx%d, want %dx%d", what, b.Dx(), b.Dy(), w, h)
	}
	got := quadrantColors(m)
	for i := range got {
		if !near(got[i], wantQuadrants[i], tol) {
			t.Fatalf("%s: quadrants %v, want %v", what, got, wantQuadrants)
		}
	}
}

func TestOrientationJPEG(t *testing.T) {
	up := quadrants(48, 32)
	for o := 1; o <= 8; o++ {
		for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			t.Run(fmt.Sprintf("%d/%v", o, bo), func(t *testing.T) {
				data := withJPEGExif(encodeJPEG(t, storedFor(up, o)), uint16(o), bo)
				m, _, err := Decode(bytes.NewReader(data), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				checkQuadrants(t, "Decode", m, 48, 32, 40)

				// LoadFile resizes the stored image and turns the
				// small result: the same as resizing the upright
				// image, up to rounding between the passes.
				// With Go's decoder, exactly so; libjpeg-turbo
				// upsamples chroma differently (smoothly), which
				// only moves the quadrants' edges.
				path := writeFile(t, "p.jpg", data)
				got, err := LoadFile(path, 37, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				checkQuadrants(t, "LoadFile", got, 37, 37, 40)
				if got, err = LoadFile(path, 37, Limits{JPEG: JPEGGo}); err != nil {
					t.Fatal(err)
				}
				want := Resize(m, 37, 37)
				if d := maxDiff(got, want); d > 1 {
					t.Errorf("LoadFile differs from Resize(Decode) by %d", d)
				}
			})
		}
	}
}

// maxDiff is the largest difference between two RGB images' samples.
func maxDiff(a, b *RGB) int {
	if a.Width != b.Width || a.Height != b.Height {
		return 256
	}
	d := 0
	for i := range a.Pix {
		d = max(d, absDiff(a.Pix[i], b.Pix[i]))
	}
	return d
}

func TestOrientationPNG(t *testing.T) {
	up := quadrants(24, 16)
	for o := 1; o <= 8; o++ {
		for _, tc := range []struct {
			name   string
			prefix string
			after  bool
		}{
			{"before IDAT", "", false},
			{"after IDAT", "", true},
			{"Exif prefix", "Exif\x00\x00", false},
		} {
			t.Run(fmt.Sprintf("%d/%s", o, tc.name), func(t *testing.T) {
				exif := append([]byte(tc.prefix), exifBlock(uint16(o), binary.BigEndian)...)
				data := withPNGChunk(t, encodePNG(t, storedFor(up, o)), "eXIf", exif, tc.after)
				m, _, err := Decode(bytes.NewReader(data), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				checkQuadrants(t, "Decode", m, 24, 16, 0)
				if _, ok := m.(*image.RGBA); !ok {
					t.Errorf("turned into %T, want *image.RGBA kept", m)
				}
			})
		}
	}
}

func TestOrientationTIFF(t *testing.T) {
	up := quadrants(24, 16)
	for o := 1; o <= 8; o++ {
		s := storedFor(up, o)
		data := rawTIFF(s, s.Rect.Dx(), s.Rect.Dy(), uint16(o))
		m, f, err := Decode(bytes.NewReader(data), Limits{})
		if err != nil || f != TIFF {
			t.Fatalf("orientation %d: %v, %v", o, f, err)
		}
		checkQuadrants(t, fmt.Sprint("orientation ", o), m, 24, 16, 0)
	}
}

func TestOrientationWebP(t *testing.T) {
	plain := readTestdata(t, "lossy.webp")
	stored, _, err := Decode(bytes.NewReader(plain), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "Exif\x00\x00"} {
		exif := append([]byte(prefix), exifBlock(6, binary.LittleEndian)...)
		m, f, err := Decode(bytes.NewReader(withWebPExif(plain, 64, 48, exif)), Limits{})
		if err != nil || f != WebP {
			t.Fatalf("%v, %v", f, err)
		}
		// Rotated 90° clockwise: upright (x, y) is stored (y, h-1-x).
		if m.Bounds() != image.Rect(0, 0, 48, 64) {
			t.Fatalf("bounds %v", m.Bounds())
		}
		for y := range 64 {
			for x := range 48 {
				g := color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)
				w := color.RGBAModel.Convert(stored.At(y, 47-x)).(color.RGBA)
				if !near(g, w, 1) { // YCbCr.RGBA rounds a little differently from YCbCrToRGB
					t.Fatalf("(%d, %d) = %v, want %v", x, y, g, w)
				}
			}
		}
	}
}

// TestOrientImageTypes turns every pixel type the decoders return and
// checks each pixel against storedFor's independent mapping, exactly.
func TestOrientImageTypes(t *testing.T) {
	const w, h = 7, 5
	r := image.Rect(0, 0, w, h)
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(pix []byte) []byte {
		for i := range pix {
			pix[i] = byte(rng.Uint32())
		}
		return pix
	}
	pal := color.Palette{red, green, blue, black, color.RGBA{1, 2, 3, 4}}
	paletted := image.NewPaletted(r, pal)
	for i := range paletted.Pix {
		paletted.Pix[i] = byte(rng.IntN(len(pal)))
	}
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	fill(ycc.Y)
	fill(ycc.Cb)
	fill(ycc.Cr)
	opaque := image.NewRGBA(r)
	fill(opaque.Pix)
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 0xff
	}
	images := []image.Image{
		opaque,
		&image.NRGBA{Pix: fill(make([]byte, 4*w*h)), Stride: 4 * w, Rect: r},
		&image.RGBA64{Pix: fill(make([]byte, 8*w*h)), Stride: 8 * w, Rect: r},
		&image.NRGBA64{Pix: fill(make([]byte, 8*w*h)), Stride: 8 * w, Rect: r},
		&image.Gray{Pix: fill(make([]byte, w*h)), Stride: w, Rect: r},
		&image.Gray16{Pix: fill(make([]byte, 2*w*h)), Stride: 2 * w, Rect: r},
		&image.CMYK{Pix: fill(make([]byte, 4*w*h)), Stride: 4 * w, Rect: r},
		paletted,
		ycc,
		&image.NYCbCrA{YCbCr: *ycc, A: fill(make([]byte, w*h)), AStride: w},
		opaque.SubImage(image.Rect(1, 1, 6, 4)), // offset bounds
	}
	for _, m := range images {
		for o := 1; o <= 8; o++ {
			got := orientImage(m, orientation(o))
			if o == 1 {
				if got != m {
					t.Errorf("%T: orientation 1 made a copy", m)
				}
				continue
			}
			b := m.Bounds()
			// storedFor maps upright to stored; read it backwards
			// with a coordinate image.
			up := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
			if o >= 5 {
				up = image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
			}
			for y := range up.Rect.Dy() {
				for x := range up.Rect.Dx() {
					up.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 0, 255})
				}
			}
			src := storedFor(up, o) // src(sx, sy) names the upright pixel it shows
			if got.Bounds() != up.Rect {
				t.Fatalf("%T orientation %d: bounds %v, want %v", m, o, got.Bounds(), up.Rect)
			}
			for sy := range b.Dy() {
				for sx := range b.Dx() {
					at := src.RGBAAt(sx, sy)
					want := color.RGBA64Model.Convert(m.At(b.Min.X+sx, b.Min.Y+sy))
					have := color.RGBA64Model.Convert(got.At(int(at.R), int(at.G)))
					if _, ok := m.(*image.YCbCr); ok {
						// Turned YCbCr is RGBA converted with
						// YCbCrToRGB.
						c := m.(*image.YCbCr).YCbCrAt(b.Min.X+sx, b.Min.Y+sy)
						r8, g8, b8 := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
						want = color.RGBA64Model.Convert(color.RGBA{r8, g8, b8, 255})
					}
					if have != want {
						t.Fatalf("%T orientation %d: stored (%d, %d) shows %v at (%d, %d), want %v",
							m, o, sx, sy, have, at.R, at.G, want)
					}
				}
			}
		}
	}
}

func TestOrientationParsers(t *testing.T) {
	le := exifBlock(6, binary.LittleEndian)
	be := exifBlock(8, binary.BigEndian)
	long := bytes.Clone(le)
	binary.LittleEndian.PutUint16(long[12:], 4) // LONG instead of SHORT
	binary.LittleEndian.PutUint32(long[18:], 3)
	badValue := bytes.Clone(le)
	binary.LittleEndian.PutUint16(badValue[18:], 9)
	zero := bytes.Clone(le)
	binary.LittleEndian.PutUint16(zero[18:], 0)
	farIFD := bytes.Clone(le)
	binary.LittleEndian.PutUint32(farIFD[4:], 0xfffffff0)
	manyEntries := bytes.Clone(le)
	binary.LittleEndian.PutUint16(manyEntries[8:], 0xffff)
	otherTag := bytes.Clone(le)
	binary.LittleEndian.PutUint16(otherTag[10:], 0x0110)

	tests := []struct {
		name string
		tiff []byte
		want orientation
	}{
		{"little-endian", le, 6},
		{"big-endian", be, 8},
		{"LONG value", long, 3},
		{"value 9", badValue, 1},
		{"value 0", zero, 1},
		{"IFD offset past the end", farIFD, 1},
		{"entry count past the end", manyEntries, 6},
		{"no orientation tag", otherTag, 1},
		{"not TIFF", []byte("IIxx\x08\x00\x00\x00"), 1},
		{"empty", nil, 1},
	}
	for _, tc := range tests {
		if got := tiffOrientation(tc.tiff); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
		// Every truncation must be safe and, once the entry is cut,
		// read as 1.
		for n := range len(tc.tiff) {
			if got := tiffOrientation(tc.tiff[:n]); n < 20 && got != 1 {
				t.Errorf("%s cut to %d bytes: %d", tc.name, n, got)
			}
		}
	}

	// JPEG segment walking: EXIF after other segments, fill bytes,
	// a lying length, EXIF only after the scan (ignored).
	jpg := encodeJPEG(t, quadrants(8, 8))
	withApp0 := withJPEGExif(jpg, 3, binary.LittleEndian)
	filled := append([]byte{0xFF, 0xD8, 0xFF, 0xFF}, withApp0[2:]...)
	lying := bytes.Clone(withApp0)
	binary.BigEndian.PutUint16(lying[4:], 0xffff)
	afterScan := append(bytes.Clone(jpg[:len(jpg)-2]), withJPEGExif([]byte{0xFF, 0xD8}, 6, binary.LittleEndian)[2:]...)
	for _, tc := range []struct {
		name string
		data []byte
		want orientation
	}{
		{"exif first", withApp0, 3},
		{"fill bytes", filled, 3},
		{"lying length", lying, 1},
		{"after scan", afterScan, 1},
		{"no exif", jpg, 1},
	} {
		if got := jpegOrientation(tc.data); got != tc.want {
			t.Errorf("jpeg %s: %d, want %d", tc.name, got, tc.want)
		}
		for n := range min(len(tc.data), 64) {
			jpegOrientation(tc.data[:n]) // must not panic
		}
	}
}

// TestOrientationAgainstImageMagick writes the EXIF-rotated JPEGs to a
// directory for checking with an independent implementation:
//
//	PHOTO_ORIENT_DIR=/tmp/o go test -run AgainstImageMagick ./ml/photo/
//	for f in /tmp/o/*.jpg; do convert $f -auto-orient -format '%f %[pixel:p{12,8}] %[pixel:p{36,8}]\n' info:; done
//
// Every file must show red at the first point and lime (green) at the
// second. Skipped unless PHOTO_ORIENT_DIR is set.
func TestOrientationAgainstImageMagick(t *testing.T) {
	dir := os.Getenv("PHOTO_ORIENT_DIR")
	if dir == "" {
		t.Skip("PHOTO_ORIENT_DIR not set")
	}
	up := quadrants(48, 32)
	for o := 1; o <= 8; o++ {
		data := withJPEGExif(encodeJPEG(t, storedFor(up, o)), uint16(o), binary.BigEndian)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("orient%d.jpg", o)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
