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

// TestMeasureEndToEnd runs the end-to-end measurement on three sample
// photos and a broken file: one pass when no time is asked for, passes for
// about the time asked otherwise, each counting every photo, and the first
// pass's features those of an extraction of its own.
func TestMeasureEndToEnd(t *testing.T) {
	a := enginesTestApp(t)
	eng, err := a.OpenEngine(context.Background(), EngineOptions{Runtime: mltest.RuntimeLibrary(t), Provider: onnxrt.CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	paths, err := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers"), "tulip", "*.jpg"))
	if err != nil || len(paths) < 3 {
		t.Fatalf("sample photos: %v (%d)", err, len(paths))
	}
	broken := filepath.Join(t.TempDir(), "broken.jpg")
	data, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, data[:300], 0o644); err != nil {
		t.Fatal(err)
	}
	photos := []features.Item{{Path: paths[0]}, {Path: paths[1]}, {Path: broken}, {Path: paths[2]}}
	want, err := eng.Extractor(false).Extract(context.Background(), photos, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, seconds := range []float64{0, 0.5} {
		rate, cpuMs, first, err := measureEndToEnd(context.Background(), eng.Extractor(false), photos, seconds)
		if err != nil {
			t.Fatal(err)
		}
		if rate <= 0 || cpuMs < 0 {
			t.Errorf("%g s: %g photos/s, %g ms of CPU a photo", seconds, rate, cpuMs)
		}
		for i := range photos {
			if (first.Errs[i] == nil) != (want.Errs[i] == nil) {
				t.Errorf("%g s: %s: error %v, want %v", seconds, photos[i].Path, first.Errs[i], want.Errs[i])
			}
		}
		for i, v := range first.Features {
			if d := v - want.Features[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("%g s: feature %d is %g, an extraction of its own gave %g", seconds, i, v, want.Features[i])
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, _, err := measureEndToEnd(ctx, eng.Extractor(false), photos, 0); err == nil {
		t.Error("measureEndToEnd ignored a cancelled context")
	}
}
