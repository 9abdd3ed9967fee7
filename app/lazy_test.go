package app

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSession counts its closes.
type fakeSession struct{ closed *atomic.Int32 }

func (f fakeSession) Close() error { f.closed.Add(1); return nil }

// TestLazyClosesWhenIdle checks the float twin's life: opened on first use
// (a failed open tried again), kept while in use however long, closed once
// unused for its idle time, kept when used again before that, opened anew
// after, and closed at once by close.
func TestLazyClosesWhenIdle(t *testing.T) {
	var opens, closes atomic.Int32
	fail := true
	l := &lazy[fakeSession]{idle: 50 * time.Millisecond, open: func(context.Context) (fakeSession, error) {
		if fail {
			fail = false
			return fakeSession{}, errors.New("no memory")
		}
		opens.Add(1)
		return fakeSession{&closes}, nil
	}}
	ctx := context.Background()
	if _, release, err := l.get(ctx); err == nil {
		t.Fatal("a failed open gave no error")
	} else {
		release() // harmless
	}
	_, release1, err := l.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, release2, err := l.get(ctx)
	if err != nil || opens.Load() != 1 {
		t.Fatalf("second use: %v, %d opens", err, opens.Load())
	}
	release1()
	release1() // once only
	time.Sleep(150 * time.Millisecond)
	if !l.opened() || closes.Load() != 0 {
		t.Fatal("closed while still in use")
	}
	release2()
	waitUntil(t, "closed once idle", func() bool { return !l.opened() && closes.Load() == 1 })

	// Used again before the idle time is up: kept.
	_, release, err := l.get(ctx)
	if err != nil || opens.Load() != 2 {
		t.Fatalf("after idle: %v, %d opens, want 2", err, opens.Load())
	}
	release()
	_, release, err = l.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if !l.opened() || opens.Load() != 2 || closes.Load() != 1 {
		t.Fatalf("used within its idle time: open %v, %d opens, %d closes", l.opened(), opens.Load(), closes.Load())
	}
	release()
	if err := l.close(); err != nil || l.opened() || closes.Load() != 2 {
		t.Fatalf("close: %v, open %v, %d closes", err, l.opened(), closes.Load())
	}
	time.Sleep(150 * time.Millisecond)
	if closes.Load() != 2 {
		t.Errorf("closed %d times, want 2: a stopped timer closed again", closes.Load())
	}
}

// waitUntil polls cond for up to a minute, for a loaded machine.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not %s after a minute", what)
		}
	}
}
