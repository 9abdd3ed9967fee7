//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package filelock

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// The errors of file systems without locks grant the lock without
// exclusion; a lock held elsewhere, or any other error, does not.
func TestUnsupported(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{unix.ENOLCK, true},
		{unix.EOPNOTSUPP, true},
		{&os.SyscallError{Syscall: "flock", Err: unix.ENOLCK}, true},
		{unix.EWOULDBLOCK, false},
		{unix.EBADF, false},
		{unix.EIO, false},
	} {
		if got := unsupported(tc.err); got != tc.want {
			t.Errorf("unsupported(%v) = %v, want %v", fmt.Sprint(tc.err), got, tc.want)
		}
	}
}
