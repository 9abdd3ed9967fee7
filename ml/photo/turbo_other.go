//go:build !(linux && cgo) || noturbojpeg

package photo

import (
	"bytes"
	"errors"
	"image/jpeg"
)

// turboBuiltIn says whether this build decodes JPEGs with libjpeg-turbo:
// only Linux builds link it (see turbo.go); elsewhere Go's decoder decodes
// JPEGs, except at 1/8 scale.
const turboBuiltIn = false

// turboDecode, without libjpeg-turbo, decodes only at 1/8 scale, with this
// package's own decoder (decodeEighth, libjpeg-turbo's pixels): when the
// photo's sides are both at least 8×minSide, as a phone's 12 megapixels
// are for the network's 299. Other photos, and the files decodeEighth does
// not take, are errNotTurbo: Go's decoder decodes them in full.
func turboDecode(data []byte, minSide int) (*RGB, error) {
	return turboDecodeWith(data, minSide, true)
}

// turboDecodeWith is turboDecode, trying decodeEighth only when eighth is
// set (LoadFile has tried it first).
func turboDecodeWith(data []byte, minSide int, eighth bool) (*RGB, error) {
	if !eighth {
		return nil, errNotTurbo
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil || (cfg.Width+7)/8 < minSide || (cfg.Height+7)/8 < minSide {
		return nil, errNotTurbo
	}
	if m, ok := decodeEighth(data); ok {
		return m, nil
	}
	return nil, errNotTurbo
}

var errNotTurbo = errors.New("libjpeg-turbo is not built in")
