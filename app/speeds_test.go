package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clasifica/clasifica/ml/model"
)

// TestFineTuneEstimate checks the estimate before and after this computer
// fine-tuned: a guess first (faster on an accelerator), then the measured
// speed of the device, kept across restarts, per number of blocks.
func TestFineTuneEstimate(t *testing.T) {
	dirs := Dirs{Cache: t.TempDir()}
	a := New(dirs)
	sec := func(e Estimate) float64 { return e.Duration.Seconds() }

	if e := a.FineTuneEstimate("CPU", 2, 100, 10); e.Measured || sec(e) != fineTuneGuess*100*10 {
		t.Errorf("CPU, nothing measured: %v (measured %v), want the guess %v s", e.Duration, e.Measured, fineTuneGuess*100*10)
	}
	if e := a.FineTuneEstimate("CUDA (NVIDIA H200)", 2, 100, 10); e.Measured || sec(e) != fineTuneGuess*100*10/acceleratorSpeedup {
		t.Errorf("GPU, nothing measured: %v, want the guess over %d", e.Duration, acceleratorSpeedup)
	}

	// A run with 120 training and 30 validation photos whose two
	// fine-tuning epochs took 12 s and 18 s: 0.1 s per photo-epoch.
	run := &model.Training{TrainCount: 120, ValCount: 30, Options: model.Hyperparameters{FineTune: 2},
		Epochs: []model.Epoch{{Stage: 1, Seconds: 1}, {Stage: 1, Seconds: 1}, {Stage: 2, Seconds: 12}, {Stage: 2, Seconds: 18}}}
	a.recordFineTune("CPU", run)
	a.recordFineTune("CPU", &model.Training{TrainCount: 10, Epochs: []model.Epoch{{Stage: 1, Seconds: 5}}}) // head only: nothing to learn

	for _, app := range []*App{a, New(dirs)} { // the second reads the file
		if e := app.FineTuneEstimate("CPU", 2, 100, 10); !e.Measured || e.Duration != 100*time.Second {
			t.Errorf("CPU after a run: %v (measured %v), want 1m40s measured", e.Duration, e.Measured)
		}
		if e := app.FineTuneEstimate("CPU", 1, 100, 10); e.Measured {
			t.Errorf("one block after a run of two: measured %v, want a guess", e.Duration)
		}
		if e := app.FineTuneEstimate("CUDA (NVIDIA H200)", 2, 100, 10); e.Measured {
			t.Errorf("GPU after a CPU run: measured %v, want a guess", e.Duration)
		}
	}

	// A damaged file costs the measurement, nothing else.
	if err := os.WriteFile(filepath.Join(dirs.Cache, "speeds.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if e := New(dirs).FineTuneEstimate("CPU", 2, 100, 10); e.Measured {
		t.Errorf("damaged speeds file: measured %v, want the guess", e.Duration)
	}
}
