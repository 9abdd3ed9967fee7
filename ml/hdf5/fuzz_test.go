package hdf5

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen opens arbitrary bytes as an HDF5 file and reads everything in
// it. Seeds are the fixtures; run with
//
//	go test -fuzz FuzzOpen ./ml/hdf5
func FuzzOpen(f *testing.F) {
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
		walkAll(t, b, 1<<20)
	})
}
