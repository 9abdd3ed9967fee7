package onnxrt

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/onnx"
	"google.golang.org/protobuf/proto"
)

// stepModel is a training step in miniature: y = 2x + 1 over [batch, 3]
// read from the host, and w' = w + 1 over a weight w [3] that stays bound.
func stepModel(t *testing.T) []byte {
	g := onnx.NewGraph("step")
	g.Input("x", -1, 3)
	g.Input("w", 3)
	y := g.Node("Mul", "twice", []string{"x", g.Float("two", []float32{2})})
	g.Node("Add", "y", []string{y, g.Float("one", []float32{1})})
	g.Node("Add", "w_next", []string{"w", "one"})
	g.Output("y", -1, 3)
	g.Output("w_next", 3)
	b, err := proto.Marshal(g.Model("test", "", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stepSession opens stepModel on the CPU; the caller closes it.
func stepSession(t *testing.T) *MultiSession {
	t.Helper()
	rt, err := Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.NewMultiSession(stepModel(t), []string{"x", "w"}, []string{"y", "w_next"}, Options{Provider: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stepDevice opens stepModel on the CPU with its device memory and a
// copier, closed (in that order, after what the test closes itself) when
// the test ends.
func stepDevice(t *testing.T) (*MultiSession, *Memory, *Copier) {
	s := stepSession(t)
	t.Cleanup(func() { s.Close() })
	mem, err := s.DeviceMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mem.Close)
	cp, err := s.NewCopier()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Close() })
	return s, mem, cp
}

// TestBoundSteps runs steps whose weight lives in the session's device
// memory (the CPU's here: the same calls as on a GPU), swapped between two
// values from step to step, with the batch in and the result out through
// host values, and reads the weight back with a Copier.
func TestBoundSteps(t *testing.T) {
	s, mem, cp := stepDevice(t)
	if mem.Name != "Cpu" || !mem.Host {
		t.Errorf("CPU session's memory %q (host %v), want Cpu", mem.Name, mem.Host)
	}
	var w [2]*Value
	var err error
	for i := range w {
		if w[i], err = mem.NewValue(3); err != nil {
			t.Fatal(err)
		}
		defer w[i].Close()
	}
	if err := cp.FromHost(w[0], []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	x, err := NewHostValue(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	y, err := NewHostValue(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	b, err := s.NewBinding()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const steps = 5
	for step := range steps {
		for i := range x.Data() {
			x.Data()[i] = float32(step*10 + i)
		}
		cur, next := w[step%2], w[(step+1)%2]
		for _, err := range []error{b.BindInput("x", x), b.BindInput("w", cur), b.BindOutput("y", y), b.BindOutput("w_next", next)} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Run(context.Background()); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if err := b.SynchronizeOutputs(); err != nil {
			t.Fatal(err)
		}
		for i, v := range y.Data() {
			if want := float32(2*(step*10+i) + 1); v != want {
				t.Fatalf("step %d: y[%d] = %v, want %v", step, i, v, want)
			}
		}
	}
	got := make([]float32, 3)
	if err := cp.ToHost(got, w[steps%2]); err != nil {
		t.Fatal(err)
	}
	if want := []float32{1 + steps, 2 + steps, 3 + steps}; !slices.Equal(got, want) {
		t.Errorf("weight after %d steps %v, want %v", steps, got, want)
	}
	if err := cp.ToHost(make([]float32, 2), w[0]); err == nil {
		t.Error("copying 3 floats into 2: no error")
	}
}

// TestBoundOutputToDevice lets the runtime allocate an output in the
// device's memory.
func TestBoundOutputToDevice(t *testing.T) {
	s := stepSession(t)
	defer s.Close()
	mem, err := s.DeviceMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	x, _ := NewHostValue(1, 3)
	defer x.Close()
	w, _ := NewHostValue(3)
	defer w.Close()
	y, _ := NewHostValue(1, 3)
	defer y.Close()
	b, err := s.NewBinding()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, err := range []error{b.BindInput("x", x), b.BindInput("w", w), b.BindOutput("y", y), b.BindOutputToDevice("w_next", mem)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	copy(x.Data(), []float32{1, 2, 3})
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.SynchronizeOutputs(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y.Data(), []float32{3, 5, 7}) {
		t.Errorf("y = %v", y.Data())
	}
	// A missing input is the runtime's error, named.
	b2, err := s.NewBinding()
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if err := b2.BindOutput("y", y); err != nil {
		t.Fatal(err)
	}
	if err := b2.Run(context.Background()); err == nil {
		t.Error("a run with unbound inputs: no error")
	}
}

// TestBoundCancel stops a bound run that would take hours.
func TestBoundCancel(t *testing.T) {
	rt, err := Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.NewMultiSession(endless(t), []string{"x"}, []string{"y"}, Options{Provider: CPU})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 64
	x, err := NewHostValue(n, n)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	y, err := NewHostValue(n, n)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	b, err := s.NewBinding()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := errors.Join(b.BindInput("x", x), b.BindOutput("y", y)); err != nil {
		t.Fatal(err)
	}
	clear(x.Data()) // the allocator's memory is not zeroed
	x.Data()[0] = 1e9
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a cancelled bound run still runs after a minute")
	}
	x.Data()[0] = 3
	if err := b.Run(context.Background()); err != nil {
		t.Fatalf("run after a cancelled run: %v", err)
	}
	if y.Data()[0] != 3 {
		t.Errorf("run after a cancelled run gave %v, want its input", y.Data()[0])
	}
}

// TestBindClosed checks the errors of bindings and values used after Close.
func TestBindClosed(t *testing.T) {
	s := stepSession(t)
	b, err := s.NewBinding()
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewHostValue(3)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	v.Close() // twice is harmless
	if err := b.BindInput("w", v); err == nil {
		t.Error("binding a closed value: no error")
	}
	if _, err := NewHostValue(-1, 3); err == nil {
		t.Error("a negative dimension: no error")
	}
	b.Close()
	b.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewBinding(); err == nil {
		t.Error("binding a closed session: no error")
	}
	if _, err := s.DeviceMemory(); err == nil {
		t.Error("memory of a closed session: no error")
	}
}
