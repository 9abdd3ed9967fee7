// Package mltest finds what the ml packages' tests need: the repository's
// sample photos, the ONNX Runtime library and the offline InceptionV3
// backbone. `make deps` provides the last two; a test that needs one fails
// (never skips) when it is missing, saying how to get it.
package mltest

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"unicode"
)

// Root returns the repository root: the folder holding go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("mltest: no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Photos returns a path inside the repository's sample photos,
// testdata/photos: "pets" (37 Oxford-IIIT Pet breeds × 4) and "flowers" (5
// kinds × 30), with their licences in testdata/photos/README.md.
func Photos(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Root(t), "testdata", "photos"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("mltest: sample photo missing: %v", err)
	}
	return p
}

// TrainingFolder copies the sample photos of set ("flowers", say), one
// folder per kind, into a new temporary folder, less the last keepBack
// photos of each kind by name, which it returns (in place, unread): the
// photos a test sorts and teaches, as the screenshot tour does.
func TrainingFolder(t testing.TB, set string, keepBack int) (root string, kept []string) {
	t.Helper()
	root = t.TempDir()
	kinds, err := os.ReadDir(Photos(t, set))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		if !k.IsDir() {
			continue
		}
		photos, _ := filepath.Glob(filepath.Join(Photos(t, set, k.Name()), "*.jpg"))
		slices.Sort(photos)
		n := max(len(photos)-keepBack, 0)
		if err := os.MkdirAll(filepath.Join(root, k.Name()), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range photos[:n] {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, k.Name(), filepath.Base(p)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		kept = append(kept, photos[n:]...)
	}
	return root, kept
}

// RuntimeLibrary returns the ONNX Runtime shared library: $ONNXRUNTIME_LIB,
// or the one `make deps` puts in .deps/onnxruntime.
func RuntimeLibrary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		return mustExist(t, p)
	}
	name := "libonnxruntime.so.1"
	switch runtime.GOOS {
	case "darwin":
		name = "libonnxruntime.1.30.0.dylib"
	case "windows":
		name = "onnxruntime.dll"
	}
	return mustExist(t, filepath.Join(Root(t), ".deps", "onnxruntime", name))
}

// Backbone returns the offline InceptionV3 backbone folder (the nsfwjs
// weights as a TensorFlow.js layers model): $CLASIFICA_TEST_BACKBONE, or the
// one `make deps` puts in .deps/backbones.
func Backbone(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CLASIFICA_TEST_BACKBONE"); p != "" {
		return mustExist(t, p)
	}
	return mustExist(t, filepath.Join(Root(t), ".deps", "backbones", "nsfwjs-inceptionv3"))
}

// BackboneH5 returns the offline backbone's weights written as a Keras .h5
// file (tools/keras-h5-from-tfjs.py, run by `make test-deps`), in a folder
// with the backbone's info file: $CLASIFICA_TEST_BACKBONE_H5, or
// .deps/backbones/nsfwjs-inceptionv3-h5.
func BackboneH5(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CLASIFICA_TEST_BACKBONE_H5"); p != "" {
		return mustExist(t, p)
	}
	dir := filepath.Join(Root(t), ".deps", "backbones", "nsfwjs-inceptionv3-h5")
	mustExist(t, filepath.Join(dir, "weights.h5"))
	return dir
}

func mustExist(t testing.TB, p string) string {
	t.Helper()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("mltest: %v: run `make test-deps` first", err)
	}
	return p
}

// RelL2 is the relative L2 difference ‖got − want‖ / ‖want‖, computed in
// float64; +Inf when the lengths differ.
func RelL2(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var diff, norm float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		diff += d * d
		norm += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(diff / norm)
}

// LinkBySpecies links the photos of the breed folders in src into cat/
// and dog/ folders in dst (as breed-photo, so that no two collide): the
// Oxford-IIIT Pet names its cat breeds with a capital, as the pet sample
// does. The links leave the photos' content, and so their splits, as
// they are.
func LinkBySpecies(src, dst string) error {
	breeds, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, b := range breeds {
		if !b.IsDir() {
			continue
		}
		kind := "dog"
		if unicode.IsUpper([]rune(b.Name())[0]) {
			kind = "cat"
		}
		if err := os.MkdirAll(filepath.Join(dst, kind), 0o755); err != nil {
			return err
		}
		photos, err := os.ReadDir(filepath.Join(src, b.Name()))
		if err != nil {
			return err
		}
		for _, p := range photos {
			from, err := filepath.Abs(filepath.Join(src, b.Name(), p.Name()))
			if err != nil {
				return err
			}
			if err := os.Symlink(from, filepath.Join(dst, kind, b.Name()+"-"+p.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
