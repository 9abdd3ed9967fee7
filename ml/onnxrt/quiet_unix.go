//go:build linux || darwin || freebsd

package onnxrt

import (
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// quietMu serialises quiet: the standard error stream is one per process.
var quietMu sync.Mutex

// quiet runs f with the process's standard error (file descriptor 2, where
// the native library and the GPU drivers it loads write) pointed at a
// temporary file, and returns what was written there. Probing a GPU
// provider on a machine without one makes the drivers print errors that
// are not errors of Clasifica's ("error: XDG_RUNTIME_DIR is invalid or not
// set", Vulkan adapter warnings); the provider's status says what matters.
// Where the stream cannot be redirected, f runs as it is. Other goroutines
// that write to standard error meanwhile (for a second or two while a
// driver starts) write into the file too: what was captured is returned.
func quiet(f func()) string {
	quietMu.Lock()
	defer quietMu.Unlock()
	tmp, err := os.CreateTemp("", "clasifica-probe-*.log")
	if err != nil {
		f()
		return ""
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	saved, err := unix.Dup(2)
	if err != nil {
		f()
		return ""
	}
	defer unix.Close(saved)
	if err := unix.Dup2(int(tmp.Fd()), 2); err != nil {
		f()
		return ""
	}
	func() {
		defer unix.Dup2(saved, 2)
		f()
	}()
	data, _ := os.ReadFile(tmp.Name())
	return strings.TrimSpace(string(data))
}
