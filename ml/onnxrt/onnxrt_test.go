package onnxrt

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"runtime"
	"strings"
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

// endless is a model y = x whose work never ends in practice: a Loop runs
// a 64×64 MatMul by the identity as many times as the elements of x add
// up to. An x summing to 10⁹ keeps the runtime busy for hours, so only
// cancellation ends its run; one summing to 3 returns x at once.
func endless(t *testing.T) []byte {
	const n = 64
	w := make([]float32, n*n)
	for i := range n {
		w[i*n+i] = 1
	}
	scalar := func(name string, elem onnx.TensorProto_DataType) *onnx.ValueInfoProto {
		e := int32(elem)
		return &onnx.ValueInfoProto{Name: proto.String(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: &e, Shape: &onnx.TensorShapeProto{}},
		}}}
	}
	body := onnx.NewGraph("step")
	body.Input("v", n, n)
	body.Node("Identity", "c_out", []string{"c"})
	body.Node("MatMul", "v_out", []string{"v", body.Float("w", w, n, n)})
	b := body.Proto()
	b.Input = append([]*onnx.ValueInfoProto{scalar("i", onnx.TensorProto_INT64), scalar("c", onnx.TensorProto_BOOL)}, b.Input...)
	b.Output = append(b.Output, scalar("c_out", onnx.TensorProto_BOOL))
	body.Output("v_out", n, n)

	g := onnx.NewGraph("endless")
	g.Input("x", n, n)
	sum := g.Node("ReduceSum", "sum", []string{"x"}, onnx.Int("keepdims", 0))
	trips := g.Node("Cast", "trips", []string{sum}, onnx.Int("to", int64(onnx.TensorProto_INT64)))
	loop := &onnx.AttributeProto{Name: proto.String("body"), Type: onnx.AttributeProto_GRAPH.Enum(), G: b}
	g.Node("Loop", "y", []string{trips, "", "x"}, loop)
	g.Output("y", n, n)
	m, err := proto.Marshal(g.Model("test", "", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	return m
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
	// A closed session refuses to run, and closing again is harmless.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(context.Background(), []float32{1, 2, 3}, 1, 3); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("run after close: %v, want an error saying the session is closed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("closing twice: %v", err)
	}
}

// TestFallback asks for each accelerator, and for Auto: the session runs on
// the first provider in AutoOrder that the probe finds available, and each
// provider skipped on the way is named with its reason, never silently.
func TestFallback(t *testing.T) {
	rt, err := Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	order := AutoOrder(runtime.GOOS)
	first := CPU
	available := map[Provider]bool{}
	for _, st := range rt.ProbeAll(Options{}) {
		available[st.Provider] = st.Available
		if st.Available && first == CPU && st.Provider != CPU {
			first = st.Provider
		}
	}
	for _, p := range order {
		s, err := rt.NewSession(double(t), "x", "y", Options{Provider: p})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		pl := s.Placement()
		want := p
		if !available[p] {
			want = CPU
		}
		if pl.Provider != want || pl.Requested != p {
			t.Errorf("asked for %s: placement %+v, want it on %s", p, pl, want)
		}
		if want != p && (len(pl.Skipped) != 1 || pl.Skipped[0].Provider != p || pl.Skipped[0].Reason == "" || s.FallbackReason() == nil) {
			t.Errorf("asked for %s, ran on %s without saying why: %+v", p, pl.Provider, pl.Skipped)
		}
		s.Close()
	}
	s, err := rt.NewSession(double(t), "x", "y", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pl := s.Placement()
	if pl.Provider != first || pl.Requested != Auto {
		t.Errorf("Auto ran on %s, want %s (the first available in %v)", pl.Provider, first, order)
	}
	for _, u := range pl.Skipped {
		if u.Reason == "" || available[u.Provider] {
			t.Errorf("Auto skipped %s: %q", u.Provider, u.Reason)
		}
	}
	t.Logf("Auto: %s; skipped %v", pl, pl.Skipped)
	// Strict sessions run on the provider asked for or fail.
	for _, p := range order {
		s, err := rt.NewSession(double(t), "x", "y", Options{Provider: p, Strict: true})
		if available[p] != (err == nil) {
			t.Errorf("strict %s: available %v, session error %v", p, available[p], err)
		}
		if err == nil {
			if s.Provider() != p {
				t.Errorf("strict %s ran on %s", p, s.Provider())
			}
			s.Close()
		}
	}
}

// TestProbe checks that every provider worth offering here is either
// available, computing the CPU's answers, or unavailable with a reason.
func TestProbe(t *testing.T) {
	rt, err := Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	all := rt.ProbeAll(Options{})
	if len(all) != len(AutoOrder(runtime.GOOS)) || all[len(all)-1].Provider != CPU || !all[len(all)-1].Available {
		t.Fatalf("probes %+v: want every provider of %v, ending with an available CPU", all, AutoOrder(runtime.GOOS))
	}
	for _, st := range all {
		if st.Available == (st.Reason != "") {
			t.Errorf("%s: available %v, reason %q", st.Provider, st.Available, st.Reason)
		}
		t.Logf("%-8s available=%v device=%q reason=%q", st.Provider, st.Available, st.Device, st.Reason)
	}
}

// TestExplainCUDA checks the message for a CPU-only library asked for
// CUDA: it names the missing file and the GPU build to download.
func TestExplainCUDA(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("CUDA does not exist on macOS; the message says so")
	}
	dir := t.TempDir()
	rt := &Runtime{Path: filepath.Join(dir, "libonnxruntime.so.1"), Version: "1.30.0"}
	got := rt.explain(CUDA, "OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library")
	for _, want := range []string{"onnxruntime_providers_shared", "is not next to " + rt.Path, "-gpu-1.30.0", "github.com/microsoft/onnxruntime/releases"} {
		if !strings.Contains(got, want) {
			t.Errorf("explanation %q lacks %q", got, want)
		}
	}
	if got := rt.explain(CUDA, "Unknown provider name 'CUDA'."); !strings.Contains(got, "no CUDA provider") {
		t.Errorf("explanation %q", got)
	}
}

// TestCancel cancels a run that would otherwise last for hours: that it
// returns at all shows that cancellation stops the runtime mid-graph, not
// merely between runs. The 60-second deadline only turns a hang into a
// failure.
func TestCancel(t *testing.T) {
	rt, err := Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.NewSession(endless(t), "x", "y", Options{Provider: CPU})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 64
	in := make([]float32, n*n)
	in[0] = 1e9
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, in, n, n)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a cancelled run still runs after a minute")
	}
	// The session still works afterwards.
	in[0] = 3
	out, err := s.Run(context.Background(), in, n, n)
	if err != nil {
		t.Fatalf("run after a cancelled run: %v", err)
	}
	if out[0] != 3 || out[1] != 0 {
		t.Errorf("run after a cancelled run gave %v…, want its input", out[:2])
	}
}

func TestParseProvider(t *testing.T) {
	for in, want := range map[string]Provider{"": Auto, "AUTO": Auto, "cpu": CPU, " CUDA ": CUDA, "DirectML": DirectML, "coreml": CoreML, "WebGPU": WebGPU} {
		if got, err := ParseProvider(in); err != nil || got != want {
			t.Errorf("ParseProvider(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseProvider("tpu"); err == nil {
		t.Error("unknown provider accepted")
	}
}

// TestFallbackRefusal recognises ONNX Runtime's refusal of a session with
// layers left to the CPU, the signal NewSession relies on.
func TestFallbackRefusal(t *testing.T) {
	for msg, want := range map[string]bool{
		"[ONNXRuntimeError] : 1 : FAIL : This session contains graph nodes that are assigned to the default CPU EP, but fallback to CPU EP has been explicitly disabled by the user.": true,
		"Failed to get a WebGPU adapter: No supported adapters":                        false,
		"OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library": false,
	} {
		if got := isFallbackRefusal(errors.New(msg)); got != want {
			t.Errorf("isFallbackRefusal(%q) = %v", msg, got)
		}
	}
}

// TestInferenceDefaults: CUDA inference sessions prefer NHWC unless asked
// otherwise; the caller's options are never modified.
func TestInferenceDefaults(t *testing.T) {
	asked := map[string]string{"prefer_nhwc": "0"}
	for _, c := range []struct {
		p    Provider
		opts map[string]string
		want string // prefer_nhwc, "" for none
	}{
		{CPU, nil, ""},
		{WebGPU, nil, ""},
		{CUDA, nil, "1"},
		{CUDA, map[string]string{"device_id": "1"}, "1"},
		{CUDA, asked, "0"},
	} {
		before := maps.Clone(c.opts)
		got := inferenceDefaults(c.p, Options{Provider: c.p, ProviderOptions: c.opts})
		if v := got.ProviderOptions["prefer_nhwc"]; v != c.want {
			t.Errorf("%s %v: prefer_nhwc %q, want %q", c.p, c.opts, v, c.want)
		}
		if !maps.Equal(before, c.opts) {
			t.Errorf("%s: the caller's options changed to %v", c.p, c.opts)
		}
	}
}
