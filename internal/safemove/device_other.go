//go:build !unix

package safemove

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
)

// sameDevice reports whether two folders are on one volume, by their
// volume names (drive letters or UNC shares).
func sameDevice(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	bb, err := filepath.Abs(b)
	if err != nil {
		return false, err
	}
	return strings.EqualFold(filepath.VolumeName(aa), filepath.VolumeName(bb)), nil
}

// errNotSameDevice is Windows' ERROR_NOT_SAME_DEVICE.
const errNotSameDevice = syscall.Errno(17)

// isCrossDevice reports the error of a link or rename across volumes.
func isCrossDevice(err error) bool { return errors.Is(err, errNotSameDevice) }
