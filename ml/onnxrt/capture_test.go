package onnxrt

import (
	"slices"
	"testing"
)

// TestProviderOptions checks that CUDA and WebGPU are asked to capture
// graphs only when Options.GraphCapture says so, and keep their other
// options.
func TestProviderOptions(t *testing.T) {
	if got := cudaOptions(Options{Device: 1}); len(got) != 1 || got["device_id"] != "1" {
		t.Errorf("CUDA without capture: %v", got)
	}
	if got := cudaOptions(Options{GraphCapture: true}); got["enable_cuda_graph"] != "1" || got["device_id"] != "0" {
		t.Errorf("CUDA with capture: %v", got)
	}
	if got := webgpuOptions(Options{LowPower: true}); len(got) != 1 || got["powerPreference"] != "low-power" {
		t.Errorf("WebGPU without capture: %v", got)
	}
	if got := webgpuOptions(Options{GraphCapture: true}); got["enableGraphCapture"] != "1" || got["powerPreference"] != "high-performance" {
		t.Errorf("WebGPU with capture: %v", got)
	}
}

// TestCapturedSteps runs steps as a captured graph's replays are run: the
// batch copied into a device value bound once (the CPU's memory here: the
// same calls as on a GPU), the result copied out of another, both bindings
// numbered as graphs. The graph numbers are run options the CPU provider
// ignores; the steps must compute what they compute without them.
func TestCapturedSteps(t *testing.T) {
	s, mem, cp := stepDevice(t)
	alloc := func(m *Memory, shape ...int64) *Value {
		var v *Value
		var err error
		if m == nil {
			v, err = NewHostValue(shape...)
		} else {
			v, err = m.NewValue(shape...)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(v.Close) // before the memory and the session: cleanups run last first
		return v
	}
	x, y := alloc(mem, 2, 3), alloc(mem, 2, 3)
	hx, hy := alloc(nil, 2, 3), alloc(nil, 2, 3)
	w := [2]*Value{alloc(mem, 3), alloc(mem, 3)}
	if err := cp.FromHost(w[0], []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	var bind [2]*Binding
	for c := range bind {
		var err error
		if bind[c], err = s.NewBinding(); err != nil {
			t.Fatal(err)
		}
		defer bind[c].Close()
		for _, err := range []error{
			bind[c].BindInput("x", x), bind[c].BindInput("w", w[c]),
			bind[c].BindOutput("y", y), bind[c].BindOutput("w_next", w[1-c]),
			bind[c].SetGraphID(c + 1),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for step := range 4 {
		for i := range hx.Data() {
			hx.Data()[i] = float32(step*10 + i)
		}
		if err := cp.Copy(x, hx); err != nil {
			t.Fatal(err)
		}
		b := bind[step%2]
		if err := b.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := b.SynchronizeOutputs(); err != nil {
			t.Fatal(err)
		}
		if err := cp.Copy(hy, y); err != nil {
			t.Fatal(err)
		}
		for i, v := range hy.Data() {
			if want := 2*float32(step*10+i) + 1; v != want {
				t.Fatalf("step %d, y[%d] = %v, want %v", step, i, v, want)
			}
		}
	}
	got := make([]float32, 3)
	if err := cp.ToHost(got, w[0]); err != nil {
		t.Fatal(err)
	}
	if want := []float32{5, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("weight after 4 steps %v, want %v", got, want)
	}
	if err := cp.Copy(hy, w[0]); err == nil {
		t.Error("copy of a [3] value into a [2 3] one: no error")
	}
}
