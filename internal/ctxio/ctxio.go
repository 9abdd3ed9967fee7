// Package ctxio makes reads stop when a context is cancelled, so that a
// scan or a copy of a large file ends promptly instead of reading to the
// end.
package ctxio

import (
	"context"
	"io"
)

// Reader reads from R until Ctx is done; then every Read returns the
// context's error.
type Reader struct {
	Ctx context.Context
	R   io.Reader
}

// Read implements io.Reader.
func (c Reader) Read(p []byte) (int, error) {
	if err := c.Ctx.Err(); err != nil {
		return 0, err
	}
	return c.R.Read(p)
}
