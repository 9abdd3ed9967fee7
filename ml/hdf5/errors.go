package hdf5

import (
	"errors"
	"fmt"
)

// unsupportedError reports a feature of the file outside the subset this
// package reads.
type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string { return "unsupported: " + e.what }
func (e *unsupportedError) Unwrap() error { return errors.ErrUnsupported }

func unsupported(format string, args ...any) error {
	return &unsupportedError{what: fmt.Sprintf(format, args...)}
}

// pathError says which object an error is about.
type pathError struct {
	kind string // "group", "dataset", "attribute", ...
	path string
	err  error
}

func (e *pathError) Error() string {
	var u *unsupportedError
	if errors.As(e.err, &u) {
		return "hdf5: unsupported: " + u.what + " in " + e.kind + " " + e.path
	}
	return "hdf5: " + e.kind + " " + e.path + ": " + e.err.Error()
}

func (e *pathError) Unwrap() error { return e.err }

// wrapErr adds the object to err, unless err already names one.
func wrapErr(err error, kind, path string) error {
	if err == nil {
		return nil
	}
	var pe *pathError
	if errors.As(err, &pe) {
		return err
	}
	return &pathError{kind: kind, path: path, err: err}
}

// errTruncated is what a decoder reports when a structure is shorter than
// its fields say.
var errTruncated = errors.New("truncated")
