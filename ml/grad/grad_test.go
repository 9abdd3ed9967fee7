package grad

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// spec is one input of a gradient test case.
type spec struct {
	name  string
	shape []int64 // concrete; the graph declares dim 0 as -1 when batch is set
	param bool
	batch bool
	// kind shapes the random values: "" normal, "mask" a dropout mask,
	// "target" rows of a label-smoothed one-hot distribution, "scale"
	// positive sample weights.
	kind string
}

// gradCase is one operator (or composition) to check: build adds it to the
// graph, ref computes the same in float64.
type gradCase struct {
	name   string
	inputs []spec
	build  func(b *Builder, in []string) string
	ref    func(in [][]float64) []float64
	// scalar: build already returns a loss of shape [1]; otherwise the
	// loss is Σ output·r for a random r.
	scalar bool
}

func conv(x, w, bias []float64, n, c, h, wd, m, kh, kw int, a ConvAttrs) []float64 {
	if a.Strides == ([2]int64{}) {
		a.Strides = [2]int64{1, 1}
	}
	sh, sw := int(a.Strides[0]), int(a.Strides[1])
	pt, pl, pb, pr := int(a.Pads[0]), int(a.Pads[1]), int(a.Pads[2]), int(a.Pads[3])
	ho, wo := (h+pt+pb-kh)/sh+1, (wd+pl+pr-kw)/sw+1
	y := make([]float64, n*m*ho*wo)
	for b := range n {
		for o := range m {
			for p := range ho {
				for q := range wo {
					s := 0.0
					if bias != nil {
						s = bias[o]
					}
					for ci := range c {
						for i := range kh {
							for j := range kw {
								r, cc := p*sh+i-pt, q*sw+j-pl
								if r < 0 || r >= h || cc < 0 || cc >= wd {
									continue
								}
								s += x[((b*c+ci)*h+r)*wd+cc] * w[((o*c+ci)*kh+i)*kw+j]
							}
						}
					}
					y[((b*m+o)*ho+p)*wo+q] = s
				}
			}
		}
	}
	return y
}

func avgPool3(x []float64, n, c, h, w int) []float64 {
	y := make([]float64, len(x))
	for b := range n * c {
		for i := range h {
			for j := range w {
				s, k := 0.0, 0
				for di := -1; di <= 1; di++ {
					for dj := -1; dj <= 1; dj++ {
						r, cc := i+di, j+dj
						if r >= 0 && r < h && cc >= 0 && cc < w {
							s += x[(b*h+r)*w+cc]
							k++
						}
					}
				}
				y[(b*h+i)*w+j] = s / float64(k)
			}
		}
	}
	return y
}

func dense(x, w, bias []float64, n, in, out int) []float64 {
	y := make([]float64, n*out)
	for r := range n {
		for o := range out {
			s := 0.0
			if bias != nil {
				s = bias[o]
			}
			for i := range in {
				s += x[r*in+i] * w[i*out+o]
			}
			y[r*out+o] = s
		}
	}
	return y
}

func relu(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = max(v, 0)
	}
	return y
}

func convCase(name string, n, c, h, w, m, kh, kw int, a ConvAttrs, bias bool) gradCase {
	in := []spec{
		{name: "x", shape: []int64{int64(n), int64(c), int64(h), int64(w)}, param: true, batch: true},
		{name: "w", shape: []int64{int64(m), int64(c), int64(kh), int64(kw)}, param: true},
	}
	if bias {
		in = append(in, spec{name: "b", shape: []int64{int64(m)}, param: true})
	}
	return gradCase{
		name:   name,
		inputs: in,
		build: func(b *Builder, in []string) string {
			bn := ""
			if len(in) > 2 {
				bn = in[2]
			}
			return b.Conv(in[0], in[1], bn, a)
		},
		ref: func(in [][]float64) []float64 {
			var bs []float64
			if len(in) > 2 {
				bs = in[2]
			}
			return conv(in[0], in[1], bs, n, c, h, w, m, kh, kw, a)
		},
	}
}

func gradCases() []gradCase {
	return []gradCase{
		{
			name:   "Dense",
			inputs: []spec{{name: "x", shape: []int64{5, 7}, param: true, batch: true}, {name: "w", shape: []int64{7, 4}, param: true}, {name: "b", shape: []int64{4}, param: true}},
			build:  func(b *Builder, in []string) string { return b.Dense(in[0], in[1], in[2]) },
			ref:    func(in [][]float64) []float64 { return dense(in[0], in[1], in[2], 5, 7, 4) },
		},
		{
			name:   "MatMul",
			inputs: []spec{{name: "x", shape: []int64{3, 6}, param: true, batch: true}, {name: "w", shape: []int64{6, 2}, param: true}},
			build:  func(b *Builder, in []string) string { return b.MatMul(in[0], in[1]) },
			ref:    func(in [][]float64) []float64 { return dense(in[0], in[1], nil, 3, 6, 2) },
		},
		{
			name:   "Add broadcast",
			inputs: []spec{{name: "x", shape: []int64{3, 4, 2, 2}, param: true, batch: true}, {name: "b", shape: []int64{4, 1, 1}, param: true}},
			build:  func(b *Builder, in []string) string { return b.Add(in[0], in[1]) },
			ref: func(in [][]float64) []float64 {
				y := make([]float64, len(in[0]))
				for i := range y {
					y[i] = in[0][i] + in[1][(i/4)%4]
				}
				return y
			},
		},
		{
			name:   "Mul broadcast",
			inputs: []spec{{name: "x", shape: []int64{4, 3, 2, 2}, param: true}, {name: "s", shape: []int64{4, 1, 1, 1}, param: true}},
			build:  func(b *Builder, in []string) string { return b.Mul(in[0], in[1]) },
			ref: func(in [][]float64) []float64 {
				y := make([]float64, len(in[0]))
				for i := range y {
					y[i] = in[0][i] * in[1][i/12]
				}
				return y
			},
		},
		{
			name:   "Relu",
			inputs: []spec{{name: "x", shape: []int64{4, 9}, param: true, batch: true}},
			build:  func(b *Builder, in []string) string { return b.Relu(in[0]) },
			ref:    func(in [][]float64) []float64 { return relu(in[0]) },
		},
		{
			name:   "Dropout",
			inputs: []spec{{name: "x", shape: []int64{4, 9}, param: true, batch: true}, {name: "mask", shape: []int64{4, 9}, batch: true, kind: "mask"}},
			build:  func(b *Builder, in []string) string { return b.Dropout(in[0], in[1]) },
			ref: func(in [][]float64) []float64 {
				y := make([]float64, len(in[0]))
				for i := range y {
					y[i] = in[0][i] * in[1][i]
				}
				return y
			},
		},
		{
			name: "SoftmaxCrossEntropy",
			inputs: []spec{
				{name: "z", shape: []int64{4, 3}, param: true, batch: true},
				{name: "t", shape: []int64{4, 3}, batch: true, kind: "target"},
				{name: "s", shape: []int64{4, 1}, batch: true, kind: "scale"},
			},
			scalar: true,
			build: func(b *Builder, in []string) string {
				loss, _ := b.SoftmaxCrossEntropy(in[0], in[1], in[2])
				return loss
			},
			ref: func(in [][]float64) []float64 {
				z, t, s := in[0], in[1], in[2]
				loss := 0.0
				for r := range 4 {
					m := math.Inf(-1)
					for k := range 3 {
						m = max(m, z[r*3+k])
					}
					sum := 0.0
					for k := range 3 {
						sum += math.Exp(z[r*3+k] - m)
					}
					for k := range 3 {
						loss -= s[r] * t[r*3+k] * (z[r*3+k] - m - math.Log(sum))
					}
				}
				return []float64{loss}
			},
		},
		convCase("Conv 1x1", 2, 5, 3, 3, 4, 1, 1, ConvAttrs{}, true),
		convCase("Conv 3x3 same", 2, 3, 5, 5, 4, 3, 3, ConvAttrs{Pads: [4]int64{1, 1, 1, 1}}, true),
		convCase("Conv 3x3 stride 2 valid", 2, 3, 7, 8, 2, 3, 3, ConvAttrs{Strides: [2]int64{2, 2}}, false),
		convCase("Conv 1x3 same", 2, 3, 4, 5, 3, 1, 3, ConvAttrs{Pads: [4]int64{0, 1, 0, 1}}, true),
		convCase("Conv 3x1 same", 2, 3, 5, 4, 3, 3, 1, ConvAttrs{Pads: [4]int64{1, 0, 1, 0}}, true),
		convCase("Conv 5x5 stride 2 asymmetric pad", 1, 2, 9, 7, 3, 5, 5, ConvAttrs{Strides: [2]int64{2, 2}, Pads: [4]int64{1, 2, 0, 1}}, true),
		convCase("Conv 1x1 stride 2", 2, 3, 5, 5, 2, 1, 1, ConvAttrs{Strides: [2]int64{2, 2}}, false),
		convCase("Conv 3x2 asymmetric pad", 1, 2, 4, 5, 3, 3, 2, ConvAttrs{Pads: [4]int64{2, 0, 1, 1}}, true),
		convCase("Conv 3x3 valid", 2, 3, 5, 4, 2, 3, 3, ConvAttrs{}, false),
		convCase("Conv 1x1 padded", 1, 2, 3, 3, 2, 1, 1, ConvAttrs{Pads: [4]int64{1, 0, 0, 1}}, false),
		{
			name:   "AveragePool3",
			inputs: []spec{{name: "x", shape: []int64{2, 3, 4, 5}, param: true, batch: true}},
			build:  func(b *Builder, in []string) string { return b.AveragePool3(in[0]) },
			ref:    func(in [][]float64) []float64 { return avgPool3(in[0], 2, 3, 4, 5) },
		},
		{
			name:   "Concat",
			inputs: []spec{{name: "a", shape: []int64{2, 3, 2, 2}, param: true, batch: true}, {name: "c", shape: []int64{2, 2, 2, 2}, param: true, batch: true}},
			build:  func(b *Builder, in []string) string { return b.Concat(1, in[0], in[1]) },
			ref: func(in [][]float64) []float64 {
				var y []float64
				for n := range 2 {
					y = append(y, in[0][n*12:(n+1)*12]...)
					y = append(y, in[1][n*8:(n+1)*8]...)
				}
				return y
			},
		},
		{
			name:   "GlobalAveragePool Flatten",
			inputs: []spec{{name: "x", shape: []int64{3, 4, 2, 3}, param: true, batch: true}},
			build:  func(b *Builder, in []string) string { return b.Flatten(b.GlobalAveragePool(in[0])) },
			ref: func(in [][]float64) []float64 {
				y := make([]float64, 12)
				for i := range y {
					for j := range 6 {
						y[i] += in[0][i*6+j] / 6
					}
				}
				return y
			},
		},
		{
			// A ReLU read by two global poolings: their gradients, the
			// same at every pixel, add up and reach the ReLU unexpanded.
			name:   "ReLU pooled twice",
			inputs: []spec{{name: "x", shape: []int64{2, 3, 2, 3}, param: true, batch: true}},
			build: func(b *Builder, in []string) string {
				r := b.Relu(in[0])
				return b.Concat(1, b.Flatten(b.GlobalAveragePool(r)), b.Flatten(b.GlobalAveragePool(r)))
			},
			ref: func(in [][]float64) []float64 {
				r := relu(in[0])
				var y []float64
				for n := range 2 {
					m := make([]float64, 3)
					for c := range m {
						for j := range 6 {
							m[c] += r[(n*3+c)*6+j] / 6
						}
					}
					y = append(append(y, m...), m...)
				}
				return y
			},
		},
		{
			// A ReLU read by a global pooling and whole: the pooling's
			// gradient adds to a whole one.
			name:   "ReLU pooled and whole",
			inputs: []spec{{name: "x", shape: []int64{2, 3, 2, 3}, param: true, batch: true}},
			build: func(b *Builder, in []string) string {
				r := b.Relu(in[0])
				return b.Concat(1, b.Flatten(b.GlobalAveragePool(r)), b.Flatten(r))
			},
			ref: func(in [][]float64) []float64 {
				r := relu(in[0])
				var y []float64
				for n := range 2 {
					for c := range 3 {
						m := 0.0
						for j := range 6 {
							m += r[(n*3+c)*6+j] / 6
						}
						y = append(y, m)
					}
					y = append(y, r[n*18:(n+1)*18]...)
				}
				return y
			},
		},
		{
			// A 1×3 and a 3×1 convolution reading one input, as in each
			// block: their kernel gradients share its padded copy.
			name: "1x3 and 3x1 on one input",
			inputs: []spec{{name: "x", shape: []int64{2, 3, 4, 3}, param: true, batch: true},
				{name: "a", shape: []int64{2, 3, 1, 3}, param: true}, {name: "b", shape: []int64{2, 3, 3, 1}, param: true}},
			build: func(b *Builder, in []string) string {
				return b.Concat(1, b.Conv(in[0], in[1], "", ConvAttrs{Pads: [4]int64{0, 1, 0, 1}}), b.Conv(in[0], in[2], "", ConvAttrs{Pads: [4]int64{1, 0, 1, 0}}))
			},
			ref: func(in [][]float64) []float64 {
				p := conv(in[0], in[1], nil, 2, 3, 4, 3, 2, 1, 3, ConvAttrs{Pads: [4]int64{0, 1, 0, 1}})
				q := conv(in[0], in[2], nil, 2, 3, 4, 3, 2, 3, 1, ConvAttrs{Pads: [4]int64{1, 0, 1, 0}})
				var y []float64
				for n := range 2 {
					y = append(y, p[n*24:(n+1)*24]...)
					y = append(y, q[n*24:(n+1)*24]...)
				}
				return y
			},
		},
		{
			// A value used twice: gradients add up.
			name:   "shared input",
			inputs: []spec{{name: "x", shape: []int64{2, 3, 3, 3}, param: true, batch: true}, {name: "w", shape: []int64{2, 3, 1, 1}, param: true}},
			build: func(b *Builder, in []string) string {
				return b.Concat(1, b.Relu(b.Conv(in[0], in[1], "", ConvAttrs{})), b.AveragePool3(in[0]))
			},
			ref: func(in [][]float64) []float64 {
				c := relu(conv(in[0], in[1], nil, 2, 3, 3, 3, 2, 1, 1, ConvAttrs{}))
				p := avgPool3(in[0], 2, 3, 3, 3)
				var y []float64
				for n := range 2 {
					y = append(y, c[n*18:(n+1)*18]...)
					y = append(y, p[n*27:(n+1)*27]...)
				}
				return y
			},
		},
	}
}

func randomInput(rng *rand.Rand, s spec) []float64 {
	n := 1
	for _, d := range s.shape {
		n *= int(d)
	}
	v := make([]float64, n)
	switch s.kind {
	case "mask":
		for i := range v {
			if rng.IntN(2) == 1 {
				v[i] = 2
			}
		}
	case "target":
		k := int(s.shape[len(s.shape)-1])
		for r := range n / k {
			label := rng.IntN(k)
			for c := range k {
				v[r*k+c] = 0.1 / float64(k)
				if c == label {
					v[r*k+c] += 0.9
				}
			}
		}
	case "scale":
		for i := range v {
			v[i] = 0.5 + rng.Float64()
		}
	default:
		for i := range v {
			// Away from 0 so that ReLU's kink does not meet a finite
			// difference.
			x := rng.NormFloat64()
			for math.Abs(x) < 0.05 {
				x = rng.NormFloat64()
			}
			v[i] = x
		}
	}
	return v
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func runtimeForTest(t testing.TB) *onnxrt.Runtime {
	t.Helper()
	rt, err := onnxrt.Load(mltest.RuntimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// TestGradients checks every operator's gradient, computed by ONNX Runtime
// from the graph Backward emits, against central finite differences of a
// float64 reference implementation, for both kernel gradient formulations.
func TestGradients(t *testing.T) {
	rt := runtimeForTest(t)
	for _, kg := range []KernelGrad{KernelGradIm2col, KernelGradConv} {
		for _, tc := range gradCases() {
			t.Run(tc.name+kgName(kg), func(t *testing.T) {
				checkGradients(t, rt, tc, kg)
			})
		}
	}
}

// TestGradientsGPU checks the gradients again in graphs built for a GPU
// provider, with the batch static and LogSoftmax decomposed.
func TestGradientsGPU(t *testing.T) {
	rt := runtimeForTest(t)
	for _, tc := range gradCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkGradientsFor(t, rt, tc, KernelGradIm2col, true)
		})
	}
}

func kgName(k KernelGrad) string {
	if k == KernelGradConv {
		return " (kernel grad by conv)"
	}
	return ""
}

func checkGradients(t *testing.T, rt *onnxrt.Runtime, tc gradCase, kg KernelGrad) {
	checkGradientsFor(t, rt, tc, kg, false)
}

// checkGradientsFor checks one case's gradients; gpu builds the graph as
// for a GPU provider (Builder.GPU, every batch dimension static) and checks
// too that it has no node those providers run on the CPU.
func checkGradientsFor(t *testing.T, rt *onnxrt.Runtime, tc gradCase, kg KernelGrad, gpu bool) {
	rng := rand.New(rand.NewPCG(7, uint64(len(tc.name))))
	vals := make([][]float64, len(tc.inputs))
	for i, s := range tc.inputs {
		vals[i] = randomInput(rng, s)
	}
	b := NewBuilder("test")
	b.KernelGrad, b.GPU = kg, gpu
	names := make([]string, len(tc.inputs))
	for i, s := range tc.inputs {
		shape := append([]int64(nil), s.shape...)
		if s.batch && !gpu {
			shape[0] = -1
		}
		if s.param {
			names[i] = b.Param(s.name, shape...)
		} else {
			names[i] = b.Input(s.name, shape...)
		}
	}
	y := tc.build(b, names)
	yref := tc.ref(vals)
	var r []float64
	loss := y
	inputs := names
	if !tc.scalar {
		r = make([]float64, len(yref))
		for i := range r {
			r[i] = rng.NormFloat64()
		}
		rn := b.Input("r", b.Shape(y)...)
		loss = b.Sum(b.Mul(y, rn))
		inputs = append(append([]string(nil), names...), rn)
		vals = append(vals, r)
	}
	grads := b.Backward(loss)
	b.Output(loss)
	outputs := []string{loss}
	var params []int
	for i, s := range tc.inputs {
		if s.param {
			b.OutputGrad(names[i], grads[names[i]])
			outputs = append(outputs, grads[names[i]])
			params = append(params, i)
		}
	}
	if gpu {
		for _, n := range b.Graph().Proto().GetNode() {
			if op := n.GetOpType(); op == "Shape" || op == "LogSoftmax" {
				t.Errorf("node %s is a %s", n.GetName(), op)
			}
		}
	}
	model, err := proto.Marshal(b.Graph().Model("test", "", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.NewMultiSession(model, inputs, outputs, onnxrt.Options{Provider: onnxrt.CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := make([]onnxrt.Tensor, len(inputs))
	for i := range inputs {
		shape := []int64{int64(len(vals[i]))}
		if i < len(tc.inputs) {
			shape = tc.inputs[i].shape
		} else {
			shape = append([]int64(nil), b.Shape(y)...)
			if shape[0] < 0 { // the batch rows: what the reference gave
				shape[0] = int64(len(vals[i])) / Shape(shape[1:]).Size()
			}
		}
		in[i] = onnxrt.Tensor{Data: f32(vals[i]), Shape: shape}
	}
	out := []onnxrt.Tensor{{Data: make([]float32, 1), Shape: []int64{1}}}
	for _, p := range params {
		out = append(out, onnxrt.Tensor{Data: make([]float32, len(vals[p])), Shape: tc.inputs[p].shape})
	}
	if err := s.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}

	lossOf := func(v [][]float64) float64 {
		yy := tc.ref(v[:len(tc.inputs)])
		if tc.scalar {
			return yy[0]
		}
		l := 0.0
		for i := range yy {
			l += yy[i] * r[i]
		}
		return l
	}
	if want := lossOf(vals); math.Abs(float64(out[0].Data[0])-want) > 1e-4*(1+math.Abs(want)) {
		t.Errorf("loss %v, want %v", out[0].Data[0], want)
	}
	const h = 1e-5
	for k, p := range params {
		got := out[k+1].Data
		var diff, norm float64
		for i := range vals[p] {
			x := vals[p][i]
			vals[p][i] = x + h
			up := lossOf(vals)
			vals[p][i] = x - h
			down := lossOf(vals)
			vals[p][i] = x
			want := (up - down) / (2 * h)
			d := float64(got[i]) - want
			diff += d * d
			norm += want * want
		}
		rel := math.Sqrt(diff / max(norm, 1e-30))
		if rel > 1e-4 {
			t.Errorf("gradient of %s: relative L2 error %.2e against finite differences", tc.inputs[p].name, rel)
		}
	}
}

// TestConvGradKernel checks that a convolution whose input gradient reads
// a kernel given beside it (ConvAttrs.GradKernel: w's channel axes
// swapped, flipped in both spatial axes) gives the same gradients, to the
// bit, as one that derives that kernel in the graph, whose gradients
// TestGradients checks against finite differences; and so does one that
// also leaves its kernel gradient in rows (ConvAttrs.KernelGradRows), read
// back into the kernel's layout.
func TestConvGradKernel(t *testing.T) {
	rt := runtimeForTest(t)
	for _, c := range []struct {
		name         string
		c, m, kh, kw int64
		pads         [4]int64
	}{
		{"1x1", 5, 3, 1, 1, [4]int64{}},
		{"3x3", 4, 3, 3, 3, [4]int64{1, 1, 1, 1}},
		{"1x3", 3, 4, 1, 3, [4]int64{0, 1, 0, 1}},
		{"3x1 unpadded", 3, 2, 3, 1, [4]int64{}},
		{"3x1 padded on one side", 3, 2, 3, 1, [4]int64{0, 0, 2, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n, h, w = 2, 5, 4
			rng := rand.New(rand.NewPCG(3, uint64(c.kh*10+c.kw)))
			rnd := func(k int64) []float32 {
				v := make([]float32, k)
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
				return v
			}
			xv, wv := rnd(n*c.c*h*w), rnd(c.m*c.c*c.kh*c.kw)
			kk := c.kh * c.kw
			flipped := make([]float32, len(wv))
			for o := range c.m {
				for i := range c.c {
					for j := range kk {
						flipped[(i*c.m+o)*kk+kk-1-j] = wv[(o*c.c+i)*kk+j]
					}
				}
			}
			run := func(given, rows bool) [][]float32 {
				b := NewBuilder("test")
				x := b.Param("x", -1, c.c, h, w)
				k := b.Param("w", c.m, c.c, c.kh, c.kw)
				a := ConvAttrs{Pads: c.pads, KernelGradRows: rows}
				inputs := []string{x, k}
				in := []onnxrt.Tensor{{Data: xv, Shape: []int64{n, c.c, h, w}}, {Data: wv, Shape: []int64{c.m, c.c, c.kh, c.kw}}}
				if given {
					a.GradKernel = b.Input("w_flipped", c.c, c.m, c.kh, c.kw)
					inputs = append(inputs, a.GradKernel)
					in = append(in, onnxrt.Tensor{Data: flipped, Shape: []int64{c.c, c.m, c.kh, c.kw}})
				}
				y := b.Conv(x, k, "", a)
				ys := b.Shape(y)
				r := b.Input("r", ys...)
				loss := b.Sum(b.Mul(y, r))
				grads := b.Backward(loss)
				b.Output(loss)
				b.OutputGrad(x, grads[x])
				kshape := []int64{c.m, c.c, c.kh, c.kw}
				if rows {
					kshape = []int64{c.m, kk * c.c}
				}
				b.Graph().Output(grads[k], kshape...)
				model, err := proto.Marshal(b.Graph().Model("test", "", nil, nil))
				if err != nil {
					t.Fatal(err)
				}
				s, err := rt.NewMultiSession(model, append(inputs, r), []string{loss, grads[x], grads[k]}, onnxrt.Options{Provider: onnxrt.CPU, Threads: 1})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				rshape := append([]int64{n}, ys[1:]...)
				rng := rand.New(rand.NewPCG(4, 4))
				rv := make([]float32, Shape(rshape).Size())
				for i := range rv {
					rv[i] = float32(rng.NormFloat64())
				}
				in = append(in, onnxrt.Tensor{Data: rv, Shape: rshape})
				out := []onnxrt.Tensor{
					{Data: make([]float32, 1), Shape: []int64{1}},
					{Data: make([]float32, len(xv)), Shape: []int64{n, c.c, h, w}},
					{Data: make([]float32, len(wv)), Shape: kshape},
				}
				if err := s.Run(context.Background(), in, out); err != nil {
					t.Fatal(err)
				}
				dk := out[2].Data
				if rows {
					// [m, kh, kw, c] to [m, c, kh, kw].
					dk = make([]float32, len(wv))
					for o := range c.m {
						for j := range kk {
							for i := range c.c {
								dk[(o*c.c+i)*kk+j] = out[2].Data[(o*kk+j)*c.c+i]
							}
						}
					}
				}
				return [][]float32{out[0].Data, out[1].Data, dk}
			}
			derived := run(false, false)
			for _, v := range []struct {
				name        string
				given, rows bool
			}{{"given", true, false}, {"given, kernel gradient in rows", true, true}, {"kernel gradient in rows", false, true}} {
				got := run(v.given, v.rows)
				for k, what := range []string{"loss", "input gradient", "kernel gradient"} {
					for i := range derived[k] {
						if math.Float32bits(derived[k][i]) != math.Float32bits(got[k][i]) {
							t.Fatalf("%s %d: %v with the kernel derived in the graph, %v with it %s", what, i, derived[k][i], got[k][i], v.name)
						}
					}
				}
			}
		})
	}
}
