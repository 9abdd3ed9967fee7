package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// TestFineTune runs both stages on the flower sample (mixed10 only, one
// fine-tuning epoch, to keep the test short) and checks the events, the
// model file and that the saved model (fine-tuned blocks in the backbone
// graph, then the head) reproduces the run's evaluation.
func TestFineTune(t *testing.T) {
	f := setup(t)
	// Without a validation split every epoch counts as the best, so the
	// fine-tuned blocks are kept.
	d := flowers(t, 0, 0.2)
	o := DefaultOptions()
	o.Epochs, o.FineTune, o.FineTuneEpochs = 3, 1, 1
	var events []Event
	released := -1 // the number of events before ReleaseExtractor was called
	release := func() {
		if released >= 0 {
			t.Error("ReleaseExtractor called twice")
		}
		released = len(events)
	}
	res, err := Run(context.Background(), Job{Data: d, Extractor: f.ext, Backbone: f.ref, Engine: f.eng, Weights: f.w, Options: o, ReleaseExtractor: release},
		func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	if released < 1 || events[released-1] != (PhaseStarted{Phase: FineTuning}) {
		t.Errorf("ReleaseExtractor called after %d events, want right after fine-tuning started", released)
	}
	var phases []string
	var stages []int
	for _, e := range events {
		switch e := e.(type) {
		case PhaseStarted:
			phases = append(phases, string(e.Phase))
		case EpochFinished:
			stages = append(stages, e.Stage)
			t.Logf("epoch %d (stage %d): loss %.3f, %.1f s", e.Epoch.Epoch, e.Stage, e.Loss, e.Seconds)
			if e.Epoch.Epoch != len(stages) || e.Epochs != 4 {
				t.Errorf("epoch event %d: %+v", len(stages), e)
			}
		}
	}
	if want := []string{string(Caching), string(Training), string(FineTuning), string(Evaluating)}; !slices.Equal(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
	if !slices.Equal(stages, []int{1, 1, 1, 2}) {
		t.Errorf("epoch stages %v, want 3 of the head's then 1 of fine-tuning", stages)
	}
	m := res.Model
	t.Logf("fine-tuned %v, best epoch %d, test accuracy %.3f", res.FineTuned, m.Training.BestEpoch, res.Report.Accuracy)
	if !res.FineTuned || m.Training.BestEpoch != 4 || len(m.Top) != 9 {
		t.Fatalf("fine-tuned %v, best epoch %d, %d fine-tuned units (mixed10 has 9)", res.FineTuned, m.Training.BestEpoch, len(m.Top))
	}
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	read, err := model.Parse(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("model file: %d bytes", b.Len())
	// Classify one evaluated photo as the app does: the backbone graph with
	// the model's units, then the head.
	w, err := read.Apply(f.w)
	if err != nil {
		t.Fatal(err)
	}
	onnx, err := proto.Marshal(w.Model(f.ref.Preprocess, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.eng.Runtime.NewSession(onnx, inception.InputName, inception.OutputName, onnxrt.Options{Provider: onnxrt.CPU})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw, err := (&features.Extractor{Session: s}).Extract(context.Background(), []features.Item{{Path: res.Samples[0].Path}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := head.FromLayers(read.Head)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Predict(raw.Features)
	if err != nil {
		t.Fatal(err)
	}
	// "Not one of its kinds" is measured on the tuned features: the
	// saved model's statistics place its own test photo among its kinds.
	if read.Strangers == nil {
		t.Error("the fine-tuned model keeps no stranger statistics")
	} else if prof, err := Profile(read); err != nil {
		t.Error(err)
	} else if prof != nil {
		z, _ := prof.Deviations(raw.Features)
		t.Logf("a test flower stands %.1f deviations from its nearest kind", z)
		if math.IsNaN(z) || z >= 4 {
			t.Errorf("a test flower stands %.1f deviations out of the fine-tuned model's kinds", z)
		}
	} else {
		t.Logf("strangers not judged: %s", read.Strangers.Reason)
	}
	for k := range p {
		// The activations were cached in float16.
		if math.Abs(float64(p[k]-res.Samples[0].Probs[k])) > 2e-3 {
			t.Fatalf("saved model gives %v, evaluation %v", p, res.Samples[0].Probs)
		}
	}
}

// TestFineTuneCancel cancels during fine-tuning (of 100 epochs): no epoch
// finishes after the cancel, and the run ends with Cancelled. The 300 ms
// wait places the cancel while the stage builds its trainer or runs its
// first steps, depending on the machine; either way the assertions hold,
// and nothing is timed.
func TestFineTuneCancel(t *testing.T) {
	f := setup(t)
	d := flowers(t, 0.2, 0)
	o := DefaultOptions()
	o.Epochs, o.FineTune, o.FineTuneEpochs = 1, 2, 100
	ctx, cancel := context.WithCancel(context.Background())
	var cancelled atomic.Bool
	late := 0 // fine-tuning epochs finished after the cancel
	var last Event
	_, err := Run(ctx, Job{Data: d, Extractor: f.ext, Backbone: f.ref, Engine: f.eng, Weights: f.w, Options: o}, func(e Event) {
		last = e
		if ep, ok := e.(EpochFinished); ok && ep.Stage == 2 && cancelled.Load() {
			late++
		}
		if p, ok := e.(PhaseStarted); ok && p.Phase == FineTuning {
			go func() {
				time.Sleep(300 * time.Millisecond)
				cancelled.Store(true)
				cancel()
			}()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if _, ok := last.(Cancelled); !ok {
		t.Errorf("last event %T, want Cancelled", last)
	}
	if late > 0 {
		t.Errorf("%d fine-tuning epochs finished after the cancel", late)
	}
}

// TestFineTuneDiverges checks that a fine-tuning that blows up (here with a
// learning rate 10⁷ times too high) costs the run nothing: it is reported,
// tried again once more slowly, stopped, and the model is the head's best.
func TestFineTuneDiverges(t *testing.T) {
	f := setup(t)
	d := flowers(t, 0.2, 0)
	o := DefaultOptions()
	o.Epochs, o.FineTune, o.FineTuneEpochs, o.FineTuneLearningRate = 2, 2, 3, 1e4
	var stopped []FineTuneStopped
	res, err := Run(context.Background(), Job{Data: d, Extractor: f.ext, Backbone: f.ref, Engine: f.eng, Weights: f.w, Options: o}, func(e Event) {
		if s, ok := e.(FineTuneStopped); ok {
			stopped = append(stopped, s)
		}
	})
	if err != nil {
		t.Fatalf("a diverging fine-tuning failed the run: %v", err)
	}
	// Started again ten times slower, it diverges again, and stops.
	want := []FineTuneStopped{{Epoch: 2, LearningRate: 1e4, Again: true}, {Epoch: 2, LearningRate: 1e3}}
	if !slices.Equal(stopped, want) {
		t.Errorf("FineTuneStopped events %+v, want %+v", stopped, want)
	}
	if res.FineTuned {
		t.Error("the model kept fine-tuned blocks from a diverged fine-tuning")
	}
	for _, e := range res.Model.Training.Epochs {
		if e.Stage == 2 {
			t.Errorf("a fine-tuning epoch was recorded: %+v", e)
		}
	}
	if err := res.Model.Validate(); err != nil {
		t.Errorf("the model after a diverged fine-tuning: %v", err)
	}
}
