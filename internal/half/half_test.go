package half

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestHalfRoundTrip(t *testing.T) {
	// Every finite float16 converts to float32 and back to itself.
	for h := range 1 << 16 {
		if h&0x7c00 == 0x7c00 {
			continue // Inf and NaN: never stored
		}
		f := ToFloat32(uint16(h))
		if got := FromFloat32(f); got != uint16(h) && !(f == 0 && got&0x7fff == 0) {
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
		if got := ToFloat32(FromFloat32(tt.f)); got != tt.want {
			t.Errorf("%v rounds to %v, want %v", tt.f, got, tt.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		f := float32(math.Exp(rng.NormFloat64() * 3))
		if f < 1e-4 || f > 6e4 {
			continue
		}
		if got := ToFloat32(FromFloat32(f)); math.Abs(float64(got-f)) > float64(f)/2048 {
			t.Fatalf("%v rounds to %v, more than 2^-11 away", f, got)
		}
	}
}
