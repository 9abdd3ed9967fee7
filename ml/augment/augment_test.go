package augment

import (
	"bytes"
	"testing"

	"github.com/clasifica/clasifica/ml/photo"
)

// gradient is a test photo whose left half is dark and right half bright,
// with a vertical ramp so that every pixel differs from its neighbours.
func gradient(w, h int) *photo.RGB {
	p := &photo.RGB{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
	for y := range h {
		for x := range w {
			v := uint8(40)
			if x >= w/2 {
				v = 200
			}
			i := 3 * (y*w + x)
			p.Pix[i], p.Pix[i+1], p.Pix[i+2] = v, uint8(y*255/(h-1)), 128
		}
	}
	return p
}

func TestIdentity(t *testing.T) {
	p := gradient(40, 30)
	got := Options{}.Apply(p, 7)
	if !bytes.Equal(got.Pix, p.Pix) {
		t.Fatal("zero options changed the photo")
	}
}

func TestFlip(t *testing.T) {
	p := gradient(40, 30)
	o := Options{Flip: true}
	flipped := 0
	for seed := range uint64(40) {
		v := o.Apply(p, seed)
		left := v.Pix[3*(15*40+2)]
		switch left {
		case 40:
		case 200:
			flipped++
			// A mirrored row reads the original backwards.
			for x := range 40 {
				if v.Pix[3*(5*40+x)] != p.Pix[3*(5*40+39-x)] {
					t.Fatalf("seed %d: pixel %d not mirrored", seed, x)
				}
			}
		default:
			t.Fatalf("seed %d: left pixel %d", seed, left)
		}
	}
	if flipped < 10 || flipped > 30 {
		t.Errorf("%d of 40 views flipped, want about half", flipped)
	}
}

func TestReproducibleAndVaried(t *testing.T) {
	p := gradient(64, 64)
	o := Default()
	a, b, c := o.Apply(p, 1), o.Apply(p, 1), o.Apply(p, 2)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Fatal("same seed, different views")
	}
	if bytes.Equal(a.Pix, c.Pix) {
		t.Fatal("different seeds, same view")
	}
	if a.Width != 64 || a.Height != 64 || len(a.Pix) != len(p.Pix) {
		t.Fatal("view changed size")
	}
}

func TestBrightness(t *testing.T) {
	p := &photo.RGB{Width: 4, Height: 4, Pix: bytes.Repeat([]byte{100}, 48)}
	o := Options{Brightness: 0.2}
	lo, hi := 255, 0
	for seed := range uint64(50) {
		v := int(o.Apply(p, seed).Pix[0])
		lo, hi = min(lo, v), max(hi, v)
		if v < 80 || v > 120 {
			t.Fatalf("seed %d: brightness %d outside [80, 120]", seed, v)
		}
	}
	if hi-lo < 20 {
		t.Errorf("brightness varied only over [%d, %d]", lo, hi)
	}
}

func TestZoomStaysInside(t *testing.T) {
	// With zoom but no rotation, a view never shows the clamped edge of
	// a photo whose border is marked.
	w, h := 50, 50
	p := &photo.RGB{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
	for i := range p.Pix {
		p.Pix[i] = 100
	}
	o := Options{Zoom: 0.3}
	for seed := range uint64(20) {
		v := o.Apply(p, seed)
		for _, x := range v.Pix {
			if x != 100 {
				t.Fatalf("seed %d: value %d in a uniform photo", seed, x)
			}
		}
	}
}

func TestID(t *testing.T) {
	if Default().ID() == (Options{}).ID() || Default().ID() != Default().ID() {
		t.Fatal("IDs do not tell options apart")
	}
}
