package app

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
)

// sampleFlowers returns n photos of the flowers sample.
func sampleFlowers(t *testing.T, n int) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers"), "*", "*.jpg"))
	if err != nil || len(paths) < n {
		t.Fatalf("want %d sample photos, found %d (%v)", n, len(paths), err)
	}
	return paths[:n]
}

// loadThumb loads one preview and waits for it.
func loadThumb(t *testing.T, th *Thumbnails, path string) Thumb {
	t.Helper()
	var got Thumb
	var calls int
	var mu sync.Mutex
	th.Load(path, nil, func(r Thumb) {
		mu.Lock()
		got, calls = r, calls+1
		mu.Unlock()
	})
	th.Wait()
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Fatalf("done called %d times, want once", calls)
	}
	return got
}

func TestThumbnailsLoadAndCache(t *testing.T) {
	th := NewThumbnails(64, 1<<20, 2)
	p := sampleFlowers(t, 1)[0]
	if _, ok := th.Cached(p); ok {
		t.Fatal("cached before loading")
	}
	r := loadThumb(t, th, p)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	b := r.Image.Bounds()
	if max(b.Dx(), b.Dy()) != 64 {
		t.Errorf("preview is %v, want a longer side of 64", b)
	}
	c, ok := th.Cached(p)
	if !ok || c.Image != r.Image {
		t.Error("the preview is not kept")
	}
}

func TestThumbnailsRemembersBrokenPhotos(t *testing.T) {
	th := NewThumbnails(64, 1<<20, 1)
	bad := filepath.Join(t.TempDir(), "broken.jpg")
	if err := os.WriteFile(bad, []byte("not a photo at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := loadThumb(t, th, bad); r.Err == nil || r.Image != nil {
		t.Fatalf("got %+v, want an error", r)
	}
	if c, ok := th.Cached(bad); !ok || c.Err == nil {
		t.Error("the failure is not remembered, so scrolling would decode the file again")
	}
}

func TestThumbnailsBudget(t *testing.T) {
	// Room for about one 64-pixel preview: older ones are dropped.
	th := NewThumbnails(64, 64*64*4+100, 1)
	ps := sampleFlowers(t, 3)
	for _, p := range ps {
		loadThumb(t, th, p)
	}
	if _, ok := th.Cached(ps[2]); !ok {
		t.Error("the latest preview was dropped")
	}
	if _, ok := th.Cached(ps[0]); ok {
		t.Error("the oldest preview is still kept beyond the budget")
	}
}

func TestThumbnailsSkipsUnwanted(t *testing.T) {
	th := NewThumbnails(64, 1<<20, 1)
	p := sampleFlowers(t, 1)[0]
	th.Load(p, func() bool { return false }, func(Thumb) { t.Error("done called for a preview nobody wants") })
	th.Wait()
	if _, ok := th.Cached(p); ok {
		t.Error("an unwanted preview was made")
	}
}

func TestThumbnailsNewestFirst(t *testing.T) {
	th := NewThumbnails(32, 1<<20, 1)
	ps := sampleFlowers(t, 3)
	release := make(chan struct{})
	started := make(chan struct{})
	var mu sync.Mutex
	var order []string
	record := func(p string) func(Thumb) {
		return func(Thumb) {
			mu.Lock()
			order = append(order, p)
			mu.Unlock()
		}
	}
	// The first request holds the only worker while two more queue up.
	th.Load(ps[0], func() bool { close(started); <-release; return true }, record(ps[0]))
	<-started
	th.Load(ps[1], nil, record(ps[1]))
	th.Load(ps[2], nil, record(ps[2]))
	close(release)
	th.Wait()
	want := []string{ps[0], ps[2], ps[1]}
	for i := range want {
		if i >= len(order) || order[i] != want[i] {
			t.Fatalf("served %v, want the newest request first: %v", order, want)
		}
	}
}
