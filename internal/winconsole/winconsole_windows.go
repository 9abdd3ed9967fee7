//go:build windows

package winconsole

import (
	"log"
	"os"
	"syscall"
)

// attachParentProcess is ATTACH_PARENT_PROCESS, (DWORD)-1.
const attachParentProcess = ^uint32(0)

func init() { attach() }

// attach runs before main: os.Stdout and os.Stderr must be right before
// anything writes to them.
func attach() {
	outOK, errOK := usable(syscall.STD_OUTPUT_HANDLE), usable(syscall.STD_ERROR_HANDLE)
	if outOK && errOK {
		return
	}
	kernel32 := syscall.NewLazyDLL("kernel32.dll")
	if r, _, _ := kernel32.NewProc("AttachConsole").Call(uintptr(attachParentProcess)); r == 0 {
		return // started from Explorer or a shortcut: there is no console, and none is wanted
	}
	setStdHandle := kernel32.NewProc("SetStdHandle")
	reopen := func(std int, f **os.File) {
		c, err := os.OpenFile("CONOUT$", os.O_RDWR, 0)
		if err != nil {
			return
		}
		*f = c
		// Also for the Go runtime's own messages (a panic), which write to
		// the process's standard handle rather than to os.Stderr.
		setStdHandle.Call(uintptr(uint32(std)), c.Fd())
	}
	if !outOK {
		reopen(syscall.STD_OUTPUT_HANDLE, &os.Stdout)
	}
	if !errOK {
		reopen(syscall.STD_ERROR_HANDLE, &os.Stderr)
		// The standard logger took os.Stderr when it was initialised.
		log.SetOutput(os.Stderr)
	}
}

// usable reports whether a standard handle leads somewhere: a GUI program
// started from a console has none, one started with a redirection has a
// file or a pipe.
func usable(std int) bool {
	h, err := syscall.GetStdHandle(std)
	if err != nil || h == 0 || h == syscall.InvalidHandle {
		return false
	}
	t, err := syscall.GetFileType(h)
	return err == nil && t != syscall.FILE_TYPE_UNKNOWN
}
