package grad

import (
	"context"
	"math"
	"math/bits"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// maxPool is the float64 reference of MaxPool with valid padding.
func maxPool(x []float64, n, c, h, w, k, s int) []float64 {
	ho, wo := (h-k)/s+1, (w-k)/s+1
	y := make([]float64, n*c*ho*wo)
	for b := range n * c {
		for p := range ho {
			for q := range wo {
				m := math.Inf(-1)
				for i := range k {
					for j := range k {
						m = max(m, x[(b*h+p*s+i)*w+q*s+j])
					}
				}
				y[(b*ho+p)*wo+q] = m
			}
		}
	}
	return y
}

// poolCases are MaxPool's gradient cases, and the geometry of mixed8 (the
// block between mixed7 and mixed10): a 17×17 input reduced to 8×8 by a
// max pool and by 3×3 stride-2 convolutions, side by side.
func poolCases() []gradCase {
	pool := func(name string, n, c, h, w, k, s int) gradCase {
		return gradCase{
			name:   name,
			inputs: []spec{{name: "x", shape: []int64{int64(n), int64(c), int64(h), int64(w)}, param: true, batch: true}},
			build:  func(b *Builder, in []string) string { return b.MaxPool(in[0], int64(k), int64(s)) },
			ref:    func(in [][]float64) []float64 { return maxPool(in[0], n, c, h, w, k, s) },
		}
	}
	s2 := ConvAttrs{Strides: [2]int64{2, 2}}
	same17 := ConvAttrs{Pads: [4]int64{0, 3, 0, 3}}
	return []gradCase{
		// Overlapping windows (3 > 2), a batch of two: the indices count
		// across batch and channels.
		pool("MaxPool 3x3 stride 2", 2, 3, 7, 8, 3, 2),
		pool("MaxPool 3x3 stride 2 on 17x17", 1, 2, 17, 17, 3, 2),
		pool("MaxPool 3x3 stride 1", 2, 2, 5, 6, 3, 1),
		pool("MaxPool 2x2 stride 2", 2, 2, 6, 4, 2, 2),
		{
			// mixed8: concat(relu(conv 3×3/2 (x)), relu(conv 3×3/2
			// (relu(conv 1×7 (x)))), maxpool 3×3/2 (x)), all 17×17 → 8×8.
			name: "mixed8 geometry",
			inputs: []spec{
				{name: "x", shape: []int64{2, 3, 17, 17}, param: true, batch: true},
				{name: "w1", shape: []int64{2, 3, 3, 3}, param: true},
				{name: "b1", shape: []int64{2}, param: true},
				{name: "w2", shape: []int64{2, 3, 1, 7}, param: true},
				{name: "w3", shape: []int64{3, 2, 3, 3}, param: true},
			},
			build: func(b *Builder, in []string) string {
				a := b.Relu(b.Conv(in[0], in[1], in[2], s2))
				c := b.Relu(b.Conv(b.Relu(b.Conv(in[0], in[3], "", same17)), in[4], "", s2))
				return b.Concat(1, a, c, b.MaxPool(in[0], 3, 2))
			},
			ref: func(in [][]float64) []float64 {
				a := relu(conv(in[0], in[1], in[2], 2, 3, 17, 17, 2, 3, 3, s2))
				c := relu(conv(relu(conv(in[0], in[3], nil, 2, 3, 17, 17, 2, 1, 7, same17)), in[4], nil, 2, 2, 17, 17, 3, 3, 3, s2))
				p := maxPool(in[0], 2, 3, 17, 17, 3, 2)
				var y []float64
				for n := range 2 {
					y = append(y, a[n*128:(n+1)*128]...)
					y = append(y, c[n*192:(n+1)*192]...)
					y = append(y, p[n*192:(n+1)*192]...)
				}
				return y
			},
		},
	}
}

// TestMaxPoolGradients checks MaxPool's gradient and that of mixed8's
// layers together against finite differences, as TestGradients does for
// the other operators.
func TestMaxPoolGradients(t *testing.T) {
	rt := runtimeForTest(t)
	for _, kg := range []KernelGrad{KernelGradIm2col, KernelGradConv} {
		for _, tc := range poolCases() {
			t.Run(tc.name+kgName(kg), func(t *testing.T) {
				checkGradients(t, rt, tc, kg)
			})
		}
	}
}

// TestMaxPoolGradientTies checks the gradient where finite differences
// cannot: after a ReLU whole windows are 0, and each window's gradient must
// go to one of its pixels whole (the argmax), not be split between ties or
// lost, also where overlapping windows share the pixel.
func TestMaxPoolGradientTies(t *testing.T) {
	rt := runtimeForTest(t)
	const n, c, h, w, k, s = 2, 2, 7, 7, 3, 2
	const ho, wo = (h-k)/s + 1, (w-k)/s + 1
	b := NewBuilder("ties")
	x := b.Param("x", -1, c, h, w)
	dy := b.Input("dy", -1, c, ho, wo)
	loss := b.Sum(b.Mul(b.MaxPool(x, k, s), dy))
	g := b.Backward(loss)["x"]
	b.OutputGrad("x", g)
	model, err := proto.Marshal(b.Graph().Model("test", "", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := rt.NewMultiSession(model, []string{"x", "dy"}, []string{g}, onnxrt.Options{Provider: onnxrt.CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	// Zeros with a few ones: most windows tie at 0, some at 1.
	xs := make([]float32, n*c*h*w)
	for i := range xs {
		if i%11 == 0 {
			xs[i] = 1
		}
	}
	// Powers of two, so that every subset of them has its own sum.
	dys := make([]float32, n*c*ho*wo)
	for i := range dys {
		dys[i] = float32(math.Ldexp(1, i%(ho*wo)))
	}
	out := []onnxrt.Tensor{{Data: make([]float32, len(xs)), Shape: []int64{n, c, h, w}}}
	if err := sess.Run(context.Background(), []onnxrt.Tensor{
		{Data: xs, Shape: []int64{n, c, h, w}}, {Data: dys, Shape: []int64{n, c, ho, wo}},
	}, out); err != nil {
		t.Fatal(err)
	}
	dx := out[0].Data
	for plane := range n * c {
		var want, got float64
		for i := range ho * wo {
			want += float64(dys[plane*ho*wo+i])
		}
		for i := range h * w {
			v := float64(dx[plane*h*w+i])
			got += v
			if v == 0 {
				continue
			}
			// A pixel that receives gradient is the maximum of a window
			// holding it.
			r, col := i/w, i%w
			won := false
			for p := range ho {
				for q := range wo {
					if r < p*s || r >= p*s+k || col < q*s || col >= q*s+k {
						continue
					}
					m := float32(math.Inf(-1))
					for a := range k {
						for bb := range k {
							m = max(m, xs[plane*h*w+(p*s+a)*w+q*s+bb])
						}
					}
					won = won || xs[plane*h*w+i] == m
				}
			}
			if !won {
				t.Errorf("plane %d: pixel (%d, %d) of value %v got gradient %v without winning a window", plane, r, col, xs[plane*h*w+i], v)
			}
		}
		if got != want {
			t.Errorf("plane %d: the input gradient sums to %v, the output gradient to %v", plane, got, want)
		}
	}
	// Each window's gradient went whole to one pixel: within a plane the
	// output gradients are distinct powers of two, so every pixel's
	// gradient is a whole number whose bits name the windows it won, and
	// the plane's bits count every window once.
	for plane := range n * c {
		bitsSeen := 0
		for _, v := range dx[plane*h*w : (plane+1)*h*w] {
			if v != float32(math.Trunc(float64(v))) {
				t.Fatalf("plane %d: a pixel got %v, a fraction of a window's gradient", plane, v)
			}
			bitsSeen += bits.OnesCount(uint(v))
		}
		if bitsSeen != ho*wo {
			t.Errorf("plane %d: %d window gradients arrived, want %d", plane, bitsSeen, ho*wo)
		}
	}
}
