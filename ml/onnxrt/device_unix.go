//go:build !windows

package onnxrt

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

typedef const void *(*dev_get_api_base)(void);

// dev_loaded_api_base finds OrtGetApiBase in the library already loaded
// from path (RTLD_NOLOAD: never a second load) and calls it.
static const void *dev_loaded_api_base(const char *path, const char **why) {
	void *h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
	if (h == NULL) {
		*why = "the library is not loaded in this process";
		return NULL;
	}
	void *f = dlsym(h, "OrtGetApiBase");
	const void *base = f == NULL ? NULL : ((dev_get_api_base)f)();
	// dlopen counted one more reference; the bindings keep theirs.
	dlclose(h);
	if (f == NULL) *why = "it has no OrtGetApiBase";
	return base;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// loadedAPIBase returns the OrtApiBase of the library loaded from path.
func loadedAPIBase(path string) (uintptr, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var why *C.char
	base := C.dev_loaded_api_base(cpath, &why)
	if base == nil {
		if why == nil {
			return 0, errors.New("OrtGetApiBase returned nothing")
		}
		return 0, errors.New(C.GoString(why))
	}
	return uintptr(unsafe.Pointer(base)), nil
}
