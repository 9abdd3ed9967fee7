package features

import (
	"slices"
	"testing"
)

func TestCacheHalf(t *testing.T) {
	c, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k := Key{Backbone: "b", Photo: [32]byte{1}, View: "v"}
	v := []float32{0, 1.5, 3.25, 100}
	if err := c.PutHalf(k, v); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(k); ok {
		t.Errorf("a float16 entry reads as a float32 one")
	}
	buf := make([]float32, 0, 8)
	got, ok := c.GetHalf(k, buf)
	if !ok || !slices.Equal(got, v) {
		t.Fatalf("GetHalf = %v, %v; want %v", got, ok, v)
	}
	if &got[0] != &buf[:1][0] {
		t.Errorf("GetHalf allocated despite a large enough buffer")
	}
	if n, _, err := c.Stats(); err != nil || n != 1 {
		t.Errorf("Stats = %d entries, %v; want 1", n, err)
	}
}
