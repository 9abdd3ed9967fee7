// Package augment makes randomly altered views of a photo (mirrored,
// zoomed, slightly rotated, brighter or darker), as Keras's
// ImageDataGenerator does, so that a classifier trained on few photos learns
// what does not change a label.
//
// Clasifica's backbone is frozen, so each view's features are computed once
// and cached; the views must therefore be reproducible: a view depends only
// on the photo, the options and a seed.
package augment

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/clasifica/clasifica/ml/photo"
)

// Options bound the random changes. The zero value changes nothing.
type Options struct {
	// Flip mirrors half of the views left to right.
	Flip bool
	// Zoom is the largest fraction by which a view zooms in (0.2 shows as
	// little as 80% of the photo's width and height), at a random position.
	Zoom float64
	// Rotate is the largest rotation in degrees, either way.
	Rotate float64
	// Brightness is the largest relative change of brightness (0.2 scales
	// pixel values by a factor in [0.8, 1.2]).
	Brightness float64
}

// Default returns the changes Clasifica applies when augmentation is on:
// those the seed Keras tutorial's ImageDataGenerator uses for photos, kept
// mild so a view still shows the whole subject.
func Default() Options {
	return Options{Flip: true, Zoom: 0.2, Rotate: 10, Brightness: 0.2}
}

// ID names the options compactly, for cache keys: views made with other
// options are other views.
func (o Options) ID() string {
	f := 0
	if o.Flip {
		f = 1
	}
	return fmt.Sprintf("f%dz%gr%gb%g", f, o.Zoom, o.Rotate, o.Brightness)
}

// Apply returns a new view of p drawn with the given seed. The view has p's
// size; pixels that the rotation brings in from outside the photo repeat
// its nearest edge, as Keras's fill_mode="nearest" does.
func (o Options) Apply(p *photo.RGB, seed uint64) *photo.RGB {
	r := rand.New(rand.NewPCG(seed, 0x5DEECE66D))
	flip := o.Flip && r.IntN(2) == 1
	scale := 1 - o.Zoom*r.Float64() // fraction of the photo the view shows
	angle := (2*r.Float64() - 1) * o.Rotate * math.Pi / 180
	gain := 1 + (2*r.Float64()-1)*o.Brightness
	w, h := float64(p.Width), float64(p.Height)
	// The view's centre shows a random point of the photo, chosen so that
	// an unrotated view stays inside it.
	cx := w/2 + (2*r.Float64()-1)*(1-scale)*w/2
	cy := h/2 + (2*r.Float64()-1)*(1-scale)*h/2
	sin, cos := math.Sincos(angle)

	out := &photo.RGB{Width: p.Width, Height: p.Height, Pix: make([]uint8, len(p.Pix))}
	for y := range p.Height {
		for x := range p.Width {
			// Map the view pixel's centre back into the photo.
			dx := (float64(x) + 0.5 - w/2) * scale
			dy := (float64(y) + 0.5 - h/2) * scale
			if flip {
				dx = -dx
			}
			sx := cx + cos*dx - sin*dy - 0.5
			sy := cy + sin*dx + cos*dy - 0.5
			sample(p, sx, sy, gain, out.Pix[3*(y*p.Width+x):])
		}
	}
	return out
}

// sample writes the bilinear interpolation of p at (x, y), scaled by gain,
// to dst, clamping coordinates to the photo.
func sample(p *photo.RGB, x, y, gain float64, dst []uint8) {
	x = clamp(x, 0, float64(p.Width-1))
	y = clamp(y, 0, float64(p.Height-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, p.Width-1), min(y0+1, p.Height-1)
	fx, fy := x-float64(x0), y-float64(y0)
	for c := range 3 {
		a := float64(p.Pix[3*(y0*p.Width+x0)+c])
		b := float64(p.Pix[3*(y0*p.Width+x1)+c])
		d := float64(p.Pix[3*(y1*p.Width+x0)+c])
		e := float64(p.Pix[3*(y1*p.Width+x1)+c])
		v := (a*(1-fx)+b*fx)*(1-fy) + (d*(1-fx)+e*fx)*fy
		dst[c] = uint8(clamp(math.Round(v*gain), 0, 255))
	}
}

func clamp(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, v))
}
