package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/filelock"
	"github.com/clasifica/clasifica/internal/largephoto"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/photo"
)

func TestFeatureCache(t *testing.T) {
	a := New(Dirs{Cache: t.TempDir(), Config: t.TempDir(), Data: t.TempDir()})
	if got, err := a.FeatureCacheInfo(); err != nil || got.Entries != 0 || got.Dir != a.Dirs.Features() {
		t.Fatalf("empty cache: %+v, %v", got, err)
	}
	c, err := features.OpenCache(a.Dirs.Features())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a", "b"} {
		if err := c.Put(features.Key{Backbone: "b", Photo: sha256.Sum256([]byte(s))}, []float32{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.FeatureCacheInfo()
	if err != nil || got.Entries != 2 || got.Bytes == 0 {
		t.Fatalf("info: %+v, %v; want 2 entries", got, err)
	}
	if cleared, err := a.ClearFeatureCache(); err != nil || cleared != got {
		t.Fatalf("clear: %+v, %v; want what the cache held, %+v", cleared, err, got)
	}
	if got, err := a.FeatureCacheInfo(); err != nil || got.Entries != 0 {
		t.Fatalf("after clearing: %+v, %v", got, err)
	}
}

// TestFeatureCacheKeepsDecodersApart checks that features computed from
// one JPEG decoder's pixels are never handed out for another's: switching
// decoders computes the photos again, and switching back finds the first
// decoder's vectors, unchanged.
func TestFeatureCacheKeepsDecodersApart(t *testing.T) {
	a := enginesTestApp(t)
	photos, err := filepath.Glob(filepath.Join(mltest.Photos(t, "pets"), "Abyssinian", "*.jpg"))
	if err != nil || len(photos) < 2 {
		t.Fatalf("sample photos: %v (%d)", err, len(photos))
	}
	// A phone-sized photo too: builds without libjpeg-turbo decode only
	// those differently (at 1/8 scale).
	m, _, err := photo.DecodeFile(photos[1], photo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, largephoto.Make(m, 1, largephoto.Grain), &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	photos[1] = filepath.Join(t.TempDir(), "large.jpg")
	if err := os.WriteFile(photos[1], buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	items := make([]features.Item, 2)
	for i := range items {
		data, err := os.ReadFile(photos[i])
		if err != nil {
			t.Fatal(err)
		}
		items[i] = features.Item{Path: photos[i], Hash: sha256.Sum256(data)}
	}
	extract := func(dec photo.JPEGDecoder) *features.Result {
		t.Helper()
		eng, err := a.OpenEngine(context.Background(), EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU, Threads: 2, JPEG: dec})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		r, err := eng.Extractor(true).Extract(context.Background(), items, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range r.Errs {
			if e != nil {
				t.Fatalf("%s: %v", items[i].Path, e)
			}
		}
		return r
	}
	first := extract(photo.JPEGGo)
	if first.FromCache != 0 {
		t.Fatalf("an empty cache gave %d vectors", first.FromCache)
	}
	other := extract(photo.JPEGAuto)
	if photo.JPEGAuto.Used() != photo.JPEGGo.Used() {
		if other.FromCache != 0 {
			t.Errorf("%d vectors of Go's decoder were taken for %s's", other.FromCache, photo.JPEGAuto.Used())
		}
		if slices.Equal(first.Features, other.Features) {
			t.Errorf("the two decoders gave the same features to the bit; the test proves nothing")
		}
	} else {
		t.Errorf("both choices are %q", photo.JPEGAuto.Used())
	}
	again := extract(photo.JPEGGo)
	if again.FromCache != len(items) || !slices.Equal(again.Features, first.Features) {
		t.Errorf("back to Go's decoder: %d of %d from the cache, same vectors %v", again.FromCache, len(items), slices.Equal(again.Features, first.Features))
	}
	info, err := a.FeatureCacheInfo()
	if want := 2 * len(items); err != nil || info.Entries != want {
		t.Errorf("cache holds %d entries (%v), want %d: one per photo and decoder", info.Entries, err, want)
	}
}

// TestClearWaitsForTraining clears the feature cache while a training run
// reads it (another App on the same folders, as another process would):
// refused with an error that says so, the entries kept; cleared once the
// run has finished. A training run started during a clearing waits for
// it, and says so when it takes too long.
func TestClearWaitsForTraining(t *testing.T) {
	dirs := Dirs{Cache: t.TempDir(), Config: t.TempDir(), Data: t.TempDir()}
	trainer, clearer := New(dirs), New(dirs)
	c, err := features.OpenCache(dirs.Features())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(features.Key{Backbone: "b", Photo: sha256.Sum256([]byte("a"))}, []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	inUse, err := trainer.useFeatureCache(context.Background()) // as Train holds it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clearer.ClearFeatureCache(); err == nil || !strings.Contains(err.Error(), "a training run is reading it") {
		t.Errorf("clear during training: %v, want an error saying a training run reads the cache", err)
	}
	if got, err := clearer.FeatureCacheInfo(); err != nil || got.Entries != 1 {
		t.Errorf("after the refused clear: %+v, %v; want the entry kept", got, err)
	}
	inUse.Unlock()
	if _, err := clearer.ClearFeatureCache(); err != nil {
		t.Fatalf("clear after training: %v", err)
	}
	if got, err := clearer.FeatureCacheInfo(); err != nil || got.Entries != 0 {
		t.Errorf("after clearing: %+v, %v; want no entry", got, err)
	}

	clearing, err := filelock.TryLock(clearer.featureCacheLock()) // a clear in progress
	if err != nil {
		t.Fatal(err)
	}
	defer clearing.Unlock()
	trainer.lockWait = 100 * time.Millisecond
	if _, err := trainer.Train(context.Background(), nil, TrainRequest{}, nil); err == nil || !strings.Contains(err.Error(), "clearing the feature cache") {
		t.Errorf("training during a clear: %v, want an error saying another Clasifica is clearing the cache", err)
	}
}
