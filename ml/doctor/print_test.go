package doctor

import (
	"path/filepath"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/photo"
)

// referencePrint is Fingerprint as first written (luma per pass, a cell
// index computed per pixel): prints kept in the data folder were made by
// it, so Fingerprint must give the same bits.
func referencePrint(p *photo.RGB) Print {
	w, h := p.Width, p.Height
	var pr Print
	pr.Whole8 = referenceHash(p, 0, 0, w, h, 8)[0]
	copy(pr.Whole16[:], referenceHash(p, 0, 0, w, h, 16))
	mx, my := w/10, h/10
	copy(pr.Centre16[:], referenceHash(p, mx, my, w-mx, h-my, 16))
	if pr.IsZero() {
		pr.Whole8 = 1
	}
	return pr
}

func referenceHash(p *photo.RGB, x0, y0, x1, y1, size int) []uint64 {
	cols, rows := size+1, size
	grey := make([]float64, cols*rows)
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

// samplePrints decodes the first sample flowers at the backbone's size,
// as the feature extraction does.
func samplePrints(t testing.TB, n int) []*photo.RGB {
	paths, _ := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers"), "*", "*.jpg"))
	var out []*photo.RGB
	for _, p := range paths[:n] {
		rgb, err := photo.LoadFile(p, inception.Size, photo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rgb)
	}
	return out
}

// Fingerprint gives the bits of the first implementation, on real photos
// and on odd sizes (a crop's rectangle not a multiple of the grid).
func TestFingerprintUnchanged(t *testing.T) {
	photos := samplePrints(t, 30)
	photos = append(photos, &photo.RGB{Width: 37, Height: 23, Pix: photos[0].Pix[:37*23*3]})
	for i, p := range photos {
		if got, want := Fingerprint(p), referencePrint(p); got != want {
			t.Errorf("photo %d (%dx%d): print %+v, want %+v", i, p.Width, p.Height, got, want)
		}
	}
}
