package keras

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/clasifica/clasifica/ml/hdf5"
)

// FuzzReadH5 reads arbitrary bytes as a Keras weights file. Seeds are the
// fixtures; run with
//
//	go test -fuzz FuzzReadH5 ./ml/keras
func FuzzReadH5(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.h5"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		layers, err := readH5(bytes.NewReader(b), int64(len(b)), hdf5.Limits{MaxValueBytes: 1 << 20}, 4<<20)
		if err != nil {
			return
		}
		for _, l := range layers {
			if len(l.Weights) == 0 {
				t.Fatalf("layer %q without weights", l.Name)
			}
			for _, a := range l.Weights {
				if len(a.Data) != a.Size() {
					t.Fatalf("layer %q weight %q: %d values for shape %v", l.Name, a.Name, len(a.Data), a.Shape)
				}
			}
		}
	})
}
