// Package largephoto makes phone-sized photos from small ones, for
// measuring and testing decoding where it costs most: 12 megapixels
// (4032×3024, or 3024×4032 when portrait) with a sensor's grain. The grain
// matters: a plain enlargement compresses to a tenth of a phone photo's
// 3–5 MB and decodes faster than a real one.
package largephoto

import (
	"image"
	"math/rand/v2"

	"github.com/clasifica/clasifica/ml/photo"
)

// Grain is the default standard deviation of the added grain, in 8-bit
// levels: with JPEG quality 92 and 4:2:0 chroma (Go's encoder) the sample
// photos become 3.4 MB files on average.
const Grain = 7

// Make enlarges m to 12 megapixels, keeping its orientation, and adds
// Gaussian grain of standard deviation grain, independent per sample as a
// sensor's read noise, from seed: the same inputs give the same photo.
func Make(m image.Image, seed uint64, grain float64) *image.RGBA {
	w, h := 4032, 3024
	if b := m.Bounds(); b.Dy() > b.Dx() {
		w, h = h, w
	}
	big := photo.Resize(m, w, h)
	rng := rand.New(rand.NewPCG(seed, 22))
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		for c := range 3 {
			v := float64(big.Pix[3*i+c]) + rng.NormFloat64()*grain
			dst.Pix[4*i+c] = uint8(min(max(v+0.5, 0), 255))
		}
		dst.Pix[4*i+3] = 0xff
	}
	return dst
}
