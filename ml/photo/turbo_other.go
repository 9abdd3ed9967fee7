//go:build !(linux && cgo) || noturbojpeg

package photo

import "errors"

// turboBuiltIn says whether this build decodes JPEGs with libjpeg-turbo:
// only Linux builds link it (see turbo.go); elsewhere Go's decoder decodes
// every JPEG.
const turboBuiltIn = false

func turboDecode([]byte, int) (*RGB, error) { return nil, errNotTurbo }

var errNotTurbo = errors.New("libjpeg-turbo is not built in")
