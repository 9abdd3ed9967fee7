package dataset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"sync"

	"github.com/clasifica/clasifica/internal/ctxio"
	"github.com/clasifica/clasifica/ml/photo"
)

// hashed is what reading one listed file found: either a photo (reason
// empty) with its hash and size, or why it cannot be used.
type hashed struct {
	hash   [32]byte
	size   int64
	reason Reason
	detail string
}

// openRegular opens a file for hashing and makes sure it is still an
// ordinary file: between listing and reading it may have been replaced by
// something else, and a pipe would block a worker forever.
func openRegular(name string) (io.ReadCloser, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	return f, nil
}

// hashAll reads every listed path with a few workers and returns what was
// found for each, in the same order. If the context is cancelled, hashAll
// returns its error as soon as the workers have abandoned the files they
// were reading.
func (s *scanner) hashAll(paths []string) ([]hashed, error) {
	out := make([]hashed, len(paths))
	workers := s.opt.Workers
	if workers <= 0 {
		workers = defaultWorkers
	}
	err := forEach(s.ctx, len(paths), workers, s.opt.Progress, func() func(int) {
		// One buffer per worker: memory stays bounded however large the
		// files are.
		buf := make([]byte, photo.HeaderLen)
		return func(i int) { out[i] = s.hashOne(s.ctx, paths[i], buf) }
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// forEach runs work on every index in [0, total) with workers goroutines,
// each calling newWorker once for its own work function (and buffers).
// Each index goes to exactly one worker, and forEach returns after every
// worker has stopped, so results written by index need no lock. progress,
// if not nil, is called from forEach's goroutine only, first with 0, then
// after each index, in increasing order. Once ctx is done no more work is
// handed out and forEach returns ctx's error.
func forEach(ctx context.Context, total, workers int, progress func(done, total int), newWorker func() func(i int)) error {
	workers = min(workers, max(total, 1))
	jobs := make(chan int)
	done := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			work := newWorker()
			for i := range jobs {
				if ctx.Err() == nil {
					work(i)
				}
				done <- struct{}{}
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range total {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(done)
	}()
	if progress != nil {
		progress(0, total)
	}
	n := 0
	for range done {
		n++
		if progress != nil && ctx.Err() == nil {
			progress(n, total)
		}
	}
	return ctx.Err()
}

// hashOne recognises one file by its first bytes and, if it is a photo,
// streams the rest through SHA-256. Files that are not photos are not read
// further: a folder may hold videos of several gigabytes.
func (s *scanner) hashOne(ctx context.Context, path string, buf []byte) hashed {
	open := s.hooks.open
	if open == nil {
		open = openRegular
	}
	f, err := open(path)
	if err != nil {
		return failed(err)
	}
	defer f.Close()
	r := ctxio.Reader{Ctx: ctx, R: f}

	// The start of the file goes through the hash like the rest, and
	// first through photo.CheckHeader: a broken header or a declared size
	// no one should decode (a decompression bomb) shows in the scan, not
	// in the middle of training.
	head := buf[:min(len(buf), photo.HeaderLen)]
	n, err := io.ReadFull(r, head)
	complete := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !complete {
		return failed(err)
	}
	head = head[:n]
	if n == 0 {
		return hashed{reason: ReasonEmpty}
	}
	if _, ok := photo.Sniff(head); !ok {
		return hashed{reason: ReasonNotImage, detail: guessContent(head[:min(n, photo.SniffLen)])}
	}
	if err := photo.CheckHeader(head, complete, s.opt.Limits); err != nil {
		return undecodable(err)
	}
	h := sha256.New()
	h.Write(head)
	var m int64
	if !complete {
		if m, err = io.CopyBuffer(h, r, buf); err != nil {
			return failed(err)
		}
	}
	var out hashed
	h.Sum(out.hash[:0])
	out.size = int64(n) + m
	return out
}

// undecodable turns a *photo.Error from checking or decoding a photo into
// a result.
func undecodable(err error) hashed {
	var pe *photo.Error
	if errors.As(err, &pe) {
		if pe.Kind == photo.TooLarge {
			return hashed{reason: ReasonTooLarge, detail: pe.Err.Error()}
		}
		return hashed{reason: ReasonUndecodable, detail: pe.Err.Error()}
	}
	return hashed{reason: ReasonUndecodable, detail: err.Error()}
}

// failed turns an error from opening or reading a listed file into a
// result. A cancelled context is marked but never reported: hashAll returns
// the context's error instead.
func failed(err error) hashed {
	if isCancel(err) {
		return hashed{reason: ReasonUnreadable, detail: "cancelled"}
	}
	return hashed{reason: classify(err), detail: errDetail(err)}
}

// guessContent names common kinds of file that are not photos Clasifica
// reads, to make the problem list actionable: iPhones save HEIC by default,
// and a video or PDF in a photo folder is easy to overlook.
func guessContent(head []byte) string {
	if len(head) >= 12 && bytes.Equal(head[4:8], []byte("ftyp")) {
		switch string(head[8:12]) {
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
			return "HEIC/HEIF photo (the iPhone's format): export it as JPEG to use it"
		case "avif", "avis":
			return "AVIF photo: export it as JPEG or PNG to use it"
		}
		return "video or other MP4/QuickTime file"
	}
	switch {
	case bytes.HasPrefix(head, []byte("%PDF")):
		return "PDF document"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "zip archive (or an Office document)"
	case isText(head):
		return "text"
	}
	return ""
}

// isText reports whether head looks like the start of a text file.
func isText(head []byte) bool {
	for _, c := range head {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}
