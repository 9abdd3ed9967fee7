package ctxio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

func TestReaderStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := Reader{Ctx: ctx, R: bytes.NewReader(make([]byte, 1<<20))}
	buf := make([]byte, 1000)
	if n, err := r.Read(buf); n != 1000 || err != nil {
		t.Fatalf("Read before cancel: %d, %v", n, err)
	}
	cancel()
	if _, err := io.Copy(io.Discard, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("copy after cancel: %v, want context.Canceled", err)
	}
}
