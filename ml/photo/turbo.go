//go:build linux && cgo && !noturbojpeg

package photo

// libjpeg-turbo is linked statically (Debian's libturbojpeg0-dev ships the
// archive), so the .deb and the portable .tar.xz carry it inside the
// executable and need no library beside it.

/*
#cgo LDFLAGS: -l:libturbojpeg.a
#include <stdio.h>
#include <turbojpeg.h>

// decode decompresses a JPEG to packed RGB at w×h, one of the sizes its
// DCT scaling gives, and reports whether a failure was only a warning
// (turned into an error by TJFLAG_STOPONWARNING: a truncated or damaged
// file). TJFLAG_FASTUPSAMPLE replicates subsampled chroma as Go's decoder
// does, instead of libjpeg's smooth ("fancy") upsampling: the network then
// sees what it saw before (over the sample photos the mean squared
// difference from Go's decode falls from 0.95 to 0.22), which matters most
// for small photos that the loader enlarges to 299×299. The handle lives for one call: creating it costs microseconds
// against milliseconds of decoding, and no handle outlives its goroutine.
static int decode(const unsigned char *data, unsigned long size, unsigned char *dst,
		int w, int h, char *msg, int msglen, int *warning) {
	tjhandle t = tjInitDecompress();
	if (t == NULL) {
		snprintf(msg, msglen, "%s", tjGetErrorStr2(NULL));
		*warning = 0;
		return -1;
	}
	int rc = tjDecompress2(t, data, size, dst, w, 3 * w, h, TJPF_RGB, TJFLAG_STOPONWARNING | TJFLAG_FASTUPSAMPLE);
	if (rc != 0) {
		snprintf(msg, msglen, "%s", tjGetErrorStr2(t));
		*warning = tjGetErrorCode(t) == TJERR_WARNING;
	}
	tjDestroy(t);
	return rc;
}

// header reads the dimensions and colour space of a JPEG.
static int header(const unsigned char *data, unsigned long size, int *w, int *h, int *cs,
		char *msg, int msglen) {
	tjhandle t = tjInitDecompress();
	if (t == NULL) {
		snprintf(msg, msglen, "%s", tjGetErrorStr2(NULL));
		return -1;
	}
	int subsamp;
	int rc = tjDecompressHeader3(t, data, size, w, h, &subsamp, cs);
	if (rc != 0) {
		snprintf(msg, msglen, "%s", tjGetErrorStr2(t));
	}
	tjDestroy(t);
	return rc;
}
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// turboBuiltIn says whether this build decodes JPEGs with libjpeg-turbo.
const turboBuiltIn = true

// turboScales are the DCT scaling factors used, as eighths, smallest first.
// libjpeg-turbo decodes at any M/8, but only 1/8, 2/8 and 4/8 have SIMD
// inverse DCTs (and full size, 8/8); the others are plain C, slower than a
// full-size decode at 7/8 or 6/8, and their sharper, unfiltered DCT-domain
// resampling moves a 500×375 photo's pixels as much as the shrink itself
// (mean squared difference from Go's decode 7.9 instead of 0.95 over the
// sample photos). A 12-megapixel photo decodes at 1/8 either way.
var turboScales = [...]int{1, 2, 4, 8}

// turboDecode decodes a JPEG at the smallest DCT scale of turboScales
// whose sides both stay at least minSide (the full size when the photo is smaller), as RGB.
// It returns errNotTurbo, without decoding, for CMYK and YCCK files, which
// keep Go's decoder and its colour conversion.
func turboDecode(data []byte, minSide int) (*RGB, error) {
	return turboDecodeWith(data, minSide, true)
}

// turboDecodeWith is turboDecode, taking decodeEighth's path where it can
// when eighth is set, and always libjpeg-turbo's otherwise (for tests, and
// for LoadFile, which has tried decodeEighth first).
func turboDecodeWith(data []byte, minSide int, eighth bool) (*RGB, error) {
	if len(data) == 0 {
		return nil, io.ErrUnexpectedEOF
	}
	var msg [256]C.char
	var w, h, cs C.int
	p := (*C.uchar)(unsafe.Pointer(&data[0]))
	if C.header(p, C.ulong(len(data)), &w, &h, &cs, &msg[0], C.int(len(msg))) != 0 {
		return nil, turboError(C.GoString(&msg[0]), false, data)
	}
	if cs == C.TJCS_CMYK || cs == C.TJCS_YCCK {
		return nil, errNotTurbo
	}
	if w <= 0 || h <= 0 {
		// A stream of tables only (SOI and nothing else passes for
		// one): the header checks refuse it first, but not every
		// caller makes them (FuzzEighth).
		return nil, fmt.Errorf("%w: libjpeg-turbo: no image in the JPEG stream", io.ErrUnexpectedEOF)
	}
	sw, sh := turboScaled(int(w), int(h), minSide)
	if eighth && cs == C.TJCS_YCbCr && sw == (int(w)+7)/8 && sh == (int(h)+7)/8 {
		// At 1/8 scale skipping the AC coefficients is the work; the
		// files decodeEighth does not take come through here.
		if m, ok := decodeEighth(data); ok && m.Width == sw && m.Height == sh {
			return m, nil
		}
	}
	out := &RGB{Width: sw, Height: sh, Pix: make([]uint8, 3*sw*sh)}
	var warning C.int
	if C.decode(p, C.ulong(len(data)), (*C.uchar)(unsafe.Pointer(&out.Pix[0])),
		C.int(sw), C.int(sh), &msg[0], C.int(len(msg)), &warning) != 0 {
		return nil, turboError(C.GoString(&msg[0]), warning != 0, data)
	}
	return out, nil
}

// turboError describes libjpeg-turbo's failure. A warning stops the
// decoding (TJFLAG_STOPONWARNING) where the data runs out or breaks, and a
// file without its end marker was cut short: both say so as Go's decoder
// does, with io.ErrUnexpectedEOF.
func turboError(msg string, warning bool, data []byte) error {
	err := fmt.Errorf("libjpeg-turbo: %s", msg)
	if warning || !bytes.HasSuffix(bytes.TrimRight(data, "\x00"), []byte{0xFF, 0xD9}) {
		return fmt.Errorf("%w: %w", io.ErrUnexpectedEOF, err)
	}
	return err
}

// turboScaled returns the size libjpeg-turbo decodes a w×h JPEG to at the
// smallest scale of turboScales that keeps both sides at least minSide,
// rounding up as TJSCALED does.
func turboScaled(w, h, minSide int) (int, int) {
	for _, m := range turboScales {
		sw, sh := (w*m+7)/8, (h*m+7)/8
		if sw >= minSide && sh >= minSide || m == 8 {
			return sw, sh
		}
	}
	return w, h
}

var errNotTurbo = errors.New("not decoded by libjpeg-turbo")
