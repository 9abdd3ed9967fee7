// Package photo turns untrusted image files into the RGB pixels a network
// reads: it recognises the format from the content, refuses files whose
// dimensions would exhaust memory before decoding them, applies the EXIF
// orientation, converts any colour model to 8-bit RGB and resizes with an
// antialiasing filter.
//
// LoadFile is the path every photo takes on its way to the network: it
// returns a size×size RGB image, squashed as Keras' load_img does, and
// RGB.AppendFloat32 turns it into a backbone's input values. DecodeFile and
// Thumbnail serve display.
//
// Formats are JPEG, PNG, GIF (first frame), BMP, TIFF and WebP (still
// images), decoded by the standard library and golang.org/x/image. The
// orientation is read from JPEG APP1 Exif segments, PNG eXIf chunks, WebP
// EXIF chunks and TIFF's own Orientation tag. Transparency is composited
// over white, as an image viewer shows it; 16-bit samples are truncated to
// 8 bits and CMYK is converted as image/color does.
//
// Every error is an *Error whose Kind sorts the failure for a summary of
// skipped files. The package keeps no state: its functions may be called
// from many goroutines at once.
package photo
