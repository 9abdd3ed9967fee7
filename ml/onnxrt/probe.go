package onnxrt

import (
	"context"
	"fmt"
	"math"
	"runtime"

	"github.com/clasifica/clasifica/ml/onnx"
	"google.golang.org/protobuf/proto"
)

// Status says whether a provider can run Clasifica's models with this
// library on this machine.
type Status struct {
	Provider  Provider
	Available bool
	// Device names the adapter or card where the system reports it.
	Device string
	// Reason says why the provider is unavailable; empty when available.
	Reason string
}

// Probe tries p on a tiny model made of the kinds of layers InceptionV3
// has (convolution, ReLU, max and average pooling, concatenation, global
// pooling), with every layer required to run on p, and checks its answer
// against the CPU's. It takes milliseconds on the CPU and up to a second or
// two where a GPU driver starts.
func (r *Runtime) Probe(p Provider, opt Options) Status {
	st := Status{Provider: p}
	model, in := probeModel()
	want, err := runProbe(model, in, CPU, opt)
	if err != nil {
		st.Reason = "the CPU could not run the test model: " + firstLine(err)
		return st
	}
	if p == CPU {
		st.Available = true
		return st
	}
	got, err := runProbe(model, in, p, opt)
	if err != nil {
		st.Reason = err.Error()
		if u, ok := err.(Unavailable); ok {
			st.Reason = r.explain(p, u.Reason)
		} else if isFallbackRefusal(err) {
			st.Reason = "ONNX Runtime placed the layers on the CPU instead, so the provider did not start"
		}
		return st
	}
	if d := relL2(got, want); !(d <= 1e-3) {
		st.Reason = fmt.Sprintf("it computes wrong answers on this machine (relative difference %.2g from the CPU)", d)
		return st
	}
	st.Available, st.Device = true, deviceName(p, opt)
	return st
}

// ProbeAll probes every provider worth offering on this system, in
// AutoOrder.
func (r *Runtime) ProbeAll(opt Options) []Status {
	var out []Status
	for _, p := range AutoOrder(runtime.GOOS) {
		out = append(out, r.Probe(p, opt))
	}
	return out
}

func runProbe(model []byte, in []float32, p Provider, opt Options) ([]float32, error) {
	opt.Threads = 1
	s, err := build(model, "x", "y", p, opt, true)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Run(context.Background(), in, 1, 8, 8, 3)
}

// probeModel returns the test model and its input: an 8x8 RGB image
// (NHWC, as Clasifica feeds images) through the layer kinds of
// InceptionV3 down to 8 pooled features.
func probeModel() ([]byte, []float32) {
	g := onnx.NewGraph("probe")
	g.Input("x", 1, 8, 8, 3)
	w := make([]float32, 4*3*3*3)
	for i := range w {
		w[i] = float32(i%7-3) / 5
	}
	t := g.Node("Transpose", "nchw", []string{"x"}, onnx.Ints("perm", 0, 3, 1, 2))
	c := g.Node("Conv", "conv", []string{t, g.Float("w", w, 4, 3, 3, 3), g.Float("b", []float32{0.1, -0.2, 0.3, 0}, 4)},
		onnx.Ints("pads", 1, 1, 1, 1))
	relu := g.Node("Relu", "relu", []string{c})
	mp := g.Node("MaxPool", "max", []string{relu}, onnx.Ints("kernel_shape", 2, 2), onnx.Ints("strides", 2, 2))
	ap := g.Node("AveragePool", "avg", []string{relu}, onnx.Ints("kernel_shape", 2, 2), onnx.Ints("strides", 2, 2))
	cat := g.Node("Concat", "cat", []string{mp, ap}, onnx.Int("axis", 1))
	gp := g.Node("GlobalAveragePool", "gap", []string{cat})
	g.Node("Flatten", "y", []string{gp})
	g.Output("y", 1, 8)
	b, err := proto.Marshal(g.Model("clasifica-probe", "", nil, nil))
	if err != nil {
		panic(err) // a fixed, valid graph
	}
	in := make([]float32, 8*8*3)
	for i := range in {
		in[i] = float32((i*37)%255) / 255
	}
	return b, in
}

// relL2 returns ‖a−b‖/‖b‖, or +Inf when the lengths differ.
func relL2(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d, n float64
	for i := range a {
		e := float64(a[i]) - float64(b[i])
		d += e * e
		n += float64(b[i]) * float64(b[i])
	}
	if n == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / n)
}

// RelL2 returns the relative L2 distance ‖a−b‖/‖b‖ between two outputs,
// the measure by which providers must agree with the CPU (1e-3).
func RelL2(a, b []float32) float64 { return relL2(a, b) }
