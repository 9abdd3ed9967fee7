package onnxrt

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>

// trim hands the C heap's free memory back to the system with glibc's
// malloc_trim, looked up at run time: C libraries without it (musl) have
// nothing to do here.
static void trim(void) {
	int (*malloc_trim)(size_t) = (int (*)(size_t))dlsym(RTLD_DEFAULT, "malloc_trim");
	if (malloc_trim) {
		malloc_trim(0);
	}
}
*/
import "C"

// giveBackMemory returns the memory a closed session freed to the system.
// ONNX Runtime allocates with malloc, and glibc keeps what is freed in its
// heaps for later: after ten changes of the app's settings, each closing
// one session of the image model and opening another
// (tools/engine-memory), the process held 0.85-0.99 GB with one session
// open; trimmed after each close, 0.45-0.48 GB.
func giveBackMemory() { C.trim() }
