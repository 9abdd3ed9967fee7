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

// TestMeasureEndToEnd runs the end-to-end measurement, in two slices, on
// three sample photos and a broken file, and on the first three: one pass
// a slice when no time is asked for, passes for about the time asked
// otherwise (rounded up to whole batches, going on round the photos from
// one slice to the next), and the first pass's features, for the photos
// in their order, those of an extraction of their own.
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
	all := []features.Item{{Path: paths[0]}, {Path: paths[1]}, {Path: broken}, {Path: paths[2]}}
	for _, c := range []struct {
		photos  []features.Item
		seconds float64
	}{{all, 0}, {all, 0.5}, {all[:3], 0.5}} {
		photos, seconds := c.photos, c.seconds
		want, err := eng.Extractor(false).Extract(context.Background(), photos, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := &endToEnd{x: eng.Extractor(false), photos: photos}
		for range 2 { // two slices, as Bench takes them in turn with others
			if err := m.measure(context.Background(), seconds/2); err != nil {
				t.Fatal(err)
			}
		}
		rate, cpuMs := m.t.rates()
		first := m.first
		if m.t.n == 0 || m.t.n%8 != 0 || m.next != m.t.n%len(photos) {
			t.Errorf("%g s: %d photos measured, the next pass to start at %d: want whole batches of 8, going on round the %d photos", seconds, m.t.n, m.next, len(photos))
		}
		if rate <= 0 || cpuMs < 0 {
			t.Errorf("%g s: %g photos/s, %g ms of CPU a photo", seconds, rate, cpuMs)
		}
		for i := range photos {
			if (first.Errs[i] == nil) != (want.Errs[i] == nil) {
				t.Errorf("%g s: %s: error %v, want %v", seconds, photos[i].Path, first.Errs[i], want.Errs[i])
			}
		}
		if len(first.Errs) != len(photos) || len(first.Features) != len(want.Features) {
			t.Fatalf("%g s: first pass of %d errors and %d values for %d photos", seconds, len(first.Errs), len(first.Features), len(photos))
		}
		for i, v := range first.Features {
			if d := v - want.Features[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("%g s: feature %d is %g, an extraction of its own gave %g", seconds, i, v, want.Features[i])
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (&endToEnd{x: eng.Extractor(false), photos: all}).measure(ctx, 0); err == nil {
		t.Error("the end-to-end measurement ignored a cancelled context")
	}
}
