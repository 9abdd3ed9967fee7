package onnxrt

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/onnx"
	"google.golang.org/protobuf/proto"
)

// double is a model computing y = 2x + 1 over [batch, 3].
func double(t *testing.T) []byte {
	g := onnx.NewGraph("double")
	g.Input("x", -1, 3)
	y := g.Node("Mul", "twice", []string{"x", g.Float("two", []float32{2})})
	g.Node("Add", "y", []string{y, g.Float("one", []float32{1})})
	g.Output("y", -1, 3)
	b, err := proto.Marshal(g.Model("test", "", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// slow is a model that takes a long time: a chain of large matrix products.
func slow(t *testing.T) []byte {
	const n = 1024
	g := onnx.NewGraph("slow")
	g.Input("x", n, n)
	w := make([]float32, n*n)
	for i := range n {
		w[i*n+i] = 1
	}
	x := "x"
	g.Float("w", w, n, n)
	for i := range 60 {
		x = g.Node("MatMul", "m"+string(rune('a'+i%26))+string(rune('a'+i/26)), []string{x, "w"})
	}
	g.Node("Identity", "y", []string{x})
	g.Output("y", n, n)
	b, err := proto.Marshal(g.Model("test", "", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRun(t *testing.T) {
	rt, err := Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	if rt.Version == "" {
		t.Error("no version")
	}
	again, err := Load(rt.Path)
	if err != nil || again.Path != rt.Path {
		t.Fatalf("loading the same library again: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "other.so")); err == nil {
		t.Error("a second library loaded into the same process")
	}
	s, err := rt.NewSession(double(t), "x", "y", Options{Provider: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Provider() != CPU || s.FallbackReason() != nil {
		t.Errorf("provider %s, fallback %v", s.Provider(), s.FallbackReason())
	}
	out, err := s.Run(context.Background(), []float32{1, 2, 3, -1, 0, 0.5}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{3, 5, 7, -1, 1, 2}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("got %v, want %v", out, want)
		}
	}
	if _, err := s.Run(context.Background(), []float32{1, 2}, 1, 3); err == nil {
		t.Error("wrong input size accepted")
	}
	if _, err := rt.NewSession([]byte("not a model"), "x", "y", Options{Provider: CPU}); err == nil {
		t.Error("garbage model accepted")
	}
}

// TestFallback asks for an accelerator this CPU-only library lacks: the
// session runs on the CPU and says why.
func TestFallback(t *testing.T) {
	rt, err := Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Provider{Auto, CUDA} {
		s, err := rt.NewSession(double(t), "x", "y", Options{Provider: p})
		if err != nil {
			t.Fatal(err)
		}
		if s.Provider() != CPU || s.FallbackReason() == nil {
			t.Errorf("%s: provider %s, fallback %v", p, s.Provider(), s.FallbackReason())
		}
		s.Close()
	}
}

func TestCancel(t *testing.T) {
	rt, err := Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.NewSession(slow(t), "x", "y", Options{Provider: CPU})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := make([]float32, 1024*1024)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = s.Run(ctx, in, 1024, 1024)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v after %v, want context.Canceled", err, time.Since(start))
	}
	if d := time.Since(start); d > 1200*time.Millisecond {
		t.Errorf("cancelled run returned after %v", d)
	}
	// The session still works afterwards.
	if _, err := s.Run(context.Background(), in, 1024, 1024); err != nil {
		t.Fatalf("run after a cancelled run: %v", err)
	}
}

func TestParseProvider(t *testing.T) {
	for in, want := range map[string]Provider{"": Auto, "AUTO": Auto, "cpu": CPU, " CUDA ": CUDA, "DirectML": DirectML, "coreml": CoreML} {
		if got, err := ParseProvider(in); err != nil || got != want {
			t.Errorf("ParseProvider(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseProvider("tpu"); err == nil {
		t.Error("unknown provider accepted")
	}
}
