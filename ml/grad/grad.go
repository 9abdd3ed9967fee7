// Package grad builds training graphs: a forward computation written with
// a [Builder] and, from [Builder.Backward], the reverse-mode gradient of a
// scalar loss with respect to the graph's parameters, as ONNX nodes of
// standard operators in the same graph. ONNX Runtime's training builds are
// deprecated and absent from the libraries Clasifica ships, so this is how
// a training step runs on every execution provider the engine has: one
// ordinary inference session computes the loss and every gradient.
//
// Values are named by the builder. Shapes are static except for the first
// (batch) dimension, written -1 where a run chooses it; the gradients of
// broadcasting, convolution and pooling need the other dimensions at build
// time. A graph whose inputs give the batch too has only static shapes: its
// gradients then take every shape from constants, with no Shape node
// (see Builder.GPU for why that matters).
package grad

import (
	"fmt"
	"math"
	"slices"

	"github.com/clasifica/clasifica/ml/onnx"
)

// Shape is a value's shape; -1 is the dynamic batch dimension.
type Shape []int64

// Size returns the number of elements of one batch item (the batch
// dimension counts as 1).
func (s Shape) Size() int64 {
	n := int64(1)
	for _, d := range s {
		if d > 0 {
			n *= d
		}
	}
	return n
}

// KernelGrad selects how a convolution's kernel gradient is computed.
type KernelGrad int

const (
	// KernelGradIm2col computes it as one matrix product of the output
	// gradient and the input's patches (gathered by one Gather;
	// for a 1×1 kernel the input itself). It is the faster of the two on
	// ONNX Runtime's CPU provider (see BenchmarkConvKernelGrad), so it is
	// the default.
	KernelGradIm2col KernelGrad = iota
	// KernelGradConv computes it as a convolution of the input with the
	// output gradient, both with batch and channels swapped.
	KernelGradConv
)

// Builder records a forward computation as ONNX nodes, and the operations
// needed to differentiate it.
type Builder struct {
	g      *onnx.Graph
	shapes map[string]Shape
	needs  map[string]bool // the value depends on a parameter
	// renamed maps values that Backward renamed to their new names.
	renamed map[string]string
	tape    []step
	params  []string
	seq     int
	// spread maps a gradient that a global average pooling left as
	// [n, c, 1, 1], the same at every pixel, to the value whose shape it
	// stands for: a step that broadcasts its gradient (step.spread: the
	// ReLU's Mul by its mask) reads it so, and any other gets it
	// expanded. Expanding it first was a copy of every channel that the
	// pooling read, each step.
	spread map[string]string
	// pixels holds, by input value and padding, the input channels last
	// and padded as the im2col kernel gradients read it ([n, h·w, c]),
	// made once for every convolution that reads it.
	pixels map[string]string
	// KernelGrad selects the convolution kernel gradient's formulation.
	KernelGrad KernelGrad
	// GPU builds the graph for a GPU provider: operators that ONNX
	// Runtime's GPU providers lack are written with ones they have, so
	// that no node falls back to the CPU (each fallback costs a copy to
	// the host and back and a wait for the device in the middle of a
	// step). LogSoftmax, absent from the WebGPU provider's kernels, becomes
	// ReduceMax, Sub, Exp, ReduceSum and Log. Give the inputs a static
	// batch too: shape computations (Shape and what reads it) run on the
	// CPU on every GPU provider.
	GPU bool
}

// step is one differentiable operation: back returns the gradient of each
// input (or "" where none is needed) from the gradient of the output.
type step struct {
	inputs []string
	output string
	back   func(dy string) []string
	// spread: back takes a gradient that is the same at every pixel as
	// a [n, c, 1, 1] value, broadcasting it itself (see Builder.spread).
	spread bool
}

// NewBuilder starts a graph with the given name.
func NewBuilder(name string) *Builder {
	return &Builder{g: onnx.NewGraph(name), shapes: map[string]Shape{}, needs: map[string]bool{}, renamed: map[string]string{}}
}

// Graph returns the ONNX graph being built, to declare outputs and make
// the model.
func (b *Builder) Graph() *onnx.Graph { return b.g }

// Shape returns the shape of value v.
func (b *Builder) Shape(v string) Shape {
	s, ok := b.shapes[v]
	if !ok {
		panic(fmt.Sprintf("grad: unknown value %q", v))
	}
	return s
}

// Differentiable reports whether value v depends on a parameter, so that
// Backward computes a gradient with respect to it.
func (b *Builder) Differentiable(v string) bool { return b.needs[v] }

// Params returns the parameters declared so far, in order.
func (b *Builder) Params() []string { return slices.Clone(b.params) }

func (b *Builder) name(prefix string) string {
	b.seq++
	return fmt.Sprintf("%s~%d", prefix, b.seq)
}

func (b *Builder) define(v string, s Shape) string {
	if _, ok := b.shapes[v]; ok {
		panic(fmt.Sprintf("grad: value %q defined twice", v))
	}
	b.shapes[v] = slices.Clone(s)
	return v
}

// Input declares a float32 graph input that is not differentiated: data,
// targets, masks.
func (b *Builder) Input(name string, shape ...int64) string {
	b.g.Input(name, shape...)
	return b.define(name, shape)
}

// Param declares a float32 graph input that Backward differentiates.
func (b *Builder) Param(name string, shape ...int64) string {
	b.Input(name, shape...)
	b.needs[name] = true
	b.params = append(b.params, name)
	return name
}

// Const adds a constant float32 tensor.
func (b *Builder) Const(name string, data []float32, shape ...int64) string {
	b.g.Float(name, data, shape...)
	return b.define(name, shape)
}

func (b *Builder) ints(v ...int64) string {
	return b.g.Int64(b.name("ints"), v, int64(len(v)))
}

// zeros returns a constant bias of n zeros for an input gradient's Conv.
// It adds nothing, but ONNX Runtime's CPU provider fuses a Conv followed
// by an Add into one Conv that accumulates onto the Add's other operand
// only where the Conv has a bias: where a value feeds several
// convolutions (four at each block's input, a 1×3 and a 3×1 inside), the
// sums of their input gradients then cost no pass of their own over the
// gradient (three of them were 2% of a fine-tuning step at 2 threads).
func (b *Builder) zeros(n int64) string {
	return b.g.Float(b.name("conv_grad_x_zero_bias"), make([]float32, n), n)
}

func (b *Builder) scalar(v float32) string {
	return b.g.Float(b.name("scalar"), []float32{v})
}

// record notes a differentiable operation producing out from inputs.
func (b *Builder) record(out string, shape Shape, inputs []string, back func(dy string) []string) string {
	b.define(out, shape)
	for _, in := range inputs {
		if b.needs[in] {
			b.needs[out] = true
		}
	}
	if b.needs[out] {
		b.tape = append(b.tape, step{inputs: inputs, output: out, back: back})
	}
	return out
}

// node emits a forward or backward node with a fresh output name.
func (b *Builder) node(op, prefix string, inputs []string, attrs ...onnx.Attr) string {
	return b.g.Node(op, b.name(prefix), inputs, attrs...)
}

// broadcast returns the shape of an element-wise operation on a and b,
// with NumPy broadcasting.
func broadcast(a, c Shape) Shape {
	n := max(len(a), len(c))
	out := make(Shape, n)
	for i := range n {
		da, dc := int64(1), int64(1)
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(c)); j >= 0 {
			dc = c[j]
		}
		switch {
		case da == dc:
			out[i] = da
		case da == 1:
			out[i] = dc
		case dc == 1:
			out[i] = da
		default:
			panic(fmt.Sprintf("grad: shapes %v and %v do not broadcast", a, c))
		}
	}
	return out
}

// unbroadcast sums the gradient dy of a broadcast result of shape out back
// to the shape of an operand of shape to.
func (b *Builder) unbroadcast(dy string, out, to Shape) string {
	if slices.Equal(out, to) {
		return dy
	}
	lead := len(out) - len(to)
	var axes []int64
	for i := range out {
		if i < lead || (to[i-lead] == 1 && out[i] != 1) {
			axes = append(axes, int64(i))
		}
	}
	r := dy
	if len(axes) > 0 {
		r = b.node("ReduceSum", "unbroadcast", []string{dy, b.ints(axes...)}, onnx.Int("keepdims", 1))
	}
	if lead > 0 {
		r = b.node("Reshape", "unbroadcast_shape", []string{r, b.ints(to...)})
	}
	return r
}

// shapeOf returns x's shape as an int64 value: a constant where the shape
// is static, so that no Shape node, which GPU providers hand to the CPU
// together with whatever computes on its result, is in the graph; a Shape
// node where the batch is left to the run.
func (b *Builder) shapeOf(x string) string {
	if s := b.Shape(x); !slices.Contains(s, -1) {
		return b.ints(s...)
	}
	return b.node("Shape", "shape", []string{x})
}

// Add returns a + c, with broadcasting.
func (b *Builder) Add(a, c string) string {
	sa, sc := b.Shape(a), b.Shape(c)
	out := broadcast(sa, sc)
	y := b.node("Add", "add", []string{a, c})
	return b.record(y, out, []string{a, c}, func(dy string) []string {
		return []string{b.unbroadcast(dy, out, sa), b.unbroadcast(dy, out, sc)}
	})
}

// Mul returns a · c element-wise, with broadcasting.
func (b *Builder) Mul(a, c string) string {
	sa, sc := b.Shape(a), b.Shape(c)
	out := broadcast(sa, sc)
	y := b.node("Mul", "mul", []string{a, c})
	return b.record(y, out, []string{a, c}, func(dy string) []string {
		g := []string{"", ""}
		if b.needs[a] {
			g[0] = b.unbroadcast(b.node("Mul", "mul_grad", []string{dy, c}), out, sa)
		}
		if b.needs[c] {
			g[1] = b.unbroadcast(b.node("Mul", "mul_grad", []string{dy, a}), out, sc)
		}
		return g
	})
}

// Dropout multiplies x by mask, a non-differentiated input holding 0 for
// dropped elements and 1/(1-rate) for kept ones, so that the caller draws
// the mask from its own seeded generator and a step is reproducible.
func (b *Builder) Dropout(x, mask string) string { return b.Mul(x, mask) }

// Relu returns max(x, 0).
func (b *Builder) Relu(x string) string {
	y := b.node("Relu", "relu", []string{x})
	b.record(y, b.Shape(x), []string{x}, func(dy string) []string {
		// The mask is arithmetic, 1 where y > 0 and 0 where y = 0 (y's
		// ceiling clipped at 1), not a Greater feeding a Where: GPU
		// providers keep activations in their own layout, and a boolean
		// mask came back through Transposes that WebGPU cannot run on
		// booleans — 18 of them ran on the CPU, with the copies there
		// and back a third of a step on an H200. Where y > 0 the product
		// is dy exactly; elsewhere it is a zero (of dy's sign).
		on := b.node("Clip", "relu_on", []string{b.node("Ceil", "relu_on", []string{y}), b.scalar(0), b.scalar(1)})
		return []string{b.node("Mul", "relu_grad", []string{dy, on})}
	})
	if b.needs[y] {
		b.tape[len(b.tape)-1].spread = true
	}
	return y
}

// MatMul returns the matrix product a·c of [n, k] and [k, m] matrices.
func (b *Builder) MatMul(a, c string) string {
	sa, sc := b.Shape(a), b.Shape(c)
	if len(sa) != 2 || len(sc) != 2 || sa[1] != sc[0] {
		panic(fmt.Sprintf("grad: MatMul of shapes %v and %v", sa, sc))
	}
	y := b.node("MatMul", "matmul", []string{a, c})
	return b.record(y, Shape{sa[0], sc[1]}, []string{a, c}, func(dy string) []string {
		g := []string{"", ""}
		if b.needs[a] {
			g[0] = b.node("Gemm", "matmul_grad_a", []string{dy, c}, onnx.Int("transB", 1))
		}
		if b.needs[c] {
			g[1] = b.node("Gemm", "matmul_grad_b", []string{a, dy}, onnx.Int("transA", 1))
		}
		return g
	})
}

// Dense returns x·w + bias for x [n, in], w [in, out] and bias [out], as
// one Gemm node (Keras's Dense layout).
func (b *Builder) Dense(x, w, bias string) string {
	sx, sw := b.Shape(x), b.Shape(w)
	if len(sx) != 2 || len(sw) != 2 || sx[1] != sw[0] || !slices.Equal(b.Shape(bias), Shape{sw[1]}) {
		panic(fmt.Sprintf("grad: Dense of shapes %v, %v and %v", sx, sw, b.Shape(bias)))
	}
	y := b.node("Gemm", "dense", []string{x, w, bias})
	return b.record(y, Shape{sx[0], sw[1]}, []string{x, w, bias}, func(dy string) []string {
		g := []string{"", "", ""}
		if b.needs[x] {
			g[0] = b.node("Gemm", "dense_grad_x", []string{dy, w}, onnx.Int("transB", 1))
		}
		if b.needs[w] {
			g[1] = b.node("Gemm", "dense_grad_w", []string{x, dy}, onnx.Int("transA", 1))
		}
		if b.needs[bias] {
			g[2] = b.node("ReduceSum", "dense_grad_b", []string{dy, b.ints(0)}, onnx.Int("keepdims", 0))
		}
		return g
	})
}

// Sum returns the sum of every element of x, as a tensor of shape [1]
// (ONNX Runtime's Go binding has no rank-0 tensors).
func (b *Builder) Sum(x string) string {
	y := b.node("ReduceSum", "sum", []string{x}, onnx.Int("keepdims", 0))
	y = b.node("Reshape", "sum_1", []string{y, b.ints(1)})
	return b.record(y, Shape{1}, []string{x}, func(dy string) []string {
		return []string{b.node("Expand", "sum_grad", []string{dy, b.shapeOf(x)})}
	})
}

// Concat joins xs along axis.
func (b *Builder) Concat(axis int, xs ...string) string {
	out := slices.Clone(b.Shape(xs[0]))
	sizes := make([]int64, len(xs))
	for i, x := range xs {
		s := b.Shape(x)
		sizes[i] = s[axis]
		if i > 0 {
			out[axis] += s[axis]
		}
	}
	y := b.node("Concat", "concat", xs, onnx.Int("axis", int64(axis)))
	return b.record(y, out, xs, func(dy string) []string {
		names := make([]string, len(xs))
		for i := range names {
			names[i] = b.name("concat_grad")
		}
		return b.g.NodeN("Split", names, []string{dy, b.ints(sizes...)}, onnx.Int("axis", int64(axis)))
	})
}

// GlobalAveragePool averages x [n, c, h, w] over its spatial dimensions,
// giving [n, c, 1, 1].
func (b *Builder) GlobalAveragePool(x string) string {
	s := b.Shape(x)
	y := b.node("GlobalAveragePool", "gap", []string{x})
	return b.record(y, Shape{s[0], s[1], 1, 1}, []string{x}, func(dy string) []string {
		scaled := b.node("Mul", "gap_grad_scale", []string{dy, b.scalar(1 / float32(s[2]*s[3]))})
		// Left as [n, c, 1, 1]: Backward expands it where a step needs
		// it whole.
		if b.spread == nil {
			b.spread = map[string]string{}
		}
		b.spread[scaled] = x
		return []string{scaled}
	})
}

// Flatten reshapes x [n, ...] to [n, size].
func (b *Builder) Flatten(x string) string {
	s := b.Shape(x)
	y := b.node("Flatten", "flatten", []string{x}, onnx.Int("axis", 1))
	return b.record(y, Shape{s[0], s[1:].Size()}, []string{x}, func(dy string) []string {
		// A constant shape, 0 (Reshape's "as the input's") for the
		// batch: ONNX Runtime then knows the gradient's shape from here
		// on, which its fusion of a Conv and an Add needs (see zeros),
		// where a Shape node left every shape after it unknown.
		shape := slices.Clone(s)
		shape[0] = max(shape[0], 0)
		return []string{b.node("Reshape", "flatten_grad", []string{dy, b.ints(shape...)})}
	})
}

// AveragePool3 is Keras's AveragePooling2D((3, 3), strides=(1, 1),
// padding="same") on x [n, c, h, w]: each output is the mean of the input
// pixels of its 3×3 window that lie inside the image (count_include_pad=0).
func (b *Builder) AveragePool3(x string) string {
	s := b.Shape(x)
	y := b.node("AveragePool", "avgpool", []string{x},
		onnx.Ints("kernel_shape", 3, 3), onnx.Ints("strides", 1, 1),
		onnx.Ints("pads", 1, 1, 1, 1), onnx.Int("count_include_pad", 0))
	return b.record(y, s, []string{x}, func(dy string) []string {
		// dx[i] = Σ over the windows j holding i of dy[j]/count[j]; the
		// window is symmetric, so that is 9·mean over i's own window,
		// zero-padded, of dy/count.
		h, w := s[2], s[3]
		scale := make([]float32, h*w)
		for i := range h {
			for j := range w {
				rows := min(i+1, h-1) - max(i-1, 0) + 1
				cols := min(j+1, w-1) - max(j-1, 0) + 1
				scale[i*w+j] = 9 / float32(rows*cols)
			}
		}
		c := b.g.Float(b.name("avgpool_grad_count"), scale, 1, 1, h, w)
		scaled := b.node("Mul", "avgpool_grad_scale", []string{dy, c})
		return []string{b.node("AveragePool", "avgpool_grad", []string{scaled},
			onnx.Ints("kernel_shape", 3, 3), onnx.Ints("strides", 1, 1),
			onnx.Ints("pads", 1, 1, 1, 1), onnx.Int("count_include_pad", 1))}
	})
}

// ConvAttrs are a convolution's stride and padding; the kernel size comes
// from the kernel's shape.
type ConvAttrs struct {
	Strides [2]int64
	// Pads are the top, left, bottom and right padding, as ONNX orders
	// them.
	Pads [4]int64
	// GradKernel, when not empty, names a value holding the kernel of a
	// stride-1 convolution's input gradient: w with its two channel axes
	// swapped and flipped in both spatial axes, [c, m, kh, kw]. The input
	// gradient then reads it instead of deriving it from w in the graph:
	// a caller that keeps the kernel in both layouts, as the fine-tuning
	// trainer does where it updates the weights itself, saves every step
	// a copy of every kernel through the runtime's transposes.
	GradKernel string
	// KernelGradRows leaves the kernel's gradient as the matrix product
	// computes it: [m, kh·kw·c], each output channel's row in kh, kw, c
	// order (for a 1×1 kernel that is w's own order, as [m, c]). A caller
	// that reads the gradient itself, as the fine-tuning trainer's update
	// does, takes each row in that order: the runtime then writes the
	// product straight into the caller's output, where bringing it back to
	// w's layout was a transpose (or a reshape) and a copy of every kernel
	// each step. Only the im2col formulation (KernelGradIm2col) makes it.
	KernelGradRows bool
}

// Conv convolves x [n, c, h, w] with the kernel w [m, c, kh, kw] and adds
// bias [m] (which may be ""), in ONNX's NCHW layout.
func (b *Builder) Conv(x, w, bias string, a ConvAttrs) string {
	sx, sw := b.Shape(x), b.Shape(w)
	if a.Strides == ([2]int64{}) {
		a.Strides = [2]int64{1, 1}
	}
	if len(sx) != 4 || len(sw) != 4 || sx[1] != sw[1] {
		panic(fmt.Sprintf("grad: Conv of shapes %v and %v", sx, sw))
	}
	kh, kw := sw[2], sw[3]
	ho := (sx[2]+a.Pads[0]+a.Pads[2]-kh)/a.Strides[0] + 1
	wo := (sx[3]+a.Pads[1]+a.Pads[3]-kw)/a.Strides[1] + 1
	inputs := []string{x, w}
	if bias != "" {
		inputs = append(inputs, bias)
	}
	y := b.node("Conv", "conv", inputs,
		onnx.Ints("kernel_shape", kh, kw), onnx.Ints("strides", a.Strides[:]...), onnx.Ints("pads", a.Pads[:]...))
	out := Shape{sx[0], sw[0], ho, wo}
	return b.record(y, out, inputs, func(dy string) []string {
		g := make([]string, len(inputs))
		if b.needs[x] && kh == 1 && kw == 1 && a.Strides == [2]int64{1, 1} && a.Pads == ([4]int64{}) {
			// A 1×1 convolution's input gradient is the output gradient
			// times the kernel transposed, at every pixel: a 1×1
			// convolution by w with its two channel axes swapped, which
			// runs in the runtime's fastest convolution kernels
			// (ConvTranspose took 1.2× the forward convolutions' time).
			wt := a.GradKernel
			if wt == "" {
				wt = b.node("Transpose", "conv_grad_x_kernel", []string{w}, onnx.Ints("perm", 1, 0, 2, 3))
			}
			g[0] = b.node("Conv", "conv_grad_x", []string{dy, wt, b.zeros(sx[1])}, onnx.Ints("kernel_shape", 1, 1))
		} else if b.needs[x] && a.Strides == [2]int64{1, 1} && max(a.Pads[0], a.Pads[2]) < kh && max(a.Pads[1], a.Pads[3]) < kw {
			// A stride-1 convolution's input gradient is the output
			// gradient convolved with the kernel flipped in both spatial
			// axes and its channel axes swapped, padded so that the
			// convolution runs backwards (kh-1-pad on each side). It runs
			// in the runtime's forward convolution kernels, which took a
			// third of ConvTranspose's time on these shapes.
			wf := a.GradKernel
			if wf == "" {
				wt := b.node("Transpose", "conv_grad_x_kernel", []string{w}, onnx.Ints("perm", 1, 0, 2, 3))
				wf = b.node("Slice", "conv_grad_x_kernel", []string{wt, b.ints(-1, -1), b.ints(math.MinInt64, math.MinInt64), b.ints(2, 3), b.ints(-1, -1)})
			}
			g[0] = b.node("Conv", "conv_grad_x", []string{dy, wf, b.zeros(sx[1])}, onnx.Ints("kernel_shape", kh, kw),
				onnx.Ints("pads", kh-1-a.Pads[0], kw-1-a.Pads[1], kh-1-a.Pads[2], kw-1-a.Pads[3]))
		} else if b.needs[x] {
			// ConvTranspose with the same kernel, stride and padding maps
			// the output gradient back onto the input; output_padding
			// restores rows and columns a strided convolution never read.
			ph := sx[2] - ((ho-1)*a.Strides[0] + kh - a.Pads[0] - a.Pads[2])
			pw := sx[3] - ((wo-1)*a.Strides[1] + kw - a.Pads[1] - a.Pads[3])
			g[0] = b.node("ConvTranspose", "conv_grad_x", []string{dy, w},
				onnx.Ints("kernel_shape", kh, kw), onnx.Ints("strides", a.Strides[:]...),
				onnx.Ints("pads", a.Pads[:]...), onnx.Ints("output_padding", ph, pw))
		}
		if b.needs[w] {
			if b.KernelGrad == KernelGradConv && a.KernelGradRows {
				panic("grad: Conv: KernelGradRows needs the im2col kernel gradient")
			}
			if b.KernelGrad == KernelGradConv {
				g[1] = b.kernelGradConv(x, dy, sx, sw, out, a)
			} else {
				g[1] = b.kernelGradIm2col(x, dy, sx, sw, out, a)
			}
		}
		if bias != "" && b.needs[bias] {
			g[2] = b.node("ReduceSum", "conv_grad_b", []string{dy, b.ints(0, 2, 3)}, onnx.Int("keepdims", 0))
		}
		return g
	})
}

// kernelGradConv computes dW[m, c, i, j] = Σ dy[n, m, p, q]·x[n, c, s·p+i,
// s·q+j] as a convolution of x with batch and channels swapped ([c, n, h,
// w]) by dy likewise swapped ([m, n, ho, wo]) dilated by the stride.
func (b *Builder) kernelGradConv(x, dy string, sx, sw, out Shape, a ConvAttrs) string {
	xt := b.node("Transpose", "conv_grad_w_xt", []string{x}, onnx.Ints("perm", 1, 0, 2, 3))
	dt := b.node("Transpose", "conv_grad_w_dyt", []string{dy}, onnx.Ints("perm", 1, 0, 2, 3))
	r := b.node("Conv", "conv_grad_w_conv", []string{xt, dt},
		onnx.Ints("kernel_shape", out[2], out[3]),
		onnx.Ints("dilations", a.Strides[:]...), onnx.Ints("pads", a.Pads[:]...))
	// The result is [c, m, kh', kw'] with kh' ≥ kh: a strided convolution
	// that never reached the last rows leaves extra ones.
	kh := sx[2] + a.Pads[0] + a.Pads[2] - (a.Strides[0]*(out[2]-1) + 1) + 1
	kw := sx[3] + a.Pads[1] + a.Pads[3] - (a.Strides[1]*(out[3]-1) + 1) + 1
	if kh != sw[2] || kw != sw[3] {
		r = b.node("Slice", "conv_grad_w_crop", []string{r, b.ints(0, 0), b.ints(sw[2], sw[3]), b.ints(2, 3)})
	}
	return b.node("Transpose", "conv_grad_w", []string{r}, onnx.Ints("perm", 1, 0, 2, 3))
}

// kernelGradIm2col computes the kernel gradient as one matrix product of
// the output gradient, [m, n·ho·wo], and the input's patches.
func (b *Builder) kernelGradIm2col(x, dy string, sx, sw, out Shape, a ConvAttrs) string {
	m, c, kh, kw := sw[0], sw[1], sw[2], sw[3]
	dt := b.node("Transpose", "conv_grad_w_dyt", []string{dy}, onnx.Ints("perm", 1, 0, 2, 3))
	dm := b.node("Reshape", "conv_grad_w_dym", []string{dt, b.ints(m, -1)})
	if kh*kw == 1 && a.Pads == ([4]int64{}) {
		// The patches are the input's pixels (every stride-th one):
		// [c, n·ho·wo], met by the product with its operand transposed.
		cols := x
		if a.Strides != [2]int64{1, 1} {
			cols = b.node("Slice", "conv_grad_w_patch", []string{x,
				b.ints(0, 0), b.ints(a.Strides[0]*(out[2]-1)+1, a.Strides[1]*(out[3]-1)+1),
				b.ints(2, 3), b.ints(a.Strides[0], a.Strides[1])})
		}
		ct := b.node("Transpose", "conv_grad_w_colst", []string{cols}, onnx.Ints("perm", 1, 0, 2, 3))
		cm := b.node("Reshape", "conv_grad_w_colsm", []string{ct, b.ints(c, -1)})
		g := b.node("Gemm", "conv_grad_w_gemm", []string{dm, cm}, onnx.Int("transB", 1))
		if a.KernelGradRows {
			return g
		}
		return b.node("Reshape", "conv_grad_w", []string{g, b.ints(m, c, 1, 1)})
	}
	// The patches as [n·ho·wo, kh·kw·c]: the input channels last (one
	// transpose of the input), padded, and every output pixel's kh×kw
	// window taken by one Gather with a constant table of pixel numbers.
	// That is one copy of the patches; slicing each offset out and
	// concatenating, then transposing for the product, made three.
	//
	// The input is padded by the same amount on every side, the largest
	// of the convolution's pads: the 1×3 and 3×1 convolutions that read
	// one value (each block has two such pairs) then share its padded
	// copy, and each one's table skips the rows or columns it does not
	// pad.
	h, w := sx[2], sx[3]
	pad := max(a.Pads[0], a.Pads[1], a.Pads[2], a.Pads[3])
	hp, wp := h+2*pad, w+2*pad
	ho, wo := out[2], out[3]
	key := fmt.Sprintf("%s/%d", x, pad)
	xn, ok := b.pixels[key]
	if !ok {
		xn = b.node("Transpose", "conv_grad_w_nhwc", []string{x}, onnx.Ints("perm", 0, 2, 3, 1))
		if pad > 0 {
			xn = b.node("Pad", "conv_grad_w_pad", []string{xn, b.ints(0, pad, pad, 0, 0, pad, pad, 0)})
		}
		xn = b.node("Reshape", "conv_grad_w_pixels", []string{xn, b.ints(-1, hp*wp, c)})
		if b.pixels == nil {
			b.pixels = map[string]string{}
		}
		b.pixels[key] = xn
	}
	top, left := pad-a.Pads[0], pad-a.Pads[1]
	table := make([]int64, 0, ho*wo*kh*kw)
	for p := range ho {
		for q := range wo {
			for i := range kh {
				for j := range kw {
					table = append(table, (p*a.Strides[0]+i+top)*wp+q*a.Strides[1]+j+left)
				}
			}
		}
	}
	idx := b.g.Int64(b.name("conv_grad_w_table"), table, ho*wo, kh*kw)
	cols := b.node("Gather", "conv_grad_w_cols", []string{xn, idx}, onnx.Int("axis", 1)) // [n, ho·wo, kh·kw, c]
	cm := b.node("Reshape", "conv_grad_w_colsm", []string{cols, b.ints(-1, kh*kw*c)})
	g := b.node("MatMul", "conv_grad_w_gemm", []string{dm, cm})
	if a.KernelGradRows {
		return g
	}
	g = b.node("Reshape", "conv_grad_w_4d", []string{g, b.ints(m, kh, kw, c)})
	return b.node("Transpose", "conv_grad_w", []string{g}, onnx.Ints("perm", 0, 3, 1, 2))
}

// SoftmaxCrossEntropy returns the loss -Σᵢ scaleᵢ Σₖ targetᵢₖ·log
// softmax(logits)ᵢₖ, of shape [1], and the softmax probabilities. logits and
// target are [n, k]; scale is [n, 1], a non-differentiated input carrying
// each sample's weight (a class weight divided by the batch size gives
// Keras's weighted mean). target carries label smoothing, if any.
func (b *Builder) SoftmaxCrossEntropy(logits, target, scale string) (loss, probs string) {
	s := b.Shape(logits)
	var logp string
	if b.GPU {
		// log softmax(z) = (z - max z) - log Σ exp(z - max z): the
		// largest term of the sum is exp(0) = 1, so it neither overflows
		// nor underflows to log 0. The gradient below is the same: it
		// needs only the probabilities.
		z := b.node("Sub", "log_softmax_shifted", []string{logits,
			b.node("ReduceMax", "log_softmax_max", []string{logits}, onnx.Ints("axes", 1), onnx.Int("keepdims", 1))})
		sum := b.node("ReduceSum", "log_softmax_sum", []string{b.node("Exp", "log_softmax_exp", []string{z}), b.ints(1)}, onnx.Int("keepdims", 1))
		logp = b.node("Sub", "log_softmax", []string{z, b.node("Log", "log_softmax_log", []string{sum})})
	} else {
		logp = b.node("LogSoftmax", "log_softmax", []string{logits}, onnx.Int("axis", 1))
	}
	probs = b.define(b.node("Exp", "probs", []string{logp}), s)
	ce := b.node("ReduceSum", "ce", []string{b.node("Mul", "ce_terms", []string{logp, target}), b.ints(1)}, onnx.Int("keepdims", 1))
	weighted := b.node("Mul", "ce_weighted", []string{ce, scale})
	y := b.node("Neg", "loss", []string{b.node("ReduceSum", "ce_sum", []string{weighted, b.ints(0, 1)}, onnx.Int("keepdims", 0))})
	y = b.node("Reshape", "loss_1", []string{y, b.ints(1)})
	loss = b.record(y, Shape{1}, []string{logits}, func(dy string) []string {
		d := b.node("Mul", "ce_grad", []string{b.node("Sub", "ce_grad_diff", []string{probs, target}), scale})
		return []string{b.node("Mul", "ce_grad_seed", []string{d, dy})}
	})
	return loss, probs
}

// Backward emits the gradient of the loss (a value of shape [1]) with
// respect to every parameter and to each of values, returning the
// gradients' value names by parameter or value. A parameter the loss does
// not depend on gets a zero gradient. A value's gradient lets the caller
// finish a gradient itself: the head's trainer takes the gradient of a
// layer's output and computes its kernel's inside the optimiser step. A
// value that depends on no parameter has no gradient: asking for it panics.
func (b *Builder) Backward(loss string, values ...string) map[string]string {
	grads := map[string]string{loss: b.g.Float(b.name("seed"), []float32{1}, 1)}
	for i := len(b.tape) - 1; i >= 0; i-- {
		st := b.tape[i]
		dy, ok := grads[st.output]
		if !ok {
			continue
		}
		if !st.spread {
			dy = b.whole(dy)
		}
		for j, g := range st.back(dy) {
			in := st.inputs[j]
			if g == "" || !b.needs[in] {
				continue
			}
			if prev, ok := grads[in]; ok {
				sum := b.node("Add", "grad_sum", []string{prev, g})
				if x, ok := b.spread[prev]; ok && b.spread[g] == x {
					b.spread[sum] = x // still the same at every pixel
				}
				g = sum
			}
			grads[in] = g
		}
	}
	out := make(map[string]string, len(b.params)+len(values))
	for _, v := range values {
		g, ok := grads[v]
		if !ok {
			panic(fmt.Sprintf("grad: Backward: the loss has no gradient with respect to %q", v))
		}
		out[v] = b.rename(b.whole(g), "grad/"+v)
	}
	for _, p := range b.params {
		g, ok := grads[p]
		if !ok {
			g = b.node("Mul", "grad_zero", []string{p, b.scalar(0)})
		}
		out[p] = b.rename(b.whole(g), "grad/"+p)
	}
	return out
}

// whole returns the gradient g in its value's shape: expanded, where a
// global average pooling left it the same at every pixel (Builder.spread).
func (b *Builder) whole(g string) string {
	if x, ok := b.spread[g]; ok {
		return b.node("Expand", "gap_grad", []string{g, b.shapeOf(x)})
	}
	return g
}

// rename gives the value v, produced by a node of the graph, the name
// name, so that a graph output is written by the node that computes it:
// an Identity node in between would make ONNX Runtime copy it (for the
// head's hidden kernel, 8 MB per step). A value no node produces (an input
// or an initializer) gets an Identity node.
func (b *Builder) rename(v, name string) string {
	if r, ok := b.renamed[v]; ok { // the gradient of two outputs
		return b.g.Node("Identity", name, []string{r})
	}
	g := b.g.Proto()
	for _, n := range g.Node {
		for i, o := range n.Output {
			if o != v {
				continue
			}
			n.Output[i] = name
			b.renamed[v] = name
			for _, m := range g.Node {
				for j, in := range m.Input {
					if in == v {
						m.Input[j] = name
					}
				}
			}
			return name
		}
	}
	return b.g.Node("Identity", name, []string{v})
}

// Output declares v as a graph output under its own name.
func (b *Builder) Output(v string) {
	b.g.Output(v, b.Shape(v)...)
}

// OutputGrad declares a gradient (from Backward) of parameter p as a graph
// output, with p's shape.
func (b *Builder) OutputGrad(p, g string) {
	b.g.Output(g, b.Shape(p)...)
}
