package app

import (
	"container/list"
	"image"
	"sync"

	"github.com/clasifica/clasifica/ml/photo"
)

// Thumbnails makes small previews of photos for the desktop app's
// galleries. Decoding a photo takes tens of milliseconds, so previews are
// made on a few background workers and the latest are kept in memory.
//
// Requests are served newest first: when someone scrolls through thousands
// of photos, the ones now on screen are the ones asked for last, and the
// ones scrolled past are skipped once nothing wants them any more.
type Thumbnails struct {
	side    int
	budget  int // bytes of pixels kept
	workers int

	mu      sync.Mutex
	idle    *sync.Cond
	entries map[string]*list.Element // path -> element of lru holding *thumbEntry
	lru     *list.List               // most recently used first
	used    int                      // bytes held by lru
	pending []*thumbRequest          // a stack: the last request is served first
	queued  map[string]*thumbRequest
	running int
}

// thumbEntry is a finished preview, or the reason there is none.
type thumbEntry struct {
	path  string
	img   image.Image
	err   error
	bytes int
}

// thumbRequest is a preview asked for and not yet made.
type thumbRequest struct {
	path    string
	waiters []thumbWaiter
}

type thumbWaiter struct {
	wanted func() bool
	done   func(Thumb)
}

// NewThumbnails returns previews whose longer side is side pixels, keeping
// about budget bytes of them in memory, made by at most workers goroutines
// at a time.
func NewThumbnails(side, budget, workers int) *Thumbnails {
	t := &Thumbnails{
		side:    max(side, 1),
		budget:  max(budget, 1),
		workers: max(workers, 1),
		entries: map[string]*list.Element{},
		lru:     list.New(),
		queued:  map[string]*thumbRequest{},
	}
	t.idle = sync.NewCond(&t.mu)
	return t
}

// Side returns the longer side of the previews, in pixels.
func (t *Thumbnails) Side() int { return t.side }

// Thumb is a preview, or the reason a photo has none.
type Thumb struct {
	Image image.Image
	Err   error
}

// Cached returns the preview of path if it has been made and is still in
// memory.
func (t *Thumbnails) Cached(path string) (Thumb, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.entries[path]
	if !ok {
		return Thumb{}, false
	}
	t.lru.MoveToFront(el)
	e := el.Value.(*thumbEntry)
	return Thumb{e.img, e.err}, true
}

// Load makes the preview of path and calls done with it, from a worker
// goroutine; done is called with the error instead when the photo cannot
// be read. wanted, which may be nil, is asked just before the work starts:
// when it returns false (the widget that asked now shows another photo)
// the work is skipped and done is not called. wanted and done run on a
// worker goroutine and must be safe there.
func (t *Thumbnails) Load(path string, wanted func() bool, done func(Thumb)) {
	t.mu.Lock()
	if el, ok := t.entries[path]; ok {
		t.lru.MoveToFront(el)
		e := el.Value.(*thumbEntry)
		t.mu.Unlock()
		done(Thumb{e.img, e.err})
		return
	}
	w := thumbWaiter{wanted: wanted, done: done}
	if r, ok := t.queued[path]; ok {
		r.waiters = append(r.waiters, w)
		// Asked again: it is wanted now, so it moves to the top.
		t.removePending(r)
		t.pending = append(t.pending, r)
	} else {
		r := &thumbRequest{path: path, waiters: []thumbWaiter{w}}
		t.queued[path] = r
		t.pending = append(t.pending, r)
	}
	if t.running < t.workers {
		t.running++
		go t.work()
	}
	t.mu.Unlock()
}

// Wait blocks until every preview asked for is made or skipped. Tests and
// the screenshot tool use it to photograph finished screens.
func (t *Thumbnails) Wait() {
	t.mu.Lock()
	for t.running > 0 || len(t.pending) > 0 {
		t.idle.Wait()
	}
	t.mu.Unlock()
}

func (t *Thumbnails) removePending(r *thumbRequest) {
	for i, p := range t.pending {
		if p == r {
			t.pending = append(t.pending[:i], t.pending[i+1:]...)
			return
		}
	}
}

// work serves requests until there are none left.
func (t *Thumbnails) work() {
	t.mu.Lock()
	for len(t.pending) > 0 {
		r := t.pending[len(t.pending)-1]
		t.pending = t.pending[:len(t.pending)-1]
		delete(t.queued, r.path)
		var live []thumbWaiter
		waiters := r.waiters
		t.mu.Unlock()
		for _, w := range waiters {
			if w.wanted == nil || w.wanted() {
				live = append(live, w)
			}
		}
		if len(live) == 0 {
			t.mu.Lock()
			continue
		}
		img, err := t.make(r.path)
		t.mu.Lock()
		t.store(r.path, img, err)
		t.mu.Unlock()
		for _, w := range live {
			w.done(Thumb{img, err})
		}
		t.mu.Lock()
	}
	t.running--
	t.idle.Broadcast()
	t.mu.Unlock()
}

func (t *Thumbnails) make(path string) (image.Image, error) {
	return Preview(path, t.side)
}

// store keeps a finished preview, dropping the least recently used ones
// beyond the budget. Failures are kept too (as a few bytes), so that a
// broken file is not decoded again each time it scrolls into view.
func (t *Thumbnails) store(path string, img image.Image, err error) {
	if el, ok := t.entries[path]; ok {
		t.used -= el.Value.(*thumbEntry).bytes
		t.lru.Remove(el)
	}
	size := 64
	if rgba, ok := img.(*image.RGBA); ok {
		size += len(rgba.Pix)
	}
	t.entries[path] = t.lru.PushFront(&thumbEntry{path: path, img: img, err: err, bytes: size})
	t.used += size
	for t.used > t.budget && t.lru.Len() > 1 {
		el := t.lru.Back()
		e := el.Value.(*thumbEntry)
		t.lru.Remove(el)
		delete(t.entries, e.path)
		t.used -= e.bytes
	}
}

// Preview decodes the photo at path (upright, as the camera meant it) and
// shrinks it so that its longer side is at most side pixels. A JPEG is
// decoded at the smallest scale that covers the preview where the build
// has libjpeg-turbo (photo.LoadThumbnail): a 12-megapixel photo's preview
// costs a few milliseconds, not a full decode. Call it off the UI
// goroutine.
func Preview(path string, side int) (image.Image, error) {
	m, err := photo.LoadThumbnail(path, side, photo.Limits{})
	if err != nil {
		return nil, err // not a nil *image.RGBA in an interface
	}
	return m, nil
}
