package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// TestGraphCache checks that a CPU engine saves ONNX Runtime's optimised
// graph of the backbone, that the next engine is built from it and
// computes the same features of real photos, and that a damaged saved
// graph is replaced by a fresh optimisation, never an error.
func TestGraphCache(t *testing.T) {
	a := enginesTestApp(t)
	opt := EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU, Threads: 2}
	photos, err := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers"), "*", "*.jpg"))
	if err != nil || len(photos) < 3 {
		t.Fatalf("sample photos: %v (%d)", err, len(photos))
	}
	items := []features.Item{{Path: photos[0]}, {Path: photos[1]}, {Path: photos[len(photos)-1]}}
	extract := func(what string) []float32 {
		t.Helper()
		eng, err := a.OpenEngine(context.Background(), opt)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		defer eng.Close()
		r, err := eng.Extractor(false).Extract(context.Background(), items, nil)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for i, e := range r.Errs {
			if e != nil {
				t.Fatalf("%s: %s: %v", what, items[i].Path, e)
			}
		}
		return r.Features
	}
	saved := func() []string {
		t.Helper()
		in, err := a.ResolveBackbone(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(in.Dir, graphCacheDir, "graph-*.ort.onnx"))
		return files
	}

	fresh := extract("fresh optimisation")
	files := saved()
	if len(files) != 1 {
		t.Fatalf("after the first engine: saved graphs %v, want one", files)
	}
	if got := extract("saved graph"); mltest.RelL2(got, fresh) > 1e-6 {
		t.Errorf("features from the saved graph differ from the fresh session's: relative L2 %g", mltest.RelL2(got, fresh))
	}

	// A damaged file (a disk error, a kill while another release wrote
	// it) costs one fresh optimisation, which replaces it.
	if err := os.WriteFile(files[0], []byte("not an ONNX graph"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := extract("damaged saved graph"); mltest.RelL2(got, fresh) > 1e-6 {
		t.Errorf("features after replacing a damaged saved graph: relative L2 %g", mltest.RelL2(got, fresh))
	}
	if st, err := os.Stat(files[0]); err != nil || st.Size() < 1<<20 {
		t.Errorf("the damaged saved graph was not replaced: %v, %v", st, err)
	}
}

// TestGraphCacheKey checks that the saved graph's name changes with what
// the optimised graph depends on: the model, the runtime's release.
func TestGraphCacheKey(t *testing.T) {
	c := onnxrt.GraphCache{Dir: "d", Key: "model A"}
	d := onnxrt.GraphCache{Dir: "d", Key: "model B"}
	if c.File("1.30.0") == d.File("1.30.0") {
		t.Error("two models share a saved graph")
	}
	if c.File("1.30.0") == c.File("1.29.0") {
		t.Error("two runtime releases share a saved graph")
	}
	if c.File("1.30.0") != c.File("1.30.0") {
		t.Error("the same model and release give two names")
	}
}
