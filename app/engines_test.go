package app

import (
	"context"
	"slices"
	"strings"
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
	eng, release, err := engines.Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	again, releaseAgain, err := engines.Open(context.Background(), opt)
	if err != nil || again != eng {
		t.Fatalf("opening the same engine again gave %p (%v), want the open one %p", again, err, eng)
	}
	releaseAgain()

	// A model with a random head on this backbone, for its predictions'
	// shape only.
	cfg := head.DefaultConfig()
	cfg.Hidden = 0
	h, err := head.New(features.Dim, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := &model.Model{Meta: model.Meta{Labels: []string{"a", "b"}, Backbone: eng.Ref()}, Head: h.Layers()}
	other, releaseOther, err := engines.OpenFor(context.Background(), m, opt)
	if err != nil || other != eng {
		t.Fatalf("OpenFor gave %p (%v), want the open engine", other, err)
	}
	releaseOther()
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

// TestEnginesCloseWhatNobodyUses changes the settings while a job holds an
// engine, as a user does in Settings during a training: the job's engine
// stays open until the job ends, then closes, and engines of the latest
// settings that nobody uses stay for the next job, at most keepIdle of
// them.
func TestEnginesCloseWhatNobodyUses(t *testing.T) {
	a := enginesTestApp(t)
	engines := NewEngines(a)
	defer engines.Close()
	ctx := context.Background()
	lib := mltest.RuntimeLibrary(t)
	closed := func(eng *Engine) bool {
		_, err := eng.Session.Run(ctx, make([]float32, 299*299*3), 1, 299, 299, 3)
		return err != nil && strings.Contains(err.Error(), "closed")
	}

	one := EngineOptions{Runtime: lib, Provider: onnxrt.CPU, Threads: 1}
	job, endJob, err := engines.Open(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	// The settings change during the job: another thread count.
	two := one
	two.Threads = 2
	next, release, err := engines.Open(ctx, two)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if n := engines.Len(); n != 2 {
		t.Fatalf("%d engines open during the job, want its own and the new settings' one", n)
	}
	if closed(job) {
		t.Fatal("the job's engine was closed while the job used it")
	}
	// A request for the old settings, cancelled before its turn (the
	// settings changed again), changes nothing.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, release, err := engines.Open(cancelled, one); err == nil {
		release()
		t.Error("a cancelled request got an engine")
	}
	endJob()
	endJob() // a second call does nothing
	if !closed(job) {
		t.Error("the old settings' engine stayed open after its job ended")
	}
	if closed(next) || engines.Len() != 1 {
		t.Errorf("after the job: the new settings' engine closed %v, %d open; want it open, alone", closed(next), engines.Len())
	}
	again, release, err := engines.Open(ctx, two)
	if err != nil || again != next {
		t.Fatalf("the new settings' engine was opened again (%v): want the idle one reused", err)
	}
	release()

	// Idle engines of the same settings (the backbone, and models with
	// their own fine-tuned blocks): the least recently used beyond
	// keepIdle closes.
	w, err := a.Backbones.Weights(next.Backbone)
	if err != nil {
		t.Fatal(err)
	}
	var tuned []*Engine
	for i := range keepIdle {
		// A model whose last unit differs from the backbone's.
		u := w.Units[len(w.Units)-1]
		kernel := slices.Clone(u.Kernel)
		kernel[0] += float32(i + 1)
		m := &model.Model{Meta: model.Meta{Labels: []string{"a", "b"}, Backbone: next.Ref()},
			Top: []model.Unit{{Conv: u.Conv, BN: u.BN, Kernel: kernel, Beta: u.Beta}}}
		eng, release, err := engines.OpenFor(ctx, m, two)
		if err != nil {
			t.Fatal(err)
		}
		release()
		tuned = append(tuned, eng)
	}
	if n := engines.Len(); n != keepIdle {
		t.Errorf("%d engines open, want keepIdle (%d)", n, keepIdle)
	}
	if !closed(next) || closed(tuned[keepIdle-1]) {
		t.Errorf("least recently used closed %v, most recent closed %v; want the first only", closed(next), closed(tuned[keepIdle]))
	}
}
