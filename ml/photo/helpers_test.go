package photo

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// Sample photos, relative to this package (CI clones the repository beside
// shared/).
const (
	petsDir      = "../../testdata/photos/pets"
	flowersDir   = "../../testdata/photos/flowers"
	petsPhoto    = petsDir + "/Abyssinian/Abyssinian_128.jpg" // 500x375, 4:4:4
	flowersPhoto = flowersDir + "/daisy/100080576_f52e8ee070_n.jpg"
)

// The corner colours of quadrants.
var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	blue  = color.RGBA{0, 0, 255, 255}
	black = color.RGBA{0, 0, 0, 255}
)

// quadrants returns an opaque w×h image whose top-left quarter is red,
// top-right green, bottom-left blue and bottom-right black, so that any
// flip or rotation is visible.
func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = green
			case x < w/2 && y >= h/2:
				c = blue
			case x >= w/2 && y >= h/2:
				c = black
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// quadrantColors samples the middle of each quarter of m: top-left,
// top-right, bottom-left, bottom-right.
func quadrantColors(m image.Image) [4]color.RGBA {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	at := func(x, y int) color.RGBA {
		return color.RGBAModel.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
	}
	return [4]color.RGBA{at(w/4, h/4), at(3*w/4, h/4), at(w/4, 3*h/4), at(3*w/4, 3*h/4)}
}

// near reports whether two colours differ by at most tol in every channel.
func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return max(int(x)-int(y), int(y)-int(x)) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, m, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeBMP(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := bmp.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeTIFF(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tiff.Encode(&b, m, &tiff.Options{Compression: tiff.Deflate}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// exifBlock returns a TIFF structure whose IFD0 holds only the Orientation
// tag, in either byte order.
func exifBlock(o uint16, bo binary.AppendByteOrder) []byte {
	b := []byte("II*\x00")
	if bo == binary.AppendByteOrder(binary.BigEndian) {
		b = []byte("MM\x00*")
	}
	b = bo.AppendUint32(b, 8)      // IFD0 offset
	b = bo.AppendUint16(b, 1)      // one entry
	b = bo.AppendUint16(b, 0x0112) // Orientation
	b = bo.AppendUint16(b, 3)      // SHORT
	b = bo.AppendUint32(b, 1)      // count
	b = bo.AppendUint16(b, o)
	b = append(b, 0, 0)          // value padding
	return bo.AppendUint32(b, 0) // no next IFD
}

// withJPEGExif inserts an APP1 Exif segment with orientation o after SOI.
func withJPEGExif(jpg []byte, o uint16, bo binary.AppendByteOrder) []byte {
	payload := append([]byte("Exif\x00\x00"), exifBlock(o, bo)...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// withPNGChunk inserts a chunk before the first IDAT (after it when after
// is set).
func withPNGChunk(t testing.TB, p []byte, typ string, data []byte, after bool) []byte {
	t.Helper()
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, typ...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	at := bytes.Index(p, []byte("IDAT")) - 4
	if after {
		at = bytes.Index(p, []byte("IEND")) - 4
	}
	if at < 8 {
		t.Fatal("no IDAT in PNG")
	}
	out := append([]byte{}, p[:at]...)
	out = append(out, chunk...)
	return append(out, p[at:]...)
}

// withWebPExif turns a simple-format (VP8 or VP8L) WebP file of w×h pixels
// into the extended format with an EXIF chunk after the image.
func withWebPExif(webp []byte, w, h int, exif []byte) []byte {
	vp8x := []byte("VP8X")
	vp8x = binary.LittleEndian.AppendUint32(vp8x, 10)
	vp8x = append(vp8x, 0x08, 0, 0, 0) // EXIF flag, reserved
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	vp8x = append(vp8x, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	body := append([]byte("WEBP"), vp8x...)
	body = append(body, webp[12:]...)
	body = append(body, "EXIF"...)
	body = binary.LittleEndian.AppendUint32(body, uint32(len(exif)))
	body = append(body, exif...)
	if len(exif)%2 == 1 {
		body = append(body, 0)
	}
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

// rawTIFF writes an uncompressed 8-bit RGB TIFF with an Orientation tag. With
// a nil m it declares w×h pixels but holds none, as a decompression bomb's
// header would.
func rawTIFF(m *image.RGBA, w, h int, o uint16) []byte {
	type entry struct {
		tag, typ uint16
		val      uint32
	}
	const ifdOff = 8
	const nEntries = 10
	bpsOff := ifdOff + 2 + 12*nEntries + 4
	dataOff := bpsOff + 6
	entries := []entry{
		{256, 4, uint32(w)},
		{257, 4, uint32(h)},
		{258, 3, uint32(bpsOff)}, // BitsPerSample: 3 SHORTs, stored outside
		{259, 3, 1},              // no compression
		{262, 3, 2},              // RGB
		{273, 4, uint32(dataOff)},
		{274, 3, uint32(o)},
		{277, 3, 3},
		{278, 4, uint32(h)},
		{279, 4, uint32(3 * w * h)},
	}
	le := binary.LittleEndian
	b := []byte("II*\x00")
	b = le.AppendUint32(b, ifdOff)
	b = le.AppendUint16(b, nEntries)
	for _, e := range entries {
		b = le.AppendUint16(b, e.tag)
		b = le.AppendUint16(b, e.typ)
		count := uint32(1)
		if e.tag == 258 {
			count = 3
		}
		b = le.AppendUint32(b, count)
		if e.typ == 3 && e.tag != 258 {
			b = le.AppendUint16(b, uint16(e.val))
			b = append(b, 0, 0)
		} else {
			b = le.AppendUint32(b, e.val)
		}
	}
	b = le.AppendUint32(b, 0)
	b = append(b, 8, 0, 8, 0, 8, 0)
	if m != nil {
		for y := range h {
			for x := range w {
				c := m.RGBAAt(x, y)
				b = append(b, c.R, c.G, c.B)
			}
		}
	}
	return b
}

// Headers of files that declare far more pixels than they hold.
func hugePNG() []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, 100000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 100000)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	p := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		c = append(c, typ...)
		c = append(c, data...)
		c = binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
		p = append(p, c...)
	}
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return p
}

func hugeJPEG() []byte {
	return []byte{
		0xFF, 0xD8, // SOI
		0xFF, 0xC0, 0x00, 0x11, 8, 0xFF, 0xFF, 0xFF, 0xFF, 3, // SOF0 65535x65535
		1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0,
		0xFF, 0xDA, 0x00, 0x0C, // SOS, where DecodeConfig stops
	}
}

func hugeGIF() []byte {
	return []byte("GIF89a\xff\xff\xff\xff\x00\x00\x00;")
}

func hugeBMP() []byte {
	le := binary.LittleEndian
	b := []byte("BM")
	b = le.AppendUint32(b, 54) // file size (a lie)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 54) // pixel data offset
	b = le.AppendUint32(b, 40) // BITMAPINFOHEADER
	b = le.AppendUint32(b, 100000)
	b = le.AppendUint32(b, 100000)
	b = le.AppendUint16(b, 1)  // planes
	b = le.AppendUint16(b, 24) // bpp
	b = le.AppendUint32(b, 0)  // BI_RGB
	return append(b, make([]byte, 20)...)
}

func hugeWebPLossless() []byte {
	// VP8L: signature, then 14-bit width-1 and height-1: 16384x16384.
	chunk := []byte{0x2f, 0xff, 0xff, 0xff, 0x0f}
	b := []byte("WEBPVP8L")
	b = binary.LittleEndian.AppendUint32(b, uint32(len(chunk)))
	b = append(b, chunk...)
	b = append(b, 0)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(b)))...), b...)
}

func hugeWebPExtended() []byte {
	// VP8X canvas 40000x40000 (1.6 gigapixels, below WebP's own cap).
	const n = 40000 - 1
	b := []byte("WEBPVP8X")
	b = binary.LittleEndian.AppendUint32(b, 10)
	b = append(b, 0, 0, 0, 0, n&0xff, n>>8&0xff, n>>16, n&0xff, n>>8&0xff, n>>16)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(b)))...), b...)
}

// scanBomb returns a valid progressive grey JPEG of side×side pixels with
// the given number of AC scans, each a few bytes of end-of-band runs that
// make the decoder visit every block again.
func scanBomb(side, scans int) []byte {
	b := []byte{0xFF, 0xD8}
	b = append(b, 0xFF, 0xDB, 0, 67, 0) // DQT: all ones
	for range 64 {
		b = append(b, 1)
	}
	b = append(b, 0xFF, 0xC2, 0, 11, 8, byte(side>>8), byte(side), byte(side>>8), byte(side), 1, 1, 0x11, 0)
	dht := func(class, symbol byte) { // one code, "0", for one symbol
		b = append(b, 0xFF, 0xC4, 0, 2+1+16+1, class, 1)
		b = append(b, make([]byte, 15)...)
		b = append(b, symbol)
	}
	dht(0x00, 0x00) // DC: difference 0
	dht(0x10, 0xE0) // AC: end-of-band run of 1<<14 + 14 bits
	blocks := (side / 8) * (side / 8)
	b = append(b, 0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 0, 0x00) // DC scan
	b = append(b, make([]byte, (blocks+7)/8)...)
	for range scans {
		b = append(b, 0xFF, 0xDA, 0, 8, 1, 1, 0x00, 1, 63, 0x00) // AC scan, band 1-63
		runs := (blocks + 1<<14 - 1) >> 14
		b = append(b, make([]byte, (15*runs+7)/8)...)
	}
	return append(b, 0xFF, 0xD9)
}

// writeFile writes data to a file named name in a new temporary directory
// and returns its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// allocated returns the bytes f allocates on the heap. Not for parallel
// tests.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
