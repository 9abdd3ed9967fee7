//go:build !(linux || darwin || freebsd)

package onnxrt

// quiet runs f. On Windows the native library's messages go to a console
// that a windowed app does not have, and the command line's are left as
// they are.
func quiet(f func()) string {
	f()
	return ""
}
