package photo

import (
	"errors"
	"image"
)

// LoadThumbnail decodes the named file and returns it upright, shrunk so
// that its longer side is at most side pixels, as Thumbnail does with
// DecodeFile's image. With lim.JPEG == JPEGAuto in a build with
// libjpeg-turbo, a JPEG is decoded at the smallest DCT scale that still
// covers the thumbnail (in other builds, only at 1/8), so a 12-megapixel
// photo's 256-pixel preview never builds the full image; the shrink that
// follows keeps Thumbnail's filter.
// Other formats, CMYK JPEGs and JPEGDecoder JPEGGo decode in full. Errors
// are *Error and carry the file name. LoadThumbnail panics if side is not
// positive.
func LoadThumbnail(path string, side int, lim Limits) (*image.RGBA, error) {
	if side <= 0 {
		panic("photo: LoadThumbnail with a non-positive size")
	}
	data, err := readFile(path, lim.maxBytes())
	if err != nil {
		return nil, withPath(err, path)
	}
	m, o, err := decodeForThumbnail(data, side, lim)
	if err != nil {
		return nil, withPath(err, path)
	}
	// Shrink as stored, then turn upright (the filter commutes with
	// flips and transposition, as in LoadFile), so that only the small
	// picture is rotated.
	return orientImage(Thumbnail(m, side), o).(*image.RGBA), nil
}

// decodeForThumbnail decodes a file held in memory for a thumbnail whose
// longer side is side.
func decodeForThumbnail(data []byte, side int, lim Limits) (image.Image, orientation, error) {
	if lim.JPEG == JPEGAuto {
		if f, ok := Sniff(data); ok && f == JPEG {
			_, cfg, herr := checkHeader(data, lim)
			if herr != nil {
				return nil, 0, herr
			}
			tw, th := thumbnailSize(cfg.Width, cfg.Height, side)
			// turboDecode keeps both sides at least its minimum: the
			// thumbnail's shorter side is enough, bar rounding, which
			// the larger minimum then covers.
			for _, min := range []int{min(tw, th), max(tw, th)} {
				m, err := turboDecode(data, min)
				if err != nil {
					if !errors.Is(err, errNotTurbo) {
						return nil, 0, newError(classifyDecode(err), err)
					}
					break
				}
				if m.Width >= tw && m.Height >= th {
					return m, orientationOf(f, data), nil
				}
			}
		}
	}
	m, _, o, err := decodeData(data, lim)
	return m, o, err
}
