package photo

import "bytes"

// Format names an image file format recognised from its content.
type Format string

// The formats Clasifica decodes.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
	BMP  Format = "bmp"
	TIFF Format = "tiff"
	WebP Format = "webp"
)

// SniffLen is the number of leading bytes Sniff needs to recognise every
// format.
const SniffLen = 16

// Sniff recognises an image format from the first bytes of a file. The file
// name's extension is never consulted: photos are often misnamed (a PNG
// saved as .jpg), and the content is what decoders need to agree with.
func Sniff(header []byte) (Format, bool) {
	switch {
	case bytes.HasPrefix(header, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG, true
	case bytes.HasPrefix(header, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, true
	case bytes.HasPrefix(header, []byte("GIF87a")), bytes.HasPrefix(header, []byte("GIF89a")):
		return GIF, true
	case bytes.HasPrefix(header, []byte("BM")) && len(header) >= 14:
		return BMP, true
	case bytes.HasPrefix(header, []byte("II*\x00")), bytes.HasPrefix(header, []byte("MM\x00*")):
		return TIFF, true
	case len(header) >= 12 && bytes.Equal(header[:4], []byte("RIFF")) && bytes.Equal(header[8:12], []byte("WEBP")):
		return WebP, true
	}
	return "", false
}
