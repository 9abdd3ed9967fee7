package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/clasifica/clasifica/internal/filelock"
)

// ErrBusy is what the errors of changes that gave up waiting for another
// Clasifica changing the same file match (errors.Is): the app and the
// command line, or two windows, at once, one of them stuck. The message
// names the lock file and what holds it.
var ErrBusy = filelock.ErrBusy

// lockFile takes the inter-process lock of one of Clasifica's own files:
// file's lock file, file+".lock" beside it (never in a photo folder, and
// never deleted, see filelock). doing says what the holder is doing, for
// the error when it holds on for longer than wait (0: filelock.Patience); that
// error is not a cancellation (IsCancel), so front ends show it.
func lockFile(file string, wait time.Duration, doing string) (*filelock.Lock, error) {
	if wait <= 0 {
		wait = filelock.Patience
	}
	l, err := filelock.Acquire(context.Background(), file+".lock", wait)
	if errors.Is(err, filelock.ErrBusy) {
		return nil, fmt.Errorf("another Clasifica is %s and has not finished: %w", doing, err)
	}
	return l, err
}

// setAside renames one of Clasifica's own files that this build cannot
// read, so that nothing in it is lost, to a name that says why and when:
// file.v<version>-<time> when a later version wrote it (later), else
// file.damaged-<time>; never over a file set aside before. The caller
// holds file's lock.
func setAside(file string, later bool, version int) (string, error) {
	what := "damaged"
	if later {
		what = fmt.Sprintf("v%d", version)
	}
	base := fmt.Sprintf("%s.%s-%s", file, what, time.Now().UTC().Format("20060102T150405"))
	kept := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(kept); errors.Is(err, fs.ErrNotExist) {
			break
		}
		kept = fmt.Sprintf("%s-%d", base, i)
	}
	return kept, os.Rename(file, kept)
}
