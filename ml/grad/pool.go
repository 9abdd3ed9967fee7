package grad

import (
	"fmt"

	"github.com/clasifica/clasifica/ml/onnx"
)

// MaxPool is Keras's MaxPooling2D((k, k), strides=(s, s), padding="valid")
// on x [n, c, h, w], as InceptionV3's reductions (mixed3, mixed8) use it.
//
// Its gradient routes each output's gradient to the input pixel that won
// its window (the argmax ONNX Runtime reports in MaxPool's Indices output),
// as TensorFlow and PyTorch do; ties, frequent after a ReLU, go to one
// pixel, never shared. Opset 13's ScatterElements cannot add up updates
// that land on the same element, and overlapping windows (k > s) can share
// a winner, so the outputs are scattered in groups whose windows never
// overlap (every ⌈k/s⌉-th row and column) and the groups' results added.
func (b *Builder) MaxPool(x string, k, s int64) string {
	sx := b.Shape(x)
	if len(sx) != 4 || k < 1 || s < 1 || sx[2] < k || sx[3] < k {
		panic(fmt.Sprintf("grad: MaxPool %d/%d of shape %v", k, s, sx))
	}
	ho, wo := (sx[2]-k)/s+1, (sx[3]-k)/s+1
	names := b.g.NodeN("MaxPool", []string{b.name("maxpool"), b.name("maxpool_indices")}, []string{x},
		onnx.Ints("kernel_shape", k, k), onnx.Ints("strides", s, s))
	y, idx := names[0], names[1]
	return b.record(y, Shape{sx[0], sx[1], ho, wo}, []string{x}, func(dy string) []string {
		return []string{b.maxPoolGrad(x, dy, idx, k, s, ho, wo)}
	})
}

// maxPoolGrad scatters dy [n, c, ho, wo] onto the input's shape at the
// flat positions idx holds (ONNX's MaxPool Indices count across the whole
// tensor, batch and channels included).
func (b *Builder) maxPoolGrad(x, dy, idx string, k, s, ho, wo int64) string {
	shape := b.shapeOf(x)
	// ConstantOfShape's default value is a float32 zero.
	zeros := b.node("Reshape", "maxpool_grad_zeros", []string{b.node("ConstantOfShape", "maxpool_grad_zero", []string{shape}), b.ints(1, -1)})
	step := (k + s - 1) / s // outputs this far apart have disjoint windows
	var sum string
	for i := range min(step, ho) {
		for j := range min(step, wo) {
			part := func(v, prefix string) string {
				if step > 1 {
					v = b.node("Slice", prefix, []string{v, b.ints(i, j), b.ints(ho, wo), b.ints(2, 3), b.ints(step, step)})
				}
				return b.node("Reshape", prefix+"_flat", []string{v, b.ints(1, -1)})
			}
			g := b.node("ScatterElements", "maxpool_grad_scatter",
				[]string{zeros, part(idx, "maxpool_grad_idx"), part(dy, "maxpool_grad_dy")}, onnx.Int("axis", 1))
			if sum == "" {
				sum = g
			} else {
				sum = b.node("Add", "maxpool_grad_sum", []string{sum, g})
			}
		}
	}
	return b.node("Reshape", "maxpool_grad", []string{sum, shape})
}
