//go:build linux && cgo && !noturbojpeg

package photo

import "testing"

// EighthMatches is eighthMatches for the external tests, which can import
// the packages that import this one.
func EighthMatches(t *testing.T, name string, data []byte) bool { return eighthMatches(t, name, data) }

// Eighth decodes data with decodeEighth, for the external benchmarks, and
// says whether it took the file.
func Eighth(data []byte) bool {
	_, ok := decodeEighth(data)
	return ok
}
