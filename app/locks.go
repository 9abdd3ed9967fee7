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
// file's lock file, lockPath(file) beside it (never in a photo folder, and
// never deleted, see filelock). doing says what the holder is doing, for
// the error when it holds on for longer than wait (0: filelock.Patience); that
// error is not a cancellation (IsCancel), so front ends show it.
func lockFile(file string, wait time.Duration, doing string) (*filelock.Lock, error) {
	return takeLock(context.Background(), filelock.Acquire, file, wait, doing)
}

// shareFile takes file's lock shared, as lockFile takes it exclusively:
// it marks file as in use, for as many holders as take it, against one
// that takes it exclusively to remove it. doing says what an exclusive
// holder is doing. ctx's end stops the wait, and is then the error.
func shareFile(ctx context.Context, file string, wait time.Duration, doing string) (*filelock.Lock, error) {
	return takeLock(ctx, filelock.AcquireShared, file, wait, doing)
}

// takeLock is lockFile and shareFile, with acquire the kind of lock.
func takeLock(ctx context.Context, acquire func(context.Context, string, time.Duration) (*filelock.Lock, error), file string, wait time.Duration, doing string) (*filelock.Lock, error) {
	if wait <= 0 {
		wait = filelock.Patience
	}
	l, err := acquire(ctx, lockPath(file), wait)
	if errors.Is(err, filelock.ErrBusy) && !IsCancel(err) {
		return nil, fmt.Errorf("another Clasifica is %s and has not finished: %w", doing, err)
	}
	return l, err
}

// lockPath is the lock file of one of Clasifica's own files (or folders).
func lockPath(file string) string { return file + ".lock" }

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
