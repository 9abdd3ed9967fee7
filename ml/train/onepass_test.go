package train

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// TestFineTuneOnePass checks that a fine-tuning run sends each photo
// through the backbone once: its only backbone session outputs both the
// features and the mixed8 activations, and afterwards the cache holds both
// for every photo, under the keys that extraction and fine-tuning use.
func TestFineTuneOnePass(t *testing.T) {
	f := setup(t)
	root := t.TempDir()
	for _, kind := range []string{"daisy", "rose"} {
		src := filepath.Join(mltest.Photos(t, "flowers"), kind)
		names, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(root, kind), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names[:8] {
			data, err := os.ReadFile(filepath.Join(src, n.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, kind, n.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	d, err := dataset.Scan(context.Background(), root, dataset.Options{Validation: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	cache, err := features.OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ext := *f.ext
	ext.Cache = cache
	eng := f.eng
	var built []onnxrt.Built
	eng.OnBuild = func(b onnxrt.Built) { built = append(built, b) }
	o := DefaultOptions()
	o.Epochs, o.FineTune, o.FineTuneEpochs = 1, 1, 1
	var photos int
	_, err = Run(context.Background(), Job{Data: d, Extractor: &ext, Backbone: f.ref, Engine: eng, Weights: f.w, Options: o},
		func(e Event) {
			if x, ok := e.(Extraction); ok {
				photos = x.Progress.Total
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if photos != len(d.Items) {
		t.Errorf("extraction covered %d photos, want %d", photos, len(d.Items))
	}
	var backbone int
	for _, b := range built {
		// The backbone reads the photos; the fine-tuning graphs read
		// the mixed8 activations.
		if slices.Contains(b.Inputs, inception.InputName) {
			backbone++
			if !slices.Equal(b.Outputs, []string{inception.OutputName, inception.Mixed8Output}) {
				t.Errorf("a backbone session outputs %v, want the features and the mixed8 activations together", b.Outputs)
			}
		}
	}
	if backbone != 1 {
		t.Errorf("the run built %d backbone sessions, want 1 (all sessions' outputs: %v)", backbone, built)
	}

	// Both vectors of every photo are in the cache: a features extraction
	// and a mixed8 one would both find them all.
	items := make([]features.Item, len(d.Items))
	for i, it := range d.Items {
		items[i] = features.Item{Path: it.Path, Hash: it.Hash}
	}
	again, err := ext.Extract(context.Background(), items, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.FromCache != len(items) {
		t.Errorf("%d of %d photos' features were cached", again.FromCache, len(items))
	}
	m8 := ext
	m8.Mixed8 = &features.Mixed8{Backbone: f.ref.SHA256 + "-mixed8", Cache: cache}
	for _, it := range items {
		if v, ok := cache.GetHalf(m8.Mixed8Key(it), nil); !ok || len(v) != inception.Mixed8Values {
			t.Fatalf("%s: no mixed8 activations cached", it.Path)
		}
	}
}
