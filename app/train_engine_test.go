package app

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/train"
)

// twoKinds copies n photos of each of two flower kinds into a new folder,
// a data set small enough to fine-tune on in a test.
func twoKinds(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for _, kind := range []string{"daisy", "tulip"} {
		paths, err := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers"), kind, "*.jpg"))
		if err != nil || len(paths) < n {
			t.Fatalf("want %d photos of %s, found %d (%v)", n, kind, len(paths), err)
		}
		if err := os.Mkdir(filepath.Join(dir, kind), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range paths[:n] {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, kind, filepath.Base(p)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestTrainingRunsWhereTheEngineDoes trains with fine-tuning on an engine
// opened with unusual options and checks that every session the job opens
// (the head's training steps, the mixed8 pass, the fine-tuning steps and
// the fine-tuned blocks' features) gets the engine's threads, GPU number
// and power preference, as the inference session has them. They used to
// reach training as a provider alone.
func TestTrainingRunsWhereTheEngineDoes(t *testing.T) {
	a := enginesTestApp(t)
	// On this CPU-only machine the GPU number and power preference change
	// nothing, but they must arrive where an accelerator would use them.
	opt := EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU, Threads: 3, Device: 1, LowPower: true, ProviderOptions: "prefer_nhwc=1"}
	eng, err := a.OpenEngine(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	// Its threads do not spin (decoding shares the cores), which the
	// training sessions' settings need not copy.
	want := onnxrt.Options{Provider: onnxrt.CPU, Threads: 3, Device: 1, LowPower: true, ProviderOptions: map[string]string{"prefer_nhwc": "1"}, Spin: onnxrt.SpinNever}
	if got := eng.Session.Options(); !reflect.DeepEqual(got, want) {
		t.Fatalf("inference session built with %+v, want %+v", got, want)
	}
	var built []onnxrt.Built
	eng.OnBuild = func(b onnxrt.Built) { built = append(built, b) }

	o := train.DefaultOptions()
	o.Epochs, o.FineTune, o.FineTuneEpochs = 1, 1, 1
	_, err = a.Train(context.Background(), eng, TrainRequest{Data: twoKinds(t, 8), DataOptions: dataset.Options{Validation: 0.25}, Options: o}, nil)
	if err != nil {
		t.Fatal(err)
	}

	var head, mixed8, fineTune, spinning int
	for _, b := range built {
		t.Logf("session %v → %v: %+v on %s", b.Inputs[:1], b.Outputs[:1], b.Options, b.Provider)
		w := want
		w.Spin = onnxrt.SpinDefault
		switch {
		case slices.Contains(b.Outputs, inception.Mixed8Output):
			// The one pass over new photos: features and mixed8 together.
			mixed8++
			w.ReleaseMemory = true
		case b.Options.ReleaseMemory:
			// The fine-tuning steps and the tuned blocks' features; the
			// steps' threads spin within their runs.
			fineTune++
			w.ReleaseMemory = true
			if b.Options.Spin == onnxrt.SpinInRuns {
				spinning++
				w.Spin = onnxrt.SpinInRuns
			}
		default:
			head++
			// The head's graph, once its big product moves to Go (see
			// ml/head/outer.go), is a few small layers that run faster on
			// one thread than on many.
			if b.Inputs[0] == "dense_1/product" {
				w.Threads = 1
			}
		}
		if !reflect.DeepEqual(b.Options, w) {
			t.Errorf("session %v → %v built with %+v, want %+v", b.Inputs, b.Outputs[:1], b.Options, w)
		}
		if b.Provider != onnxrt.CPU {
			t.Errorf("session %v runs on %s, want the engine's CPU", b.Inputs[:1], b.Provider)
		}
	}
	if spinning == 0 || spinning == fineTune {
		t.Errorf("%d of %d fine-tuning sessions spin within their runs; want the steps' only", spinning, fineTune)
	}
	if head == 0 || mixed8 != 1 || fineTune < 2 {
		t.Errorf("the job built %d head, %d backbone (features and mixed8) and %d fine-tuning sessions; want at least 1, exactly 1 and at least 2", head, mixed8, fineTune)
	}
}
