// Package samples holds the photos Clasifica calibrates and checks its
// 8-bit image model on, built into the program so that every install has
// them: a fixed quarter of the sample pets and flowers to measure the
// activations' ranges on (Calibration), another quarter that, with those,
// gives the guard's classifier its class means (Reference), and the other
// half, none of those, to check the 8-bit model against the float one
// (Guard).
//
// They come from the repository's sample photos (testdata/photos, whose
// README gives their sources and licences: Oxford-IIIT Pet, CC BY-SA 4.0;
// TensorFlow's flower photos, CC BY): photos number 0, 4, 8, … of each
// set in name order calibrate, 2, 6, 10, … are the reference, the
// odd-numbered ones are the guard's. The
// pets are stored as the 299×299 squares the network sees (JPEG, quality
// 90) to keep the program small; the flowers are the 128×128 originals.
// `go generate` rebuilds the folder from testdata/photos.
package samples

//go:generate go run ./gen ../../../testdata/photos photos

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/clasifica/clasifica/ml/photo"
)

//go:embed photos
var files embed.FS

// Photo is one sample photo.
type Photo struct {
	// Set is "pets" or "flowers"; Label the photo's kind within it ("cat"
	// or "dog" for pets, the flower's name for flowers).
	Set, Label string
	// Name is the original file's name.
	Name string
	// Data is the JPEG file.
	Data []byte
}

// Calibration returns the photos to calibrate on, in name order.
func Calibration() ([]Photo, error) { return list("photos/calibration") }

// Reference returns the photos that, with the calibration photos, give
// the guard's nearest-class-mean classifier its class means, in name
// order: neither calibration nor guard photos.
func Reference() ([]Photo, error) { return list("photos/reference") }

// Guard returns the photos to check the 8-bit model on, in name order:
// none of them is a calibration photo.
func Guard() ([]Photo, error) { return list("photos/guard") }

// list reads the photos of dir, named SET_LABEL_NAME.jpg.
func list(dir string) ([]Photo, error) {
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return nil, fmt.Errorf("sample photos: %w", err)
	}
	var out []Photo
	for _, e := range entries {
		parts := strings.SplitN(e.Name(), "_", 3)
		if len(parts) != 3 || path.Ext(e.Name()) != ".jpg" {
			continue
		}
		data, err := files.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sample photo %s: %w", e.Name(), err)
		}
		out = append(out, Photo{Set: parts[0], Label: parts[1], Name: parts[2], Data: data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Set+out[i].Name < out[j].Set+out[j].Name })
	return out, nil
}

// Pixels decodes p and returns it as the network's input: size×size RGB
// values in 0…255, squashed to the square as photo.LoadFile does. Go's
// JPEG decoder is used on every platform, so the pixels, and therefore
// the calibration, are the same everywhere.
func (p Photo) Pixels(size int) ([]float32, error) {
	img, _, err := photo.Decode(bytes.NewReader(p.Data), photo.Limits{JPEG: photo.JPEGGo})
	if err != nil {
		return nil, fmt.Errorf("sample photo %s: %w", p.Name, err)
	}
	rgb := photo.Resize(img, size, size)
	out := make([]float32, len(rgb.Pix))
	for i, v := range rgb.Pix {
		out[i] = float32(v)
	}
	return out, nil
}
