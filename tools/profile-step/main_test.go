package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// TestSummarise reads a profile of two runs on WebGPU in which a Shape
// node fell back to the CPU, with the provider's own kernel timings, and
// checks what the summary says about placement.
func TestSummarise(t *testing.T) {
	node := func(name, op, ep string, dur int64) map[string]any {
		return map[string]any{"cat": "Node", "name": name + "_kernel_time", "dur": dur, "args": map[string]any{"op_name": op, "provider": ep}}
	}
	run := map[string]any{"cat": "Session", "name": "model_run", "dur": 9000}
	var events []map[string]any
	for range 2 {
		events = append(events,
			node("conv_grad_x~1", "ConvTranspose", "WebGpuExecutionProvider", 3000),
			node("sgd~dense_1/kernel~lr_g", "Mul", "WebGpuExecutionProvider", 200),
			node("shape~2", "Shape", "CPUExecutionProvider", 50),
			map[string]any{"cat": "Kernel", "name": "conv_grad_x~1&ConvTranspose", "dur": 2500, "args": map[string]any{"op_name": "ConvTranspose"}},
			run)
	}
	data, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "step.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	err = summarise(path, onnxrt.WebGPU)
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out)
	for _, want := range []string{
		"1 runs counted, 9.0 ms per run, of which nodes 3.2 ms",
		"nodes per run by execution provider: CPUExecutionProvider 1 WebGpuExecutionProvider 2",
		"optimiser: SGD in the graph",
		"not on WebGPU",
		"Shape on CPUExecutionProvider",
		"nodes: shape~2",
		"kernels per run 1, 2.5 ms per run",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}
