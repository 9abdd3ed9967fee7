package dataset

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	root := t.TempDir()
	syntheticTree(t, root, []int{0, 1}, 0, 150)
	writeFile(t, filepath.Join(root, "class0", "notes.txt"), []byte("not a photo"))
	// calls is updated without synchronisation: the race detector fails
	// the test if Progress is ever called from two goroutines at once.
	var calls []int
	total := -1
	d := mustScan(t, root, Options{Workers: 4, Progress: func(done, n int) {
		calls = append(calls, done)
		if total != -1 && n != total {
			t.Errorf("total changed from %d to %d", total, n)
		}
		total = n
	}})
	if total != 301 {
		t.Errorf("total = %d, want 301 (every listed file)", total)
	}
	if len(calls) != total+1 {
		t.Fatalf("%d calls, want %d", len(calls), total+1)
	}
	for i, done := range calls {
		if done != i {
			t.Fatalf("call %d reported %d done", i, done)
		}
	}
	if len(d.Items) != 300 {
		t.Errorf("%d items", len(d.Items))
	}
}

func TestCancelBeforeScan(t *testing.T) {
	root := t.TempDir()
	syntheticTree(t, root, []int{0, 1}, 0, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := Scan(ctx, root, Options{})
	if !errors.Is(err, context.Canceled) || d != nil {
		t.Errorf("Scan = %v, %v; want context.Canceled", d, err)
	}
}

func TestCancelDuringHashing(t *testing.T) {
	root := t.TempDir()
	syntheticTree(t, root, []int{0, 1}, 0, 500)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	last := 0
	d, err := Scan(ctx, root, Options{Workers: 2, Progress: func(done, total int) {
		last = done
		if done == 20 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || d != nil {
		t.Fatalf("Scan = %v, %v; want context.Canceled", d, err)
	}
	if last != 20 {
		t.Errorf("progress reported %d after cancelling at 20", last)
	}
}

// endless is a photo that never ends, like a file on a stalled network
// share: only cancellation stops reading it. Each Read calls read, if set.
type endless struct {
	started bool
	read    func()
}

func (e *endless) Read(p []byte) (int, error) {
	if e.read != nil {
		e.read()
	}
	if !e.started {
		e.started = true
		return copy(p, []byte{0xFF, 0xD8, 0xFF, 0xE0}), nil
	}
	clear(p)
	return len(p), nil
}

func (e *endless) Close() error { return nil }

// TestCancelInsideAFile cancels while endless files are being read: Scan
// can only return if cancellation reaches inside a file. The minute's
// deadline only turns a hang into a failure.
func TestCancelInsideAFile(t *testing.T) {
	root := t.TempDir()
	syntheticTree(t, root, []int{0, 1}, 0, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reads atomic.Int64
	read := func() {
		if reads.Add(1) == 100 {
			cancel()
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := scan(ctx, root, Options{Workers: 2}, hooks{open: func(string) (io.ReadCloser, error) {
			return &endless{read: read}, nil
		}})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Scan = %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Scan still reads a minute after being cancelled inside a file")
	}
}
