//go:build windows

package onnxrt

import (
	"fmt"
	"syscall"
)

// loadedAPIBase returns the OrtApiBase of the library loaded from path.
// LoadLibrary of a module already loaded from the same path returns that
// module (one more reference, given back here), never a second copy.
func loadedAPIBase(path string) (uintptr, error) {
	h, err := syscall.LoadLibrary(path)
	if err != nil {
		return 0, fmt.Errorf("find the loaded library: %w", err)
	}
	defer syscall.FreeLibrary(h)
	f, err := syscall.GetProcAddress(h, "OrtGetApiBase")
	if err != nil {
		return 0, fmt.Errorf("find OrtGetApiBase: %w", err)
	}
	base, _, _ := syscall.SyscallN(f)
	if base == 0 {
		return 0, fmt.Errorf("OrtGetApiBase returned nothing")
	}
	return base, nil
}
