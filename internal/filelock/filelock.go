// Package filelock serialises changes to one of Clasifica's own files
// between processes: the desktop app and the command line, or two of
// either, changing a decision record or the move journal at once would
// otherwise each read the file, change it and write it back, and the
// second write would drop the first one's change.
//
// A lock is the operating system's advisory lock on a lock file
// (flock(2) on Unix, LockFileEx on Windows), so the kernel releases it
// when its holder exits, however it ends: a crash or a kill -9 never
// leaves a lock behind. Lock files live in Clasifica's own folders, never
// in a person's photo folder, and are never deleted: removing a lock file
// while another process waits on it would let two processes each hold "the"
// lock on different files. The holder writes who it is into the file, so
// that a process that cannot get the lock can say what holds it.
//
// The lock excludes other Lock values too, in the same process as in
// others; it does not replace a mutex for goroutines sharing one value.
//
// A shared lock (TryLockShared, AcquireShared) marks files as in use:
// any number of holders share it, and none while the exclusive lock is
// held, nor the exclusive lock while any holds it. A training run reading
// the feature cache holds it shared; clearing the cache takes it
// exclusively, so that the files are not removed from under the run.
//
// On a file system without locks (some network shares) a lock is granted
// without excluding anyone (Lock.Excludes reports it): Clasifica then
// works as it did before it locked, rather than refusing to save the
// person's decisions at all.
package filelock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrBusy is what a *BusyError matches with errors.Is: another process
// (or another Lock in this one) holds the lock.
var ErrBusy = errors.New("held by another process")

// BusyError reports a lock that another process held for as long as the
// caller could wait (TryLock: at all).
type BusyError struct {
	// File is the lock file.
	File string
	// Holder says what holds it, as the holder wrote it ("pid 1234:
	// clasifica dataset leave-out …, since …"); empty when unknown.
	Holder string
	// Waited is how long Acquire waited before giving up, when it gave
	// up because its wait was over.
	Waited time.Duration
	// Err is the context's error when its context ended the wait (the
	// caller cancelled), nil otherwise.
	Err error
}

func (e *BusyError) Error() string {
	who := e.Holder
	if who == "" {
		who = "another process"
	}
	msg := fmt.Sprintf("lock %s is held by %s", e.File, who)
	if e.Waited > 0 {
		msg += fmt.Sprintf(" (waited %v)", e.Waited.Round(time.Millisecond))
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrBusy and, when the context ended the wait, its error:
// errors.Is matches ErrBusy, and context.Canceled (or DeadlineExceeded)
// only when the caller's context stopped the wait, so that a lock that
// stays busy is not taken for the person's cancel.
func (e *BusyError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrBusy}
	}
	return []error{ErrBusy, e.Err}
}

// Patience is how long Clasifica's changes wait for a lock: every holder
// keeps one for the milliseconds one change takes (one write, one move, one
// recovery), so a wait this long means the holder is stuck (a stopped
// process, a hung network drive), and the person waiting is better told so
// than left with a window that does not answer.
const Patience = 15 * time.Second

// Lock is a held lock. Unlock releases it; so does the end of the
// process.
type Lock struct {
	f        *os.File
	path     string
	excludes bool
}

// Path returns the lock file.
func (l *Lock) Path() string { return l.path }

// Excludes reports whether the lock keeps other processes out: false on
// a file system without locks, where it was granted all the same.
func (l *Lock) Excludes() bool { return l.excludes }

// errUnsupported is tryLock's answer on a file system without locks.
var errUnsupported = errors.New("the file system has no locks")

// TryLock takes the lock on the file path (created, with its folder, when
// missing) without waiting. When another holds it, the error is a
// *BusyError.
func TryLock(path string) (*Lock, error) { return tryLockPath(path, false) }

// TryLockShared is TryLock for the shared lock (see the package comment).
// The holder it names when busy is the last one to take it.
func TryLockShared(path string) (*Lock, error) { return tryLockPath(path, true) }

func tryLockPath(path string, shared bool) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	ok, err := tryLock(f, shared)
	if errors.Is(err, errUnsupported) {
		return &Lock{f: f, path: path}, nil
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		holder := readHolder(f)
		f.Close()
		return nil, &BusyError{File: path, Holder: holder}
	}
	writeHolder(f)
	return &Lock{f: f, path: path, excludes: true}, nil
}

// Back-off of Acquire between tries: a holder keeps a lock for the
// milliseconds one change takes, so the first tries come soon, and the
// wait grows to ten tries a second for a holder that takes longer.
const (
	firstWait = time.Millisecond
	maxWait   = 100 * time.Millisecond
)

// Acquire takes the lock on the file path, waiting while another holds
// it, for at most patience (0: until ctx is done). When it gives up the
// error is a *BusyError that names the holder, with Waited set when
// patience ran out and Err when ctx ended the wait. Callers that a person
// waits on give a patience, so that a holder that never lets go (a
// stopped process) gives an error rather than a hang.
func Acquire(ctx context.Context, path string, patience time.Duration) (*Lock, error) {
	return acquire(ctx, path, patience, false)
}

// AcquireShared is Acquire for the shared lock.
func AcquireShared(ctx context.Context, path string, patience time.Duration) (*Lock, error) {
	return acquire(ctx, path, patience, true)
}

func acquire(ctx context.Context, path string, patience time.Duration, shared bool) (*Lock, error) {
	start := time.Now()
	var giveUp <-chan time.Time
	if patience > 0 {
		g := time.NewTimer(patience)
		defer g.Stop()
		giveUp = g.C
	}
	wait := firstWait
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		l, err := tryLockPath(path, shared)
		var busy *BusyError
		if !errors.As(err, &busy) {
			return l, err
		}
		select {
		case <-ctx.Done():
			busy.Err = ctx.Err()
			return nil, busy
		case <-giveUp:
			busy.Waited = time.Since(start)
			return nil, busy
		case <-t.C:
		}
		wait = min(2*wait, maxWait)
		t.Reset(wait)
	}
}

// Unlock releases the lock. The file stays (see the package comment).
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	var err error
	if l.excludes {
		err = unlock(l.f)
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlock %s: %w", l.path, err)
	}
	return nil
}

// maxHolder is the length of the holder's description, padded: a
// command line can be long.
const maxHolder = 300

// writeHolder records in the lock file which process holds it, for the
// BusyError of those that wait. The line is padded to maxHolder bytes and
// written over the last holder's, never truncated first: ext4 flushes a
// file truncated to nothing when it is closed (auto_da_alloc), which made
// each lock cost a millisecond instead of microseconds. Failures are
// ignored: it is only said to people.
func writeHolder(f *os.File) {
	head := fmt.Sprintf("pid %d: ", os.Getpid())
	tail := ", since " + time.Now().Format("15:04:05")
	cmd := strings.Join(os.Args, " ")
	if room := maxHolder - len(head) - len(tail) - len("…"); len(cmd) > room {
		cmd = strings.ToValidUTF8(cmd[:room], "") + "…"
	}
	line := head + cmd + tail
	f.WriteAt([]byte(line+strings.Repeat(" ", maxHolder-len(line))+"\n"), 0)
}

// readHolder reads the holder's description; it may be the last holder's
// if the new one has not written its own yet.
func readHolder(f *os.File) string {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, maxHolder+8))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b), ""))
}
