package cli

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// TestBenchAllProviders checks `bench --provider all`: one row for each
// provider this system may have, in Automatic's order; those that run say
// what really ran and how fast, the others why they cannot.
func TestBenchAllProviders(t *testing.T) {
	t.Setenv("CLASIFICA_HOME", t.TempDir())
	t.Setenv("ONNXRUNTIME_LIB", mltest.RuntimeLibrary(t))
	if code, _, errOut := clasifica(t, "backbone", "import", mltest.Backbone(t)); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	code, out, errOut := clasifica(t, "bench", "--provider", "all", "--batches", "1", "--seconds", "0.01", "--head=false", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Batches []int `json:"batch_sizes"`
		Rows    []struct {
			Provider onnxrt.Provider `json:"provider"`
			RunsOn   *struct {
				Provider onnxrt.Provider `json:"provider"`
				Name     string          `json:"name"`
			} `json:"runs_on"`
			Error        string             `json:"error"`
			ImagesPerSec map[string]float64 `json:"inference_images_per_second"`
		} `json:"providers"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	order := onnxrt.AutoOrder(runtime.GOOS)
	if len(r.Rows) != len(order) || len(r.Batches) != 1 || r.Batches[0] != 1 {
		t.Fatalf("rows %+v, batches %v: want one row per provider of %v", r.Rows, r.Batches, order)
	}
	for i, row := range r.Rows {
		switch {
		case row.Provider != order[i]:
			t.Errorf("row %d is %s, want %s", i, row.Provider, order[i])
		case row.Error == "" && (row.RunsOn == nil || row.RunsOn.Provider != row.Provider || row.ImagesPerSec["1"] <= 0):
			t.Errorf("%s: measured but %+v, %v", row.Provider, row.RunsOn, row.ImagesPerSec)
		case row.Error != "" && (row.RunsOn != nil || len(row.ImagesPerSec) > 0):
			t.Errorf("%s: cannot run (%s) yet has results", row.Provider, row.Error)
		}
	}
	if cpu := r.Rows[len(r.Rows)-1]; cpu.Provider != onnxrt.CPU || cpu.Error != "" {
		t.Errorf("the CPU row: %+v", cpu)
	}
	code, out, _ = clasifica(t, "bench", "--provider", "all", "--batches", "1", "--seconds", "0.01", "--head=false")
	if code != 0 || !strings.Contains(out, "runs on") || !strings.Contains(out, "CPU") {
		t.Errorf("table: exit %d:\n%s", code, out)
	}
	if code, _, _ := clasifica(t, "bench", "--batches", "0"); code != 2 {
		t.Errorf("--batches 0: exit %d, want 2", code)
	}
}

// TestBenchFineTuneUpdate checks that bench's fine-tuning row runs where
// --fine-tune-update says and says so, and refuses an unknown place.
func TestBenchFineTuneUpdate(t *testing.T) {
	t.Setenv("CLASIFICA_HOME", t.TempDir())
	t.Setenv("ONNXRUNTIME_LIB", mltest.RuntimeLibrary(t))
	if code, _, errOut := clasifica(t, "bench", "--fine-tune-update", "gpu"); code != 2 || !strings.Contains(errOut, "--fine-tune-update") {
		t.Errorf("--fine-tune-update gpu: exit %d: %s", code, errOut)
	}
	if code, _, errOut := clasifica(t, "backbone", "import", mltest.Backbone(t)); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	code, out, errOut := clasifica(t, "bench", "--provider", "cpu", "--batches", "1", "--seconds", "0.01", "--fine-tune-update", "device", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Seconds  float64 `json:"fine_tune_epoch_seconds_per_1000_images"`
		OnDevice bool    `json:"fine_tune_weights_on_device"`
		Note     string  `json:"fine_tune_device_note"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Seconds <= 0 || !r.OnDevice || r.Note != "" {
		t.Errorf("fine-tuning with the update on the device: %+v", r)
	}
}
