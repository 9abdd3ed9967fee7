package grad

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// BenchmarkConvKernelGrad times a forward and backward step (kernel
// gradient only, as for the first convolutions of a trained block) of
// convolutions shaped like mixed9's, batch 32, with each kernel gradient
// formulation, on ONNX Runtime's CPU provider.
func BenchmarkConvKernelGrad(b *testing.B) {
	rt := runtimeForTest(b)
	for _, c := range []struct {
		name         string
		c, m, kh, kw int64
		pads         [4]int64
	}{
		{"1x1_1280to320", 1280, 320, 1, 1, [4]int64{}},
		{"3x3_448to384", 448, 384, 3, 3, [4]int64{1, 1, 1, 1}},
		{"1x3_384to384", 384, 384, 1, 3, [4]int64{0, 1, 0, 1}},
	} {
		for _, kg := range []KernelGrad{KernelGradIm2col, KernelGradConv} {
			name := "im2col"
			if kg == KernelGradConv {
				name = "conv"
			}
			b.Run(fmt.Sprintf("%s/%s", c.name, name), func(b *testing.B) {
				const n = 32
				g := NewBuilder("bench")
				g.KernelGrad = kg
				x := g.Input("x", -1, c.c, 8, 8)
				w := g.Param("w", c.m, c.c, c.kh, c.kw)
				y := g.Conv(x, w, "", ConvAttrs{Pads: c.pads})
				r := g.Input("r", -1, c.m, 8, 8)
				loss := g.Sum(g.Mul(y, r))
				grads := g.Backward(loss)
				g.Output(loss)
				g.OutputGrad(w, grads[w])
				model, err := proto.Marshal(g.Graph().Model("bench", "", nil, nil))
				if err != nil {
					b.Fatal(err)
				}
				s, err := rt.NewMultiSession(model, []string{x, w, r}, []string{loss, grads[w]}, onnxrt.Options{Provider: onnxrt.CPU})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				rng := rand.New(rand.NewPCG(1, 1))
				rnd := func(k int64) []float32 {
					v := make([]float32, k)
					for i := range v {
						v[i] = float32(rng.NormFloat64())
					}
					return v
				}
				in := []onnxrt.Tensor{
					{Data: rnd(n * c.c * 64), Shape: []int64{n, c.c, 8, 8}},
					{Data: rnd(c.m * c.c * c.kh * c.kw), Shape: []int64{c.m, c.c, c.kh, c.kw}},
					{Data: rnd(n * c.m * 64), Shape: []int64{n, c.m, 8, 8}},
				}
				out := []onnxrt.Tensor{{Data: make([]float32, 1), Shape: []int64{1}}, {Data: make([]float32, c.m*c.c*c.kh*c.kw), Shape: []int64{c.m, c.c, c.kh, c.kw}}}
				for b.Loop() {
					if err := s.Run(context.Background(), in, out); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
