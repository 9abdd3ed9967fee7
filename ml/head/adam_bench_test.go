package head

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// adamGraph is Keras's Adam step as ONNX nodes: inputs p, g, m, v and the
// step's constants; outputs the new p, m, v.
func adamGraph(n int64) []byte {
	g := onnx.NewGraph("adam")
	for _, name := range []string{"p", "g", "m", "v"} {
		g.Input(name, n)
	}
	for _, name := range []string{"b1", "b2", "alpha", "eps", "decay"} {
		g.Input(name, 1)
	}
	m := g.Node("Add", "m_new", []string{"m", g.Node("Mul", "m_delta", []string{g.Node("Sub", "m_diff", []string{"g", "m"}), "b1"})})
	g2 := g.Node("Mul", "g2", []string{"g", "g"})
	v := g.Node("Add", "v_new", []string{"v", g.Node("Mul", "v_delta", []string{g.Node("Sub", "v_diff", []string{g2, "v"}), "b2"})})
	den := g.Node("Add", "den", []string{g.Node("Sqrt", "sqrt_v", []string{v}), "eps"})
	step := g.Node("Div", "step", []string{g.Node("Mul", "m_alpha", []string{m, "alpha"}), den})
	decayed := g.Node("Sub", "decayed", []string{"p", g.Node("Mul", "p_decay", []string{"p", "decay"})})
	g.Node("Sub", "p_new", []string{decayed, step})
	for _, name := range []string{"p_new", "m_new", "v_new"} {
		g.Output(name, n)
	}
	b, err := proto.Marshal(g.Model("bench", "", nil, nil))
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkAdam compares one Adam update of the default head's hidden
// kernel (2,048×1,024 weights) in Go, as Trainer does it, with the same
// update as an ONNX Runtime graph on the CPU provider with 2 threads.
func BenchmarkAdam(b *testing.B) {
	const n = 2048 * 1024
	mk := func(v float32) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = v * float32(i%7+1)
		}
		return s
	}
	p, g, m, v := mk(0.01), mk(0.001), mk(0), mk(0)
	cfg := DefaultConfig()
	b.Run("go", func(b *testing.B) {
		a := newAdamStep(cfg, 1)
		for b.Loop() {
			parallel(n, minParallel, func(lo, hi int) { a.apply(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]) })
		}
	})
	if haveVectorKernels {
		// On packed weights, with the gradient computed inside the step
		// from a batch of 32 and the next batch's product computed from
		// the updated weights, as the trainer does it on the CPU.
		for _, wide := range kernelWidths() {
			b.Run("go fused "+kernelName(wide), func(b *testing.B) {
				const rows, cols, batch = 2048, 1024, 32
				a := newAdamStep(cfg, 1)
				a.wide = wide
				x, dz, xt, h := mk(0.1)[:batch*rows], mk(0.001)[:batch*cols], make([]float32, rows*batch), make([]float32, batch*cols)
				interleave(xt, x, rows, batch)
				pack(dz, mk(0.001)[:batch*cols], batch, cols)
				for b.Loop() {
					a.adamPacked(p, m, v, rows, cols, xt, batch, dz, x, h)
				}
			})
		}
	}
	b.Run("onnxruntime", func(b *testing.B) {
		eng := testEngine(b)
		s, err := eng.NewMultiSession(adamGraph(n),
			[]string{"p", "g", "m", "v", "b1", "b2", "alpha", "eps", "decay"}, []string{"p_new", "m_new", "v_new"})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		a := newAdamStep(cfg, 1)
		scalar := func(x float32) onnxrt.Tensor { return onnxrt.Tensor{Data: []float32{x}, Shape: []int64{1}} }
		vec := func(x []float32) onnxrt.Tensor { return onnxrt.Tensor{Data: x, Shape: []int64{n}} }
		p2, m2, v2 := mk(0), mk(0), mk(0)
		in := []onnxrt.Tensor{vec(p), vec(g), vec(m), vec(v), scalar(a.oneMinusB1), scalar(a.oneMinusB2), scalar(a.alpha), scalar(a.eps), scalar(0)}
		out := []onnxrt.Tensor{vec(p2), vec(m2), vec(v2)}
		for b.Loop() {
			if err := s.Run(context.Background(), in, out); err != nil {
				b.Fatal(err)
			}
			// Ping-pong the buffers, as a trainer would.
			in[0], out[0] = out[0], in[0]
			in[2], out[1] = out[1], in[2]
			in[3], out[2] = out[2], in[3]
		}
	})
}
