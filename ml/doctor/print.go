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
	// Luma once for the three hashes: the extraction calls this for every
	// photo it decodes, so it must cost little beside the decode.
	luma := make([]float64, w*h)
	for i := range luma {
		r, g, b := p.Pix[3*i], p.Pix[3*i+1], p.Pix[3*i+2]
		luma[i] = 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)
	}
	var pr Print
	pr.Whole8 = dhash(luma, w, 0, 0, w, h, 8)[0]
	copy(pr.Whole16[:], dhash(luma, w, 0, 0, w, h, 16))
	mx, my := w/10, h/10
	copy(pr.Centre16[:], dhash(luma, w, mx, my, w-mx, h-my, 16))
	if pr.IsZero() {
		// A flat photo has no edges; keep it distinguishable from
		// "unknown" (it still pairs with other flat photos).
		pr.Whole8 = 1
	}
	return pr
}

// dhash returns the difference hash of the rectangle (x0, y0)-(x1, y1) of
// a luma image of the given width on a (size+1)×size grey thumbnail, size²
// bits in size²/64 words (one word for size 8).
func dhash(luma []float64, width, x0, y0, x1, y1, size int) []uint64 {
	cols, rows := size+1, size
	grey := make([]float64, cols*rows)
	// Box averages: each thumbnail cell is the mean luma of the pixels
	// whose centres fall in it, so that resizing the photo changes it
	// little (a point sample would alias).
	count := make([]float64, cols*rows)
	// Each cell's columns are a run: the first column of each, computed
	// once. A run is summed in a register, pixel after pixel in the same
	// order as one sum per pixel into the cell would, so the bits are the
	// same, without a trip through memory per pixel.
	start := make([]int, cols+1)
	for c, x := 0, x0; x <= x1; x++ {
		for c <= cols && (x == x1 || (x-x0)*cols/(x1-x0) >= c) {
			start[c] = x - x0
			c++
		}
	}
	for y := y0; y < y1; y++ {
		cy := (y - y0) * rows / (y1 - y0)
		g, n := grey[cy*cols:(cy+1)*cols], count[cy*cols:(cy+1)*cols]
		row := luma[y*width+x0 : y*width+x1]
		for c := range cols {
			acc := g[c]
			for _, v := range row[start[c]:start[c+1]] {
				acc += v
			}
			g[c] = acc
			n[c] += float64(start[c+1] - start[c])
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
