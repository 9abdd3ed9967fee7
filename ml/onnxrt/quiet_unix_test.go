//go:build linux || darwin || freebsd

package onnxrt

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestQuiet checks that what native code writes to file descriptor 2
// during quiet is captured, not shown, and that the stream is back
// afterwards.
func TestQuiet(t *testing.T) {
	var before unix.Stat_t
	if err := unix.Fstat(2, &before); err != nil {
		t.Skip("no standard error here:", err)
	}
	got := quiet(func() {
		unix.Write(2, []byte("error: XDG_RUNTIME_DIR is invalid or not set in the environment.\n"))
	})
	if got != "error: XDG_RUNTIME_DIR is invalid or not set in the environment." {
		t.Errorf("captured %q", got)
	}
	var after unix.Stat_t
	if err := unix.Fstat(2, &after); err != nil || after.Dev != before.Dev || after.Ino != before.Ino {
		t.Errorf("standard error is not restored (%v)", err)
	}
}
