package photo_test

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/clasifica/clasifica/internal/largephoto"
	"github.com/clasifica/clasifica/ml/photo"
)

// TestLoadFileReusesEighthPixels loads two 12-megapixel photos in turn,
// then from two goroutines at once as feature extraction does, whose
// eighth-scale decodes share their pixels' memory from one photo to the
// next (LoadFile gives them back): a photo loaded again is what it was,
// and what LoadFile returned earlier is not overwritten.
func TestLoadFileReusesEighthPixels(t *testing.T) {
	paths, _ := writeLargePhotos(t, t.TempDir(),
		"../../testdata/photos/flowers/tulip/100930342_92e8746431_n.jpg",
		"../../testdata/photos/pets/pug/pug_112.jpg")
	first := make([]*photo.RGB, len(paths))
	kept := make([][]uint8, len(paths))
	for i, p := range paths {
		m, err := photo.LoadFile(p, 299, photo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		first[i], kept[i] = m, bytes.Clone(m.Pix)
	}
	for round := range 2 {
		for i, p := range paths {
			m, err := photo.LoadFile(p, 299, photo.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Pix, kept[i]) {
				t.Errorf("round %d: %s loaded again differs from its first load", round, p)
			}
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(paths))
	for i, p := range paths {
		wg.Go(func() {
			for range 3 {
				m, err := photo.LoadFile(p, 299, photo.Limits{})
				if err == nil && !bytes.Equal(m.Pix, kept[i]) {
					err = fmt.Errorf("%s loaded beside another photo differs from its first load", p)
				}
				if err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range paths {
		if errs[i] != nil {
			t.Error(errs[i])
		}
		if !bytes.Equal(first[i].Pix, kept[i]) {
			t.Errorf("the first load of %s changed after other loads", paths[i])
		}
	}
}

// writeLargePhotos makes a 12-megapixel JPEG with a phone's grain from each
// sample photo, as tools/largephotos does (3–4 MB), writes them into dir
// and returns their paths and bytes.
func writeLargePhotos(t testing.TB, dir string, samples ...string) (paths []string, files [][]byte) {
	t.Helper()
	for i, src := range samples {
		m, _, err := photo.DecodeFile(src, photo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, largephoto.Make(m, uint64(i), largephoto.Grain), &jpeg.Options{Quality: 92}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths, files = append(paths, p), append(files, buf.Bytes())
	}
	return paths, files
}
