package photo

import (
	"bytes"
	"encoding/binary"
)

// The metadata parsers below read untrusted bytes: every offset and length
// read from the file is checked against the slice before use, and anything
// malformed means "no orientation" rather than an error, because a photo
// with damaged metadata is still a photo.

// orientationOf returns the EXIF orientation recorded in an image file's
// metadata, or 1 (as stored) when there is none.
func orientationOf(f Format, data []byte) orientation {
	switch f {
	case JPEG:
		return jpegOrientation(data)
	case PNG:
		return pngOrientation(data)
	case WebP:
		return webpOrientation(data)
	case TIFF:
		// A TIFF file is its own EXIF block: IFD0 holds the
		// Orientation tag, which x/image/tiff ignores.
		return tiffOrientation(data)
	}
	return 1
}

var exifHeader = []byte("Exif\x00\x00")

// jpegOrientation looks for an APP1 Exif segment among the markers that
// precede the first scan.
func jpegOrientation(b []byte) orientation {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	for i := 2; i+2 <= len(b); {
		if b[i] != 0xFF {
			return 1
		}
		m := b[i+1]
		if m == 0xFF { // fill byte before a marker
			i++
			continue
		}
		i += 2
		switch {
		case m == 0x01, m >= 0xD0 && m <= 0xD8:
			continue // TEM, RSTn, SOI: no length
		case m == 0xD9, m == 0xDA:
			return 1 // EOI or start of scan: metadata is over
		}
		if i+2 > len(b) {
			return 1
		}
		n := int(b[i])<<8 | int(b[i+1]) // includes the two length bytes
		if n < 2 || n > len(b)-i {
			return 1
		}
		if seg := b[i+2 : i+n]; m == 0xE1 && bytes.HasPrefix(seg, exifHeader) {
			return tiffOrientation(seg[len(exifHeader):])
		}
		i += n
	}
	return 1
}

// pngOrientation looks for an eXIf chunk anywhere before IEND. The PNG
// extension asks writers to put it before IDAT, but not all do.
func pngOrientation(b []byte) orientation {
	const sigLen = 8
	for i := sigLen; i+8 <= len(b); {
		n := binary.BigEndian.Uint32(b[i:])
		typ := string(b[i+4 : i+8])
		i += 8
		if uint64(n)+4 > uint64(len(b)-i) { // data and CRC
			return 1
		}
		switch typ {
		case "eXIf":
			return tiffOrientation(bytes.TrimPrefix(b[i:i+int(n)], exifHeader))
		case "IEND":
			return 1
		}
		i += int(n) + 4
	}
	return 1
}

// webpOrientation looks for an EXIF chunk in an extended-format WebP file.
func webpOrientation(b []byte) orientation {
	const headerLen = 12 // "RIFF", size, "WEBP"
	for i := headerLen; i+8 <= len(b); {
		typ := string(b[i : i+4])
		n := binary.LittleEndian.Uint32(b[i+4:])
		i += 8
		if uint64(n) > uint64(len(b)-i) {
			return 1
		}
		if typ == "EXIF" {
			return tiffOrientation(bytes.TrimPrefix(b[i:i+int(n)], exifHeader))
		}
		i += int(n) + int(n&1) // chunks are padded to an even length
	}
	return 1
}

// webpAnimated reports whether a WebP file's VP8X chunk declares an
// animation, which x/image/webp cannot decode.
func webpAnimated(b []byte) bool {
	const animationBit = 1 << 1
	return len(b) > 20 && string(b[12:16]) == "VP8X" && b[20]&animationBit != 0
}

// tiffOrientation reads the Orientation tag (0x0112) from IFD0 of a TIFF
// structure: a TIFF file, or the payload of an EXIF block.
func tiffOrientation(b []byte) orientation {
	if len(b) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := uint64(bo.Uint32(b[4:]))
	if off+2 > uint64(len(b)) {
		return 1
	}
	n := uint64(bo.Uint16(b[off:]))
	ifd := b[off+2:]
	if n*12 > uint64(len(ifd)) {
		n = uint64(len(ifd)) / 12 // read the entries that are there
	}
	for e := range n {
		entry := ifd[12*e : 12*e+12]
		if bo.Uint16(entry) != 0x0112 {
			continue
		}
		var v uint32
		switch typ := bo.Uint16(entry[2:]); typ {
		case 3: // SHORT, as the specification says
			v = uint32(bo.Uint16(entry[8:]))
		case 4: // LONG, written by a few tools
			v = bo.Uint32(entry[8:])
		}
		if v >= 1 && v <= 8 {
			return orientation(v)
		}
		return 1
	}
	return 1
}
