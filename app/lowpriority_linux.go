package app

import (
	"runtime"
	"syscall"
)

// lowerPriority makes the calling goroutine's thread, and the threads it
// starts from now on (ONNX Runtime's session threads), run at nice 10:
// on Linux a thread's priority is its own, and new threads inherit it.
// The goroutine keeps the thread to itself, which ends with it, so no
// other goroutine ever runs at that priority.
func lowerPriority() {
	runtime.LockOSThread()
	// PRIO_PROCESS with who 0 is the calling thread on Linux. Failing
	// only leaves the check at normal priority.
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, 0, 10)
}
