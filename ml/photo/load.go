package photo

import (
	"errors"
	"image"
	"sync"
)

// LoadFile decodes the named file and returns it upright as size×size RGB,
// squashed to the square as Keras' load_img(target_size=(size, size)) does
// (with Resize's antialiasing filter, where load_img defaults to nearest
// neighbour): the input of the network. Errors are *Error and carry the
// file name. LoadFile panics if size is not positive.
func LoadFile(path string, size int, lim Limits) (*RGB, error) {
	if size <= 0 {
		panic("photo: LoadFile with a non-positive size")
	}
	// The file's bytes are needed only until the shrink, so the buffer
	// is reused: for a 12-megapixel photo a new one costs about a tenth
	// of the decoding, in clearing and fresh pages.
	bp := fileBuffers.Get().(*[]byte)
	data, err := readFileInto(path, lim.maxBytes(), *bp)
	if err != nil {
		fileBuffers.Put(bp)
		return nil, withPath(err, path)
	}
	defer func() {
		if cap(data) <= maxPooledFile {
			*bp = data[:0]
		}
		fileBuffers.Put(bp)
	}()
	m, o, eighth, err := decodeToShrink(data, size, lim)
	if err != nil {
		return nil, withPath(err, path)
	}
	// Resize the stored image, then turn the small result upright: the
	// separable filter commutes with flips and transposition, so this
	// equals resizing the upright image, without rotating the large one.
	// (The target is square, so the stored image is squashed to the same
	// square whichever way it is turned.)
	p := &RGB{Width: size, Height: size, Pix: make([]uint8, 3*size*size)}
	var rs resizer
	rs.resize(p.Pix, 3*size, 3, m, size, size)
	if eighth {
		releaseEighth(m.(*RGB))
	}
	return orientRGB(p, o), nil
}

// decodeToShrink decodes a file held in memory for a shrink to size×size.
// With lim.JPEG == JPEGAuto in a build with libjpeg-turbo, a JPEG is
// decoded at the smallest DCT scale whose sides both stay at least size, so
// a 12-megapixel photo is never built at full size (the shrink that
// follows keeps its filter: it only has less to do); in other builds only
// at 1/8 scale (see turbo_other.go). CMYK JPEGs and the other formats keep
// their decoders. eighth says that m is decodeEighth's, whose pixels the
// caller may give back (releaseEighth) once it has shrunk them.
func decodeToShrink(data []byte, size int, lim Limits) (m image.Image, o orientation, eighth bool, err error) {
	if lim.JPEG == JPEGAuto {
		if f, ok := Sniff(data); ok && f == JPEG {
			if m, ok := eighthFirst(data, size, lim); ok {
				return m, orientationOf(f, data), true, nil
			}
			// The same checks as every decoder's: the format's
			// limits and the dimensions, before any pixel.
			if _, _, herr := checkHeader(data, lim); herr != nil {
				return nil, 0, false, herr
			}
			m, err := turboDecodeWith(data, size, false)
			if err == nil {
				return m, orientationOf(f, data), false, nil
			}
			if !errors.Is(err, errNotTurbo) {
				return nil, 0, false, newError(classifyDecode(err), err)
			}
		}
	}
	m, _, o, err = decodeData(data, lim)
	return m, o, false, err
}

// eighthFirst decodes a JPEG at 1/8 scale with decodeEighth when its sides
// both stay at least size there and decodeEighth takes it, after the header
// checks but the count of scans: a file decodeEighth takes has one scan,
// and counting them reads the whole file (a twentieth of the decoding).
// Files it does not decode (a failed check included) take the usual path,
// whose checks, in their order, decide as before.
func eighthFirst(data []byte, size int, lim Limits) (*RGB, bool) {
	_, cfg, herr := checkHeaderScans(data, lim, false)
	w, h := (cfg.Width+7)/8, (cfg.Height+7)/8
	if herr != nil || w < size || h < size {
		return nil, false
	}
	m, ok := decodeEighth(data)
	return m, ok && m.Width == w && m.Height == h
}

// fileBuffers holds LoadFile's read buffers (*[]byte), kept up to
// maxPooledFile bytes: a phone's photos, not the rare huge file.
var fileBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledFile = 32 << 20
