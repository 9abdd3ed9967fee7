//go:build unix

package safemove

import (
	"errors"
	"os"
	"syscall"
)

// sameDevice reports whether two folders are on one file system, where a
// link or a rename can move a file between them.
func sameDevice(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	sa, ok1 := fa.Sys().(*syscall.Stat_t)
	sb, ok2 := fb.Sys().(*syscall.Stat_t)
	if !ok1 || !ok2 {
		return false, errors.New("no device numbers")
	}
	return sa.Dev == sb.Dev, nil
}

// isCrossDevice reports the error of a link or rename across file systems.
func isCrossDevice(err error) bool { return errors.Is(err, syscall.EXDEV) }
