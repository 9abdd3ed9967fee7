package filelock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/mltest"
)

// holdEnv, when set to a lock file, makes the test binary a helper
// process that takes that lock, says "locked" on stdout and holds it until
// its stdin closes (or it is killed).
const holdEnv = "FILELOCK_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		l, err := Acquire(context.Background(), path, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n') // until told, or stdin closes
		if err := l.Unlock(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holder starts a helper process holding the lock on path, and returns
// once it holds it; release lets it go.
func holder(t *testing.T, path string) (cmd *exec.Cmd, release func()) {
	t.Helper()
	cmd, in := mltest.HelperProcess(t, nil, []string{holdEnv + "=" + path}, "locked")
	return cmd, func() { in.Close() }
}

// A second lock on the file, in this process or another, is refused
// while the first is held, and names the holder; once released, it is
// granted, and the file stays.
func TestTryLock(t *testing.T) {
	for _, tc := range []struct {
		name string
		hold func(t *testing.T, path string) (pid int, release func())
	}{
		{"this process", func(t *testing.T, path string) (int, func()) {
			l, err := TryLock(path)
			if err != nil {
				t.Fatal(err)
			}
			return os.Getpid(), func() {
				if err := l.Unlock(); err != nil {
					t.Error(err)
				}
			}
		}},
		{"another process", func(t *testing.T, path string) (int, func()) {
			cmd, release := holder(t, path)
			return cmd.Process.Pid, func() {
				release()
				if err := cmd.Wait(); err != nil {
					t.Errorf("helper process: %v", err)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "locks", "decisions.lock")
			pid, release := tc.hold(t, path)
			_, err := TryLock(path)
			var busy *BusyError
			if !errors.As(err, &busy) || !errors.Is(err, ErrBusy) {
				t.Fatalf("TryLock while held: %v, want a *BusyError", err)
			}
			if want := fmt.Sprintf("pid %d: ", pid); busy.File != path || !strings.HasPrefix(busy.Holder, want) {
				t.Errorf("BusyError names %s held by %q; want %s held by %q…", busy.File, busy.Holder, path, want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the lock file", err)
			}
			release()
			l, err := TryLock(path)
			if err != nil {
				t.Fatalf("TryLock after release: %v", err)
			}
			if !l.Excludes() {
				t.Error("a lock on a local file system does not exclude")
			}
			if err := l.Unlock(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("the lock file is gone after Unlock: %v", err)
			}
			if err := l.Unlock(); err != nil {
				t.Errorf("a second Unlock: %v", err)
			}
		})
	}
}

// Acquire waits while another process holds the lock and gets it once
// that one lets go.
func TestAcquireWaitsForAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.lock")
	cmd, release := holder(t, path)
	got := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		close(started)
		l, err := Acquire(ctx, path, 0)
		if err == nil {
			err = l.Unlock()
		}
		got <- err
	}()
	<-started
	select {
	case err := <-got:
		t.Fatalf("Acquire returned (%v) while the helper process held the lock", err)
	case <-time.After(50 * time.Millisecond): // proves nothing if short; the helper holds until released anyway
	}
	release()
	if err := <-got; err != nil {
		t.Fatalf("Acquire after the holder let go: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("helper process: %v", err)
	}
}

// A holder killed with SIGKILL leaves no lock behind: the kernel
// releases it.
func TestKilledHolderReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.lock")
	cmd, _ := holder(t, path)
	if _, err := TryLock(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("TryLock while the helper holds it: %v, want busy", err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	cmd.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := Acquire(ctx, path, 0)
	if err != nil {
		t.Fatalf("lock after its holder was killed: %v", err)
	}
	l.Unlock()
}

// Waiting ends with the patience or the context: either gives a
// *BusyError naming the file and the holder; only the context's end wraps
// its error (a cancel), and patience run out says how long it waited.
func TestAcquireGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		patience time.Duration
		want     error // the context's error, or nil
	}{
		{"patience", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, 20 * time.Millisecond, nil},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, 0, context.DeadlineExceeded},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, time.Hour, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			held, err := TryLock(path)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Unlock()
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err = Acquire(ctx, path, tc.patience)
			var busy *BusyError
			if !errors.As(err, &busy) || !errors.Is(err, ErrBusy) {
				t.Fatalf("Acquire: %v; want a *BusyError", err)
			}
			cancelled := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
			if tc.want != nil && !errors.Is(err, tc.want) || tc.want == nil && cancelled {
				t.Errorf("Acquire: %v wraps the context's error: %v, want %v", err, cancelled, tc.want)
			}
			if (busy.Waited > 0) != (tc.want == nil) {
				t.Errorf("Waited %v, want it set only when patience ran out", busy.Waited)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, fmt.Sprintf("pid %d", os.Getpid())) {
				t.Errorf("error %q does not name the file and its holder", msg)
			}
		})
	}
}

// Many goroutines, each with its own Lock, increment a counter kept in a
// file: with the lock around each read-modify-write, none is lost.
func TestLocksSerialise(t *testing.T) {
	dir := t.TempDir()
	lock, counter := filepath.Join(dir, "counter.lock"), filepath.Join(dir, "counter")
	const workers, each = 4, 50
	mltest.AtOnce(t, workers, func(int) error {
		for range each {
			l, err := Acquire(context.Background(), lock, 0)
			if err != nil {
				return err
			}
			n := 0
			if b, err := os.ReadFile(counter); err == nil {
				fmt.Sscan(string(b), &n)
			}
			err = os.WriteFile(counter, []byte(fmt.Sprint(n+1)), 0o644)
			l.Unlock()
			if err != nil {
				return err
			}
		}
		return nil
	})
	b, _ := os.ReadFile(counter)
	if string(b) != fmt.Sprint(workers*each) {
		t.Errorf("counter %s, want %d: increments were lost", b, workers*each)
	}
}

// A lock file that cannot be created is an error naming it.
func TestLockUncreatable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(file, "x.lock") // under a file, not a folder
	if _, err := TryLock(path); err == nil || errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), path) {
		t.Errorf("TryLock under a file: %v; want an error naming %s", err, path)
	}
}

// BenchmarkLockUnlock is the cost a locked change adds: taking and
// releasing a free lock (open, flock, the holder's line, close).
func BenchmarkLockUnlock(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.lock")
	for b.Loop() {
		l, err := TryLock(path)
		if err != nil {
			b.Fatal(err)
		}
		l.Unlock()
	}
}

// TestSharedLock checks the shared lock against the exclusive one: shared
// holders share it, the exclusive lock waits for the last of them, and
// shared ones wait for the exclusive one.
func TestSharedLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "features.lock")
	a, err := TryLockShared(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := TryLockShared(path)
	if err != nil {
		t.Fatalf("a second shared lock: %v", err)
	}
	if _, err := TryLock(path); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("exclusive lock while shared ones are held: %v, want busy, naming this process", err)
	}
	a.Unlock()
	if _, err := TryLock(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("exclusive lock while one shared lock is held: %v, want busy", err)
	}
	b.Unlock()
	x, err := TryLock(path)
	if err != nil {
		t.Fatalf("exclusive lock once the shared ones are released: %v", err)
	}
	if _, err := TryLockShared(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("shared lock while the exclusive one is held: %v, want busy", err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		x.Unlock()
	}()
	s, err := AcquireShared(context.Background(), path, time.Minute)
	if err != nil {
		t.Fatalf("shared lock after the exclusive one is released: %v", err)
	}
	s.Unlock()
}
