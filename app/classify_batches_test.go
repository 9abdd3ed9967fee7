package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// TestClassifyInBatchesAsClassify checks that the batches of one
// extraction give, in order, what Classify gives the same photos (a broken
// one included), and that cancelling from a batch stops the rest.
func TestClassifyInBatchesAsClassify(t *testing.T) {
	a := enginesTestApp(t)
	engines := NewEngines(a)
	defer engines.Close()
	eng, release, err := engines.Open(context.Background(), EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	h, err := head.New(features.Dim, 3, head.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	m := &model.Model{Meta: model.Meta{Labels: []string{"a", "b", "c"}, Backbone: eng.Ref()}, Head: h.Layers()}
	c, err := NewClassifier(m, eng)
	if err != nil {
		t.Fatal(err)
	}
	paths := sampleFlowers(t, 12)
	bad := filepath.Join(t.TempDir(), "broken.jpg")
	if err := os.WriteFile(bad, []byte("not a photo"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths = append(paths[:6], append([]string{bad}, paths[6:]...)...)

	want, err := c.Classify(context.Background(), paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []Prediction
	var starts []int
	err = c.ClassifyInBatches(context.Background(), paths, 5, func(start int, preds []Prediction) {
		if start != len(got) || (len(preds) != 5 && start+len(preds) != len(paths)) {
			t.Errorf("batch of %d at %d after %d predictions", len(preds), start, len(got))
		}
		starts = append(starts, start)
		got = append(got, preds...)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(paths) || len(starts) != 3 {
		t.Fatalf("%d predictions in batches at %v, want %d in 3", len(got), starts, len(paths))
	}
	for i, p := range got {
		w := want[i]
		if p.Path != w.Path || (p.Err == nil) != (w.Err == nil) || p.Label() != w.Label() || mltest.RelL2(p.Probs, w.Probs) > 1e-5 {
			t.Errorf("prediction %d: %s %q %v, Classify gave %s %q %v", i, p.Path, p.Label(), p.Err, w.Path, w.Label(), w.Err)
		}
	}
	if got[6].Err == nil {
		t.Errorf("the broken photo has no error")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var handed int
	err = c.ClassifyInBatches(ctx, paths, 2, func(_ int, preds []Prediction) {
		handed += len(preds)
		cancel()
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v after cancelling, want context.Canceled", err)
	}
	if handed >= len(paths) {
		t.Errorf("all %d photos were handed after cancelling at the first batch", handed)
	}
}
