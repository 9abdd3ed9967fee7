package grad

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// TestSoftmaxCrossEntropyGPUStable checks the GPU graph's LogSoftmax, made
// of ReduceMax, Sub, Exp, ReduceSum and Log, where a plain exp would
// overflow (logits of ±1000) and where the probabilities underflow: the
// loss, the probabilities and the gradient must be those of the CPU
// graph's LogSoftmax, to float rounding.
func TestSoftmaxCrossEntropyGPUStable(t *testing.T) {
	rt := runtimeForTest(t)
	logits := []float32{1000, 0, -1000, -50, 50, 0, 3, 3, 3}
	target := []float32{0, 1, 0, 0.05, 0.9, 0.05, 1, 0, 0}
	scale := []float32{0.5, 0.25, 0.25}
	run := func(gpu bool) (loss, probs, grad []float32) {
		b := NewBuilder("softmax")
		b.GPU = gpu
		z := b.Param("z", 3, 3)
		loss0, p := b.SoftmaxCrossEntropy(z, b.Input("t", 3, 3), b.Input("s", 3, 1))
		g := b.Backward(loss0)
		b.Output(loss0)
		b.Output(p)
		b.OutputGrad(z, g[z])
		model, err := proto.Marshal(b.Graph().Model("test", "", nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		s, err := rt.NewMultiSession(model, []string{"z", "t", "s"}, []string{loss0, p, g[z]}, onnxrt.Options{Provider: onnxrt.CPU, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		loss, probs, grad = make([]float32, 1), make([]float32, 9), make([]float32, 9)
		err = s.Run(t.Context(),
			[]onnxrt.Tensor{{Data: logits, Shape: []int64{3, 3}}, {Data: target, Shape: []int64{3, 3}}, {Data: scale, Shape: []int64{3, 1}}},
			[]onnxrt.Tensor{{Data: loss, Shape: []int64{1}}, {Data: probs, Shape: []int64{3, 3}}, {Data: grad, Shape: []int64{3, 3}}})
		if err != nil {
			t.Fatal(err)
		}
		return loss, probs, grad
	}
	cl, cp, cg := run(false)
	gl, gp, gg := run(true)
	near := func(what string, a, b []float32) {
		for i := range a {
			if math.IsNaN(float64(b[i])) || math.IsInf(float64(b[i]), 0) || math.Abs(float64(a[i]-b[i])) > 1e-6*(1+math.Abs(float64(a[i]))) {
				t.Errorf("%s %d: LogSoftmax %v, decomposed %v", what, i, a[i], b[i])
			}
		}
	}
	near("loss", cl, gl)
	near("probability", cp, gp)
	near("gradient", cg, gg)
	t.Logf("loss %v (LogSoftmax %v)", gl[0], cl[0])
}
