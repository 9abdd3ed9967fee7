// Command largephotos makes a folder of phone-sized photos from the sample
// photos, for measuring decoding where it costs most: each photo is
// enlarged to 12 megapixels (4032×3024, or 3024×4032 when portrait), given
// a sensor's grain and saved as a JPEG of quality 92 with 4:2:0 chroma, as
// phones write them. The grain matters: a plain enlargement compresses to a
// tenth of a phone photo's 3–5 MB and decodes faster than a real one.
//
//	go run ./tools/largephotos -src testdata/photos/flowers -dst /tmp/large -n 20
//
// The subfolders of src (the labels) are kept. The output is generated, never
// committed: 20 photos take about 80 MB.
package main

import (
	"flag"
	"fmt"
	"image/jpeg"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/clasifica/clasifica/internal/largephoto"
	"github.com/clasifica/clasifica/ml/photo"
)

func main() {
	src := flag.String("src", "testdata/photos/flowers", "folder of sample photos (subfolders are kept)")
	dst := flag.String("dst", "", "folder to write the large photos to (created)")
	n := flag.Int("n", 20, "how many photos to make, taken evenly from src (0: all)")
	grain := flag.Float64("grain", largephoto.Grain, "standard deviation of the added grain, in 8-bit levels")
	quality := flag.Int("quality", 92, "JPEG quality")
	flag.Parse()
	if *dst == "" {
		log.Fatal("largephotos: -dst is required")
	}
	var paths []string
	err := filepath.WalkDir(*src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".jpg") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		log.Fatalf("largephotos: %v", err)
	}
	slices.Sort(paths)
	if *n > 0 && *n < len(paths) {
		// Evenly spread, so that every label is represented.
		picked := make([]string, *n)
		for i := range picked {
			picked[i] = paths[i*len(paths) / *n]
		}
		paths = picked
	}
	var total int64
	for i, p := range paths {
		rel, err := filepath.Rel(*src, p)
		if err != nil {
			log.Fatalf("largephotos: %v", err)
		}
		out := filepath.Join(*dst, rel)
		size, err := enlarge(p, out, uint64(i), *grain, *quality)
		if err != nil {
			log.Fatalf("largephotos: %s: %v", p, err)
		}
		total += size
	}
	fmt.Printf("%d photos in %s, %.1f MB on average\n", len(paths), *dst, float64(total)/float64(max(len(paths), 1))/1e6)
}

// enlarge writes the photo at in to out at 12 megapixels with grain, and
// returns the new file's size.
func enlarge(in, out string, seed uint64, grain float64, quality int) (int64, error) {
	m, _, err := photo.DecodeFile(in, photo.Limits{})
	if err != nil {
		return 0, err
	}
	dst := largephoto.Make(m, seed, grain)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	if err := jpeg.Encode(f, dst, &jpeg.Options{Quality: quality}); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
