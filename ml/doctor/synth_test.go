package doctor

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/clasifica/clasifica/ml/probes"
)

// drawing writes a synthetic image of kind "text" (a page of typed lines),
// "lines" (black strokes on white, as line art) or "noise" (random
// colours), 400×300, to path: kinds of file that end up in photo folders
// and that no pet or flower resembles.
func drawing(t *testing.T, kind string, seed uint64, path string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 5))
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	switch kind {
	case "text":
		probes.DrawText(img, rng)
	case "lines":
		for range 12 {
			x0, y0 := rng.IntN(400), rng.IntN(300)
			x1, y1 := rng.IntN(400), rng.IntN(300)
			for s := 0; s <= 400; s++ {
				x := x0 + (x1-x0)*s/400
				y := y0 + (y1-y0)*s/400
				for dx := range 3 {
					img.Set(min(399, x+dx), y, color.Black)
				}
			}
		}
	case "noise":
		for i := range img.Pix {
			if i%4 != 3 {
				img.Pix[i] = uint8(rng.IntN(256))
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Ext(path) == ".png" {
		err = png.Encode(f, img)
	} else {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
