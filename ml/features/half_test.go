package features

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHalfRoundTrip(t *testing.T) {
	// Every finite float16 converts to float32 and back to itself.
	for h := range 1 << 16 {
		if h&0x7c00 == 0x7c00 {
			continue // Inf and NaN: never stored
		}
		f := halfToFloat(uint16(h))
		if got := floatToHalf(f); got != uint16(h) && !(f == 0 && got&0x7fff == 0) {
			t.Fatalf("half %#04x -> %v -> %#04x", h, f, got)
		}
	}
	tests := []struct {
		f    float32
		want float32
	}{
		{0, 0}, {1, 1}, {-2.5, -2.5}, {65504, 65504}, {1e6, 65504}, {-1e6, -65504},
		{1.0 / 3, 0.333251953125}, {6e-8, 5.9604645e-08}, {1e-9, 0},
		{1 + 1.0/2048, 1}, {1 + 3.0/2048, 1 + 4.0/2048}, // ties to even
	}
	for _, tt := range tests {
		if got := halfToFloat(floatToHalf(tt.f)); got != tt.want {
			t.Errorf("%v rounds to %v, want %v", tt.f, got, tt.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		f := float32(math.Exp(rng.NormFloat64() * 3))
		if f < 1e-4 || f > 6e4 {
			continue
		}
		if got := halfToFloat(floatToHalf(f)); math.Abs(float64(got-f)) > float64(f)/2048 {
			t.Fatalf("%v rounds to %v, more than 2^-11 away", f, got)
		}
	}
}

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
