package photo

import (
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"strconv"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// An ErrorKind says why a photo could not be loaded, coarsely enough that a
// summary can count skipped files by kind ("3 files were not images").
type ErrorKind int

// The kinds of failure. The zero ErrorKind is not used.
const (
	// Unreadable: the file could not be opened or read (missing,
	// permission denied, a directory, an I/O error).
	Unreadable ErrorKind = iota + 1
	// Empty: the file has no bytes.
	Empty
	// Unsupported: the content is not an image in a format Clasifica
	// decodes, or it uses a feature the decoder does not implement
	// (arithmetic-coded JPEG, animated WebP, ...).
	Unsupported
	// Corrupt: the file claims to be an image but its data is truncated or
	// malformed.
	Corrupt
	// TooLarge: the file or its pixel dimensions exceed the Limits, or
	// decoding it would take unreasonable work (see Limits).
	TooLarge
)

var kindNames = [...]string{
	Unreadable:  "unreadable",
	Empty:       "empty file",
	Unsupported: "not an image or unsupported format",
	Corrupt:     "truncated or corrupt",
	TooLarge:    "too large",
}

// String returns a short lower-case description, such as "truncated or
// corrupt", suitable for a summary line.
func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// An Error reports a photo that could not be loaded. Every error returned by
// this package is an *Error.
type Error struct {
	Path string    // file name; empty when decoding from an io.Reader
	Kind ErrorKind // why, coarsely
	Err  error     // the underlying error, never nil
}

// Error reads like "decode /x/y.jpg: truncated or corrupt: unexpected EOF".
func (e *Error) Error() string {
	s := "decode"
	if e.Path != "" {
		s += " " + e.Path
	}
	msg := "<nil>"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return s + ": " + e.Kind.String() + ": " + msg
}

// Unwrap returns the underlying error, so that errors.Is(err,
// fs.ErrPermission) and similar tests work.
func (e *Error) Unwrap() error { return e.Err }

func newError(kind ErrorKind, err error) *Error {
	return &Error{Kind: kind, Err: err}
}

func errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// withPath fills in the file name of an *Error made by code that does not
// know it.
func withPath(err error, path string) error {
	if e, ok := err.(*Error); ok {
		e.Path = path
	}
	return err
}

// classifyDecode sorts an error returned by an image decoder. Decoders
// report "valid but not implemented" with their own UnsupportedError types;
// everything else a decoder rejects is a damaged file. Decoders read from
// memory here, so no I/O error reaches this function.
func classifyDecode(err error) ErrorKind {
	var (
		jpegUnsupported jpeg.UnsupportedError
		pngUnsupported  png.UnsupportedError
		tiffUnsupported tiff.UnsupportedError
	)
	switch {
	case errors.As(err, &jpegUnsupported),
		errors.As(err, &pngUnsupported),
		errors.As(err, &tiffUnsupported),
		errors.Is(err, bmp.ErrUnsupported):
		return Unsupported
	}
	// io.ErrUnexpectedEOF (truncated), FormatErrors, checksum and
	// decompression errors.
	return Corrupt
}
