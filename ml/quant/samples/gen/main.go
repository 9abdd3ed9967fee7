// Command gen rebuilds the sample photos of package samples from the
// repository's sample photos: gen SRC DST, SRC holding pets/<breed>/*.jpg
// and flowers/<kind>/*.jpg.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"sort"
	"unicode"

	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/photo"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gen SRC DST")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(src, dst string) error {
	for _, d := range []string{"calibration", "reference", "guard"} {
		if err := os.RemoveAll(filepath.Join(dst, d)); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, d), 0o755); err != nil {
			return err
		}
	}
	for _, set := range []string{"pets", "flowers"} {
		paths, err := filepath.Glob(filepath.Join(src, set, "*", "*.jpg"))
		if err != nil {
			return err
		}
		sort.Strings(paths)
		for i, p := range paths {
			var dir string
			switch {
			case i%4 == 0:
				dir = "calibration"
			case i%4 == 2:
				dir = "reference"
			default:
				dir = "guard"
			}
			label := filepath.Base(filepath.Dir(p))
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if set == "pets" {
				// Capitalised breeds are cats.
				label = "dog"
				if unicode.IsUpper([]rune(filepath.Base(filepath.Dir(p)))[0]) {
					label = "cat"
				}
				// The square the network sees, so that the program
				// carries 20 KB per pet rather than 100.
				img, err := photo.LoadFile(p, inception.Size, photo.Limits{})
				if err != nil {
					return err
				}
				rgba := image.NewRGBA(image.Rect(0, 0, img.Width, img.Height))
				for j := 0; j < img.Width*img.Height; j++ {
					copy(rgba.Pix[4*j:4*j+3], img.Pix[3*j:3*j+3])
					rgba.Pix[4*j+3] = 255
				}
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 90}); err != nil {
					return err
				}
				data = buf.Bytes()
			}
			name := fmt.Sprintf("%s_%s_%s", set, label, filepath.Base(p))
			if err := os.WriteFile(filepath.Join(dst, dir, name), data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
