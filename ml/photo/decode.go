package photo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Default limits, used where a Limits field is zero.
const (
	DefaultMaxBytes  = 200 << 20  // 200 MiB
	DefaultMaxPixels = 64_000_000 // 64 megapixels, e.g. 9800×6530
)

// Limits bound the resources one photo may take. Files are untrusted: a
// small file can declare enormous dimensions (a decompression bomb), so the
// dimensions are checked from the header before any pixel is decoded. Peak
// memory while decoding is roughly the file size plus MaxPixels times the
// decoder's bytes per pixel (1.5 to 8 for the decoded image, up to 16 more
// for a progressive JPEG's coefficients). Independently of Limits, a JPEG
// with more than 100 scans is refused, because each scan costs a pass over
// the whole image (a CPU bomb).
//
// The zero value means the defaults; zero or negative fields take their
// default.
//
// Limits also carries the choice of JPEG decoder for LoadFile, because it
// travels with every photo from the settings to the loader.
type Limits struct {
	MaxBytes  int64 // largest file accepted, in bytes
	MaxPixels int64 // largest width×height accepted
	// JPEG chooses how LoadFile decodes JPEG files; the zero value is
	// the fastest decoder built in.
	JPEG JPEGDecoder
}

// A JPEGDecoder chooses how LoadFile decodes a JPEG.
type JPEGDecoder uint8

const (
	// JPEGAuto decodes with libjpeg-turbo at a reduced DCT scale where
	// this build has it (see TurboBuiltIn); elsewhere with Go's decoder,
	// except photos at least 8 times the size asked for on both sides
	// (a phone's for the network), which this package's own decoder
	// decodes at 1/8 scale, giving libjpeg-turbo's pixels.
	JPEGAuto JPEGDecoder = iota
	// JPEGGo decodes with Go's image/jpeg at full size, then shrinks:
	// the decoder of every build, kept for comparison and as the
	// fallback.
	JPEGGo
)

// String returns "auto" or "go".
func (d JPEGDecoder) String() string {
	switch d {
	case JPEGAuto:
		return "auto"
	case JPEGGo:
		return "go"
	}
	return fmt.Sprintf("JPEGDecoder(%d)", uint8(d))
}

// Used names the decoders that really decode JPEGs with this choice in
// this build: "libjpeg-turbo" for JPEGAuto where it is built in,
// "go-eighth" for JPEGAuto elsewhere (Go's decoder, and at 1/8 scale
// libjpeg-turbo's pixels), "go" for JPEGGo. They give slightly different
// pixels, so feature caches key vectors by it.
func (d JPEGDecoder) Used() string {
	switch {
	case d == JPEGAuto && turboBuiltIn:
		return "libjpeg-turbo"
	case d == JPEGAuto:
		return "go-eighth"
	}
	return "go"
}

// TurboBuiltIn says whether this build decodes JPEGs with libjpeg-turbo
// (SIMD, scaled in the DCT domain). Linux builds with cgo link it; other
// builds decode JPEGs with Go's decoder, and large ones at 1/8 scale with
// this package's own (see JPEGAuto).
const TurboBuiltIn = turboBuiltIn

func (l Limits) maxBytes() int64 {
	if l.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return l.MaxBytes
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return l.MaxPixels
}

// Decode reads an image from r, recognising its format from the content,
// and returns it upright (its EXIF orientation applied) together with its
// format. The image has the type the format's decoder returns, except that
// a YCbCr image that had to be turned becomes *image.RGBA. Decode reads at
// most lim's byte limit (plus one byte) from r. Errors are *Error; the
// format is returned with them when it was recognised.
func Decode(r io.Reader, lim Limits) (image.Image, Format, error) {
	data, err := readAll(r, lim.maxBytes(), nil)
	if err != nil {
		return nil, "", err
	}
	m, f, o, err := decodeData(data, lim)
	if err != nil {
		return nil, f, err
	}
	return orientImage(m, o), f, nil
}

// DecodeFile is Decode for the named file; errors carry its name. A file
// larger than the byte limit is refused without being read.
func DecodeFile(path string, lim Limits) (image.Image, Format, error) {
	data, err := readFile(path, lim.maxBytes())
	if err != nil {
		return nil, "", withPath(err, path)
	}
	m, f, o, err := decodeData(data, lim)
	if err != nil {
		return nil, f, withPath(err, path)
	}
	return orientImage(m, o), f, nil
}

// readFile reads the named file, refusing a file larger than maxBytes
// before reading it.
func readFile(path string, maxBytes int64) ([]byte, error) {
	return readFileInto(path, maxBytes, nil)
}

// readFileInto is readFile reading into buf when it has room for the
// file, so that a caller that decodes many photos can reuse one buffer.
func readFileInto(path string, maxBytes int64, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, newError(Unreadable, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, newError(Unreadable, err)
	}
	switch {
	case fi.IsDir():
		return nil, newError(Unreadable, errors.New("is a directory"))
	case fi.Mode().IsRegular() && fi.Size() > maxBytes:
		return nil, tooManyBytes(fi.Size(), maxBytes)
	case fi.Mode().IsRegular() && int64(cap(buf)) < fi.Size()+1:
		// One read of the whole file, plus one byte to see EOF (the
		// file may have grown since Stat).
		buf = make([]byte, 0, fi.Size()+1)
	}
	return readAll(f, maxBytes, buf)
}

// readAll reads r to EOF into buf[:0], failing with TooLarge as soon as more
// than maxBytes arrive, so that an endless or huge stream costs at most
// maxBytes of memory.
func readAll(r io.Reader, maxBytes int64, buf []byte) ([]byte, error) {
	b := buf[:0]
	for {
		if len(b) == cap(b) {
			// Grow geometrically, but never past what the limit
			// allows: one byte more than maxBytes shows it is
			// exceeded.
			n := min(max(2*int64(cap(b)), 64<<10), maxBytes+1)
			nb := make([]byte, len(b), max(n, int64(len(b))+1))
			copy(nb, b)
			b = nb
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > maxBytes {
			return nil, tooManyBytes(-1, maxBytes)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, newError(Unreadable, err)
		}
	}
	if len(b) == 0 {
		return nil, newError(Empty, errors.New("0 bytes"))
	}
	return b, nil
}

func tooManyBytes(size, maxBytes int64) *Error {
	if size < 0 {
		return errorf(TooLarge, "more than %d bytes, the limit", maxBytes)
	}
	return errorf(TooLarge, "%d bytes, more than the limit of %d", size, maxBytes)
}

// HeaderLen is how much of a file CheckHeader needs to find the declared
// dimensions of any photo people have: a JPEG's size comes after its EXIF
// and ICC segments, which stay well under this (EXIF is limited to 64 KiB).
const HeaderLen = 256 << 10

// CheckHeader checks what the start of a photo file declares, without
// decoding its pixels: a known format, a readable header, and dimensions
// within lim. A folder scan uses it to find decompression bombs and broken
// headers before training, at the cost of reading HeaderLen bytes.
//
// head is the start of the file; complete says whether it is the whole
// file. When head ends before the header does and the file goes on, the
// header cannot be judged and CheckHeader returns nil. Every error is an
// *Error.
func CheckHeader(head []byte, complete bool, lim Limits) error {
	if _, _, err := checkHeader(head, lim); err != nil && (complete || err.Kind != Corrupt) {
		return err
	}
	return nil
}

// checkHeader sniffs the format and reads the declared size, refusing what
// must not be decoded: unknown formats, animated WebP, JPEGs with too many
// scans and dimensions over the limit.
func checkHeader(data []byte, lim Limits) (Format, image.Config, *Error) {
	return checkHeaderScans(data, lim, true)
}

// checkHeaderScans is checkHeader, counting a JPEG's scans only when scans
// is set: the count reads the whole file.
func checkHeaderScans(data []byte, lim Limits, scans bool) (Format, image.Config, *Error) {
	f, ok := Sniff(data)
	if !ok {
		return "", image.Config{}, newError(Unsupported, errors.New("no known image signature"))
	}
	if f == WebP && webpAnimated(data) {
		return f, image.Config{}, newError(Unsupported, errors.New("animated WebP"))
	}
	if f == JPEG && scans {
		if n := jpegScans(data, maxJPEGScans); n > maxJPEGScans {
			return f, image.Config{}, errorf(TooLarge, "more than %d scans", maxJPEGScans)
		}
	}
	cfg, err := protect(func() (image.Config, error) { return decodeConfig(f, data) })
	if err != nil {
		return f, cfg, newError(classifyDecode(err), err)
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return f, cfg, errorf(Corrupt, "%s image is %dx%d pixels", f, cfg.Width, cfg.Height)
	}
	if maxPixels := lim.maxPixels(); pixels > maxPixels {
		return f, cfg, errorf(TooLarge, "%dx%d pixels (%.1f megapixels), more than the limit of %.1f",
			cfg.Width, cfg.Height, float64(pixels)/1e6, float64(maxPixels)/1e6)
	}
	return f, cfg, nil
}

// decodeData decodes a whole file held in memory. It dispatches on the
// sniffed format explicitly instead of through image.Decode, so that what is
// decoded does not depend on which decoders some other package happened to
// register. It returns the image as stored and the orientation to apply.
func decodeData(data []byte, lim Limits) (image.Image, Format, orientation, error) {
	f, cfg, herr := checkHeader(data, lim)
	if herr != nil {
		return nil, f, 0, herr
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	m, err := protect(func() (image.Image, error) { return decodeImage(f, data) })
	if err != nil {
		return nil, f, 0, newError(classifyDecode(err), err)
	}
	// Decoders return what the header promised (a GIF returns its first
	// frame, which lies within it); check rather than trust.
	if b := m.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > pixels {
		return nil, f, 0, errorf(Corrupt, "decoded %dx%d pixels, header says %dx%d", b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	return m, f, orientationOf(f, data), nil
}

// maxJPEGScans bounds the scans of a progressive JPEG. Every scan revisits
// every block of the image, and a scan that skips them all with end-of-band
// runs takes a few bytes, so a small file with thousands of scans keeps the
// decoder busy for minutes (a 26 KB, 4-megapixel file with 1000 scans takes
// seconds). Encoders write about 10; libjpeg-turbo's tools suggest limits of
// a few hundred.
const maxJPEGScans = 100

// jpegScans counts the start-of-scan markers of a JPEG file, stopping once
// the count exceeds limit. Marker segments are skipped by their length;
// between them, in entropy-coded data, 0xFF is always followed by 0x00 (a
// stuffed byte) or a restart marker, so the next real marker is found by a
// byte search.
func jpegScans(b []byte, limit int) int {
	n := 0
	for i := 2; i+1 < len(b); {
		if b[i] != 0xFF {
			j := bytes.IndexByte(b[i:], 0xFF)
			if j < 0 {
				break
			}
			i += j
			continue
		}
		switch m := b[i+1]; {
		case m == 0xFF: // fill byte
			i++
		case m == 0x00, m == 0x01, m >= 0xD0 && m <= 0xD8: // stuffed byte, TEM, RSTn, SOI
			i += 2
		case m == 0xD9: // EOI
			return n
		default:
			if m == 0xDA {
				if n++; n > limit {
					return n
				}
			}
			if i+4 > len(b) {
				return n
			}
			l := int(b[i+2])<<8 | int(b[i+3])
			if l < 2 {
				return n
			}
			i += 2 + l
		}
	}
	return n
}

// codec is one format's pair of decoding functions.
type codec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error) // GIF: the first frame
}

// codecs dispatches on the sniffed format, never through image.Decode's
// global registry, so that what decodes a file is decided by its content
// alone.
var codecs = map[Format]codec{
	JPEG: {jpeg.DecodeConfig, jpeg.Decode},
	PNG:  {png.DecodeConfig, png.Decode},
	GIF:  {gif.DecodeConfig, gif.Decode},
	BMP:  {bmp.DecodeConfig, bmp.Decode},
	TIFF: {tiff.DecodeConfig, tiff.Decode},
	WebP: {webp.DecodeConfig, webp.Decode},
}

func decodeConfig(f Format, data []byte) (image.Config, error) {
	c, ok := codecs[f]
	if !ok {
		return image.Config{}, fmt.Errorf("no decoder for format %q", f)
	}
	return c.config(bytes.NewReader(data))
}

func decodeImage(f Format, data []byte) (image.Image, error) {
	c, ok := codecs[f]
	if !ok {
		return nil, fmt.Errorf("no decoder for format %q", f)
	}
	return c.decode(bytes.NewReader(data))
}

// protect turns a panic in a decoder into an error. The decoders are
// hardened and fuzzed, but a photo collection is hostile input from many
// sources, and one malformed file must cost a skipped file, not the
// application. The decoder's state is local to the call, so nothing is
// left inconsistent.
func protect[T any](decode func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero T
			v, err = zero, fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return decode()
}
