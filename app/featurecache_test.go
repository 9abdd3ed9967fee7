package app

import (
	"crypto/sha256"
	"testing"

	"github.com/clasifica/clasifica/ml/features"
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
