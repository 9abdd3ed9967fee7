package app

import (
	"context"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// enginesTestApp returns an app over a temporary home with the offline backbone
// installed.
func enginesTestApp(t *testing.T) *App {
	t.Helper()
	home := t.TempDir()
	a := New(Dirs{Cache: home + "/cache", Config: home + "/config"})
	if _, err := a.Backbones.Import(context.Background(), mltest.Backbone(t)); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestEnginesAndBatches(t *testing.T) {
	a := enginesTestApp(t)
	engines := NewEngines(a)
	defer engines.Close()
	opt := EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU, Threads: 2}
	eng, err := engines.Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	again, err := engines.Open(context.Background(), opt)
	if err != nil || again != eng {
		t.Fatalf("opening the same engine again gave %p (%v), want the open one %p", again, err, eng)
	}

	// A model with a random head on this backbone, for its predictions'
	// shape only.
	cfg := head.DefaultConfig()
	cfg.Hidden = 0
	h, err := head.New(features.Dim, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := &model.Model{Meta: model.Meta{Labels: []string{"a", "b"}, Backbone: eng.Ref()}, Head: h.Layers()}
	if other, err := engines.OpenFor(context.Background(), m, opt); err != nil || other != eng {
		t.Fatalf("OpenFor gave %p (%v), want the open engine", other, err)
	}
	c, err := NewClassifier(m, eng)
	if err != nil {
		t.Fatal(err)
	}
	paths := sampleFlowers(t, 10)
	var starts []int
	var got []Prediction
	lastDone := -1
	err = c.ClassifyInBatches(context.Background(), paths, 4, func(start int, preds []Prediction) {
		starts = append(starts, start)
		got = append(got, preds...)
	}, func(p features.Progress) {
		if p.Total != len(paths) || p.Done < lastDone {
			t.Errorf("progress %+v after %d done: want totals over all photos, never going back", p, lastDone)
		}
		lastDone = p.Done
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(starts) != 3 || starts[0] != 0 || starts[1] != 4 || starts[2] != 8 {
		t.Errorf("batches started at %v, want [0 4 8]", starts)
	}
	if len(got) != len(paths) || lastDone != len(paths) {
		t.Fatalf("%d predictions, progress ended at %d; want %d", len(got), lastDone, len(paths))
	}
	for i, p := range got {
		if p.Path != paths[i] || p.Err != nil || len(p.Top) != 2 {
			t.Errorf("prediction %d: %+v", i, p)
		}
	}
}
