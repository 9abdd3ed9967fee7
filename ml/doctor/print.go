package doctor

import (
	"math/bits"

	"github.com/clasifica/clasifica/ml/photo"
)

// Print is a photo's perceptual fingerprint: difference hashes (each bit
// says whether a cell of a grey thumbnail is brighter than its right-hand
// neighbour) of the whole photo at two scales and of its centre. Resizing
// and recompression keep nearly every bit; a small crop shifts the whole
// photo's cells a little and its centre's less. It is computed from the
// decoded 299×299 photo the feature extraction already makes, so it costs
// no second decode.
type Print struct {
	// Whole8 is the 64-bit hash of the whole photo (a 9×8 thumbnail); it
	// finds candidate pairs quickly.
	Whole8 uint64
	// Whole16 and Centre16 are 256-bit hashes (17×16 thumbnails) of the
	// whole photo and of its middle 80%.
	Whole16, Centre16 [4]uint64
}

// IsZero reports that p is unknown.
func (p Print) IsZero() bool { return p == Print{} }

// Fingerprint computes the print of a decoded photo.
func Fingerprint(p *photo.RGB) Print {
	w, h := p.Width, p.Height
	var pr Print
	pr.Whole8 = dhash(p, 0, 0, w, h, 8)[0]
	copy(pr.Whole16[:], dhash(p, 0, 0, w, h, 16))
	mx, my := w/10, h/10
	copy(pr.Centre16[:], dhash(p, mx, my, w-mx, h-my, 16))
	if pr.IsZero() {
		// A flat photo has no edges; keep it distinguishable from
		// "unknown" (it still pairs with other flat photos).
		pr.Whole8 = 1
	}
	return pr
}

// dhash returns the difference hash of the rectangle (x0, y0)-(x1, y1) of
// p on a (size+1)×size grey thumbnail, size² bits in size²/64 words (one
// word for size 8).
func dhash(p *photo.RGB, x0, y0, x1, y1, size int) []uint64 {
	cols, rows := size+1, size
	grey := make([]float64, cols*rows)
	// Box averages: each thumbnail cell is the mean luma of the pixels
	// whose centres fall in it, so that resizing the photo changes it
	// little (a point sample would alias).
	count := make([]float64, cols*rows)
	for y := y0; y < y1; y++ {
		cy := (y - y0) * rows / (y1 - y0)
		row := p.Pix[3*y*p.Width:]
		for x := x0; x < x1; x++ {
			cx := (x - x0) * cols / (x1 - x0)
			r, g, b := row[3*x], row[3*x+1], row[3*x+2]
			grey[cy*cols+cx] += 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)
			count[cy*cols+cx]++
		}
	}
	for i := range grey {
		if count[i] > 0 {
			grey[i] /= count[i]
		}
	}
	words := make([]uint64, max(1, size*size/64))
	bit := 0
	for y := range rows {
		for x := range size {
			if grey[y*cols+x] > grey[y*cols+x+1] {
				words[bit/64] |= 1 << (bit % 64)
			}
			bit++
		}
	}
	return words
}

// hamming256 returns the number of differing bits of two 256-bit hashes.
func hamming256(a, b [4]uint64) int {
	d := 0
	for i := range a {
		d += bits.OnesCount64(a[i] ^ b[i])
	}
	return d
}
