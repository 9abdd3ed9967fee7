package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"image"
	"image/color"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// rgbAt returns pixel (x, y) of an RGB image.
func rgbAt(p *RGB, x, y int) color.RGBA {
	return p.At(x, y).(color.RGBA)
}

func TestDecodeFormats(t *testing.T) {
	q := quadrants(40, 30)

	gray := image.NewGray(image.Rect(0, 0, 40, 30))
	gray16 := image.NewGray16(gray.Rect)
	rgb16 := image.NewRGBA64(gray.Rect)
	pal := image.NewPaletted(gray.Rect, color.Palette{red, green, blue, black})
	for y := range 30 {
		for x := range 40 {
			gray.SetGray(x, y, color.Gray{uint8(6 * x)})
			gray16.SetGray16(x, y, color.Gray16{uint16(1600*x + 255)})
			rgb16.SetRGBA64(x, y, color.RGBA64{uint16(1600 * x), 0x1234, 0xfedc, 0xffff})
			pal.SetColorIndex(x, y, uint8((x/20)+2*(y/15)))
		}
	}

	tests := []struct {
		name   string
		data   []byte
		format Format
		typ    string // the decoded image's type
		tol    int    // per-channel tolerance against want (lossy formats)
		want   image.Image
	}{
		{"jpeg", encodeJPEG(t, q), JPEG, "*image.YCbCr", 20, q},
		{"jpeg gray", encodeJPEG(t, gray), JPEG, "*image.Gray", 3, gray},
		{"png rgba", encodePNG(t, q), PNG, "*image.RGBA", 0, q},
		{"png gray", encodePNG(t, gray), PNG, "*image.Gray", 0, gray},
		{"png gray 16-bit", encodePNG(t, gray16), PNG, "*image.Gray16", 0, gray16},
		{"png rgb 16-bit", encodePNG(t, rgb16), PNG, "*image.RGBA64", 0, rgb16},
		{"png paletted", encodePNG(t, pal), PNG, "*image.Paletted", 0, q},
		{"gif paletted", encodeGIF(t, pal), GIF, "*image.Paletted", 0, q},
		{"bmp", encodeBMP(t, q), BMP, "*image.RGBA", 0, q},
		{"tiff deflate", encodeTIFF(t, q), TIFF, "*image.RGBA", 0, q},
		{"tiff uncompressed", rawTIFF(q, 40, 30, 1), TIFF, "*image.RGBA", 0, q},
		{"tiff gray 16-bit", encodeTIFF(t, gray16), TIFF, "*image.Gray16", 0, gray16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, f, err := Decode(bytes.NewReader(tc.data), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if f != tc.format {
				t.Errorf("format %q, want %q", f, tc.format)
			}
			if got := typeName(m); got != tc.typ {
				t.Errorf("decoded %s, want %s", got, tc.typ)
			}
			if m.Bounds() != tc.want.Bounds() {
				t.Fatalf("bounds %v, want %v", m.Bounds(), tc.want.Bounds())
			}
			// A same-size Resize is the identity filter, so it shows
			// the RGB conversion itself.
			got := Resize(m, 40, 30)
			for y := range 30 {
				for x := range 40 {
					if tc.tol > 0 && min(abs(x-20), abs(y-15)) < 4 {
						continue // chroma subsampling blurs the quadrant edges
					}
					w := color.RGBAModel.Convert(tc.want.At(x, y)).(color.RGBA)
					if g := rgbAt(got, x, y); !near(g, w, tc.tol) {
						t.Fatalf("pixel (%d, %d) = %v, want %v", x, y, g, w)
					}
				}
			}
		})
	}
}

func typeName(m image.Image) string {
	switch m.(type) {
	case *image.YCbCr:
		return "*image.YCbCr"
	case *image.NYCbCrA:
		return "*image.NYCbCrA"
	case *image.RGBA:
		return "*image.RGBA"
	case *image.NRGBA:
		return "*image.NRGBA"
	case *image.RGBA64:
		return "*image.RGBA64"
	case *image.NRGBA64:
		return "*image.NRGBA64"
	case *image.Gray:
		return "*image.Gray"
	case *image.Gray16:
		return "*image.Gray16"
	case *image.CMYK:
		return "*image.CMYK"
	case *image.Paletted:
		return "*image.Paletted"
	}
	return "other"
}

// TestDecodeFixtures decodes the files Go cannot write (testdata/gen.sh):
// progressive and CMYK JPEGs, WebP. Each was made from testdata/base.jpg, which they
// must resemble.
func TestDecodeFixtures(t *testing.T) {
	base, _, err := DecodeFile("testdata/base.jpg", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	baseRGB := Resize(base, 64, 48)
	tests := []struct {
		file   string
		format Format
		typ    string
		alpha  bool // top-left 16x16 transparent
	}{
		// Adobe CMYK JPEGs store inverted ink values; Go's decoder
		// undoes that, and ImageMagick's YCCK as well.
		{"progressive.jpg", JPEG, "*image.YCbCr", false},
		{"cmyk.jpg", JPEG, "*image.CMYK", false},
		{"ycck.jpg", JPEG, "*image.CMYK", false},
		{"lossy.webp", WebP, "*image.YCbCr", false},
		{"lossless-alpha.webp", WebP, "*image.NRGBA", true},
		{"lossy-alpha.webp", WebP, "*image.NYCbCrA", true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			m, f, err := DecodeFile(filepath.Join("testdata", tc.file), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if f != tc.format || typeName(m) != tc.typ {
				t.Errorf("got %s %s, want %s %s", f, typeName(m), tc.format, tc.typ)
			}
			if m.Bounds() != image.Rect(0, 0, 64, 48) {
				t.Fatalf("bounds %v", m.Bounds())
			}
			got := Resize(m, 64, 48)
			var sum, n int
			for y := range 48 {
				for x := range 64 {
					g := rgbAt(got, x, y)
					if tc.alpha && x < 16 && y < 16 {
						// Transparent: composited over white.
						if g != (color.RGBA{255, 255, 255, 255}) {
							t.Fatalf("transparent pixel (%d, %d) = %v, want white", x, y, g)
						}
						continue
					}
					w := rgbAt(baseRGB, x, y)
					sum += absDiff(g.R, w.R) + absDiff(g.G, w.G) + absDiff(g.B, w.B)
					n += 3
				}
			}
			// Re-encoding loses a little; wrong colours (an
			// uninverted CMYK is a negative) lose far more.
			if mean := float64(sum) / float64(n); mean > 10 {
				t.Errorf("mean difference from base.jpg %.1f levels per sample", mean)
			}
		})
	}
}

func absDiff(a, b uint8) int { return abs(int(a) - int(b)) }

func abs(x int) int { return max(x, -x) }

func TestAlphaOverWhite(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	m.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 0})   // invisible
	m.SetNRGBA(1, 0, color.NRGBA{255, 0, 0, 128}) // half red over white
	m.SetNRGBA(2, 0, color.NRGBA{0, 0, 255, 255}) // opaque
	m16 := image.NewNRGBA64(m.Rect)
	for x := range 3 {
		m16.Set(x, 0, m.At(x, 0))
	}
	want := []color.RGBA{{255, 255, 255, 255}, {255, 127, 127, 255}, {0, 0, 255, 255}}
	for _, src := range []image.Image{m, m16} {
		for _, data := range [][]byte{encodePNG(t, src), encodeTIFF(t, src)} {
			d, f, err := Decode(bytes.NewReader(data), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got := Resize(d, 3, 1)
			for x, w := range want {
				if g := rgbAt(got, x, 0); g != w {
					t.Errorf("%s %s: pixel %d = %v, want %v", f, typeName(d), x, g, w)
				}
			}
		}
	}
}

func TestDecodeFileIgnoresExtension(t *testing.T) {
	p := writeFile(t, "really-a-png.jpg", encodePNG(t, quadrants(8, 8)))
	_, f, err := DecodeFile(p, Limits{})
	if err != nil || f != PNG {
		t.Fatalf("DecodeFile = %q, %v; want png", f, err)
	}
	if _, err := LoadFile(p, 299, Limits{}); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	pets, err := os.ReadFile(petsPhoto)
	if err != nil {
		t.Fatal(err)
	}
	pngData := encodePNG(t, quadrants(40, 30))
	badCRC := bytes.Clone(pngData)
	badCRC[len(badCRC)-20] ^= 0xff // inside the IDAT data
	animated := withWebPExif(readTestdata(t, "lossy.webp"), 64, 48, nil)
	animated[20] |= 1 << 1 // VP8X animation flag
	arithmetic := bytes.Clone(hugeJPEG())
	arithmetic[3] = 0xC9 // SOF9: arithmetic coding
	rleBMP := encodeBMP(t, quadrants(4, 4))
	binary.LittleEndian.PutUint32(rleBMP[30:], 1) // BI_RLE8

	tests := []struct {
		name string
		data []byte
		lim  Limits
		kind ErrorKind
		is   error // errors.Is must hold, if set
	}{
		{"empty", nil, Limits{}, Empty, nil},
		{"text", []byte("name,label\ncat.jpg,cat\n"), Limits{}, Unsupported, nil},
		{"html", []byte("<!DOCTYPE html><html></html>"), Limits{}, Unsupported, nil},
		{"truncated jpeg", pets[:len(pets)/3], Limits{}, Corrupt, nil}, // "short Huffman data"
		{"jpeg header only", pets[:200], Limits{}, Corrupt, io.ErrUnexpectedEOF},
		{"truncated png", pngData[:len(pngData)-30], Limits{}, Corrupt, nil},
		{"png bad checksum", badCRC, Limits{}, Corrupt, nil},
		{"png signature only", pngData[:8], Limits{}, Corrupt, nil},
		{"webp header only", []byte("RIFF\x04\x00\x00\x00WEBP"), Limits{}, Corrupt, nil},
		{"animated webp", animated, Limits{}, Unsupported, nil},
		{"arithmetic-coded jpeg", arithmetic, Limits{}, Unsupported, nil},
		{"rle bmp", rleBMP, Limits{}, Unsupported, nil},
		{"huge png", hugePNG(), Limits{}, TooLarge, nil},
		{"huge jpeg", hugeJPEG(), Limits{}, TooLarge, nil},
		{"huge gif", hugeGIF(), Limits{}, TooLarge, nil},
		{"huge bmp", hugeBMP(), Limits{}, TooLarge, nil},
		{"huge tiff", rawTIFF(nil, 100000, 100000, 1), Limits{}, TooLarge, nil},
		{"huge webp lossless", hugeWebPLossless(), Limits{}, TooLarge, nil},
		{"huge webp extended", hugeWebPExtended(), Limits{}, TooLarge, nil},
		{"jpeg scan bomb", scanBomb(2048, 1000), Limits{}, TooLarge, nil},
		{"over pixel limit", pngData, Limits{MaxPixels: 40*30 - 1}, TooLarge, nil},
		{"over byte limit", pets, Limits{MaxBytes: 1000}, TooLarge, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "photo.jpg", tc.data)
			check := func(how string, err error, wantPath string) {
				t.Helper()
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("%s: error %v (%T), want *Error", how, err, err)
				}
				if e.Kind != tc.kind {
					t.Errorf("%s: kind %v, want %v (%v)", how, e.Kind, tc.kind, err)
				}
				if e.Path != wantPath {
					t.Errorf("%s: path %q, want %q", how, e.Path, wantPath)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("%s: %v is not %v", how, err, tc.is)
				}
				want := "decode " + wantPath + ": " + tc.kind.String() + ": " + e.Err.Error()
				if wantPath == "" {
					want = "decode: " + tc.kind.String() + ": " + e.Err.Error()
				}
				if err.Error() != want {
					t.Errorf("%s: message %q, want %q", how, err, want)
				}
			}
			var bomb bool
			if tc.kind == TooLarge {
				bomb = true
			}
			var err error
			n := allocated(func() { _, _, err = Decode(bytes.NewReader(tc.data), tc.lim) })
			check("Decode", err, "")
			_, _, err = DecodeFile(path, tc.lim)
			check("DecodeFile", err, path)
			n = max(n, allocated(func() { _, err = LoadFile(path, 299, tc.lim) }))
			check("LoadFile", err, path)
			// A decompression bomb is refused from its header, before
			// the decoder allocates its pixels.
			if bomb && n > 1<<20 {
				t.Errorf("refusing it allocated %d bytes", n)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.jpg")
	unreadable := writeFile(t, "secret.jpg", encodePNG(t, quadrants(4, 4)))
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		is         error
	}{
		{"missing", missing, fs.ErrNotExist},
		{"directory", dir, nil},
		{"permission", unreadable, fs.ErrPermission},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.is == fs.ErrPermission && os.Geteuid() == 0 {
				t.Skip("root reads files regardless of permissions")
			}
			_, err := LoadFile(tc.path, 299, Limits{})
			var e *Error
			if !errors.As(err, &e) || e.Kind != Unreadable || e.Path != tc.path {
				t.Fatalf("LoadFile: %v, want an unreadable *Error for %s", err, tc.path)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v is not %v", err, tc.is)
			}
			if !strings.HasPrefix(err.Error(), "decode "+tc.path+": unreadable: ") {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestDecodeReader(t *testing.T) {
	// An I/O error while reading is Unreadable, not Corrupt.
	_, _, err := Decode(iotest.ErrReader(errors.New("disk on fire")), Limits{})
	if e, ok := err.(*Error); !ok || e.Kind != Unreadable {
		t.Errorf("failing reader: %v, want unreadable", err)
	}
	// An endless stream is cut off just past the byte limit.
	r := &countingReader{r: rand.New(rand.NewPCG(1, 2))}
	_, _, err = Decode(r, Limits{MaxBytes: 1 << 20})
	if e, ok := err.(*Error); !ok || e.Kind != TooLarge {
		t.Errorf("endless reader: %v, want too large", err)
	}
	if r.n > 1<<20+64<<10 {
		t.Errorf("read %d bytes with a limit of 1 MiB", r.n)
	}
	// Bytes trickling in one at a time still make a photo.
	data := encodePNG(t, quadrants(8, 8))
	if _, _, err := Decode(iotest.OneByteReader(bytes.NewReader(data)), Limits{}); err != nil {
		t.Error(err)
	}
}

type countingReader struct {
	r *rand.Rand
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c.r.Uint32())
	}
	c.n += len(p)
	return len(p), nil
}

func TestJPEGScans(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want int
	}{
		{"baseline", readTestdata(t, "base.jpg"), 1},
		{"progressive", readTestdata(t, "progressive.jpg"), 10},
		{"exif", withJPEGExif(readTestdata(t, "progressive.jpg"), 6, binary.BigEndian), 10},
		{"bomb", scanBomb(64, 1000), maxJPEGScans + 1}, // stops counting
		{"allowed", scanBomb(64, maxJPEGScans-1), maxJPEGScans},
		{"truncated", readTestdata(t, "progressive.jpg")[:700], 4},
	} {
		if got := jpegScans(tc.data, maxJPEGScans); got != tc.want {
			t.Errorf("%s: %d scans, want %d", tc.name, got, tc.want)
		}
	}
	// A file at the limit still decodes.
	if _, _, err := Decode(bytes.NewReader(scanBomb(64, maxJPEGScans-1)), Limits{}); err != nil {
		t.Error(err)
	}
}

func TestLimits(t *testing.T) {
	var zero Limits
	if zero.maxBytes() != 200<<20 || zero.maxPixels() != 64_000_000 {
		t.Errorf("zero Limits: %d bytes, %d pixels", zero.maxBytes(), zero.maxPixels())
	}
	data := encodePNG(t, quadrants(10, 10))
	for _, tc := range []struct {
		lim Limits
		ok  bool
	}{
		{Limits{MaxPixels: 100}, true},
		{Limits{MaxPixels: 99}, false},
		{Limits{MaxBytes: int64(len(data))}, true},
		{Limits{MaxBytes: int64(len(data)) - 1}, false},
		{Limits{MaxBytes: -1, MaxPixels: -1}, true}, // defaults
	} {
		_, _, err := Decode(bytes.NewReader(data), tc.lim)
		path := writeFile(t, "p.png", data)
		_, _, ferr := DecodeFile(path, tc.lim)
		for _, err := range []error{err, ferr} {
			if tc.ok && err != nil {
				t.Errorf("%+v: %v", tc.lim, err)
			}
			if e, isE := err.(*Error); !tc.ok && (!isE || e.Kind != TooLarge) {
				t.Errorf("%+v: %v, want too large", tc.lim, err)
			}
		}
	}
}

func TestErrorKindString(t *testing.T) {
	seen := map[string]bool{}
	for k := Unreadable; k <= TooLarge; k++ {
		s := k.String()
		if s == "" || strings.HasPrefix(s, "ErrorKind(") || seen[s] {
			t.Errorf("kind %d: %q", int(k), s)
		}
		seen[s] = true
	}
	if s := ErrorKind(0).String(); s != "ErrorKind(0)" {
		t.Errorf("zero kind: %q", s)
	}
	e := &Error{Path: "/x/y.jpg", Kind: Corrupt, Err: io.ErrUnexpectedEOF}
	if got, want := e.Error(), "decode /x/y.jpg: truncated or corrupt: unexpected EOF"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

var allPhotos = flag.Bool("allphotos", false, "TestSamplePhotos loads every sample photo, not one per class")

// TestSamplePhotos loads photos of the sample datasets: the first of each
// class, or all of them with -allphotos.
func TestSamplePhotos(t *testing.T) {
	for _, dir := range []string{petsDir, flowersDir} {
		classes, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range classes {
			if !c.IsDir() {
				continue
			}
			files, err := os.ReadDir(filepath.Join(dir, c.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if !*allPhotos && len(files) > 1 {
				files = files[:1]
			}
			for _, f := range files {
				p := filepath.Join(dir, c.Name(), f.Name())
				rgb, err := LoadFile(p, 299, Limits{})
				if err != nil {
					t.Error(err)
					continue
				}
				if rgb.Width != 299 || rgb.Height != 299 || len(rgb.Pix) != 3*299*299 {
					t.Errorf("%s: %dx%d, %d bytes", p, rgb.Width, rgb.Height, len(rgb.Pix))
				}
				lo, hi := uint8(255), uint8(0)
				for _, v := range rgb.Pix {
					lo, hi = min(lo, v), max(hi, v)
				}
				if hi-lo < 64 {
					t.Errorf("%s: samples span only [%d, %d]", p, lo, hi)
				}
			}
		}
	}
}
