package onnxrt

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <limits.h>
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

// keep sets glibc's thresholds (mallopt's M_MMAP_THRESHOLD, -3, and
// M_TRIM_THRESHOLD, -1): blocks up to 32 MB (glibc's largest threshold)
// come from its heaps, and with on the heaps keep what is freed; without,
// they give back what exceeds 64 MB at their top.
static void keep(int on) {
	int (*mallopt)(int, int) = (int (*)(int, int))dlsym(RTLD_DEFAULT, "mallopt");
	if (mallopt) {
		mallopt(-3, 32 << 20);
		mallopt(-1, on ? INT_MAX : 64 << 20);
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

// keepFreedMemory has glibc keep the memory runs free (on), or give it
// back again as it does after large blocks were freed (off); see
// HoldMemory.
func keepFreedMemory(on bool) {
	if on {
		C.keep(1)
	} else {
		C.keep(0)
	}
}
