package head

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
)

// TestAdamPacked checks the fused step (the gradient xᵀ·dz computed inside
// the Adam update, on packed weights, and the next batch's product) against
// Adam applied to the gradient computed apart in float64 and a float64
// product, over several steps, so that the moments matter.
func TestAdamPacked(t *testing.T) {
	if !haveVectorKernels {
		t.Skip("this CPU has no vector kernels (AVX2 and FMA): the trainer lets ONNX Runtime compute the hidden layer (TestTrainersAgree checks that path)")
	}
	tests := []struct{ rows, cols, batch int }{
		{4, 16, 1}, {8, 32, 32}, {12, 48, 5}, {2048, 64, 32},
	}
	for _, tc := range tests {
		for _, wide := range kernelWidths() {
			t.Run(fmt.Sprintf("%dx%d,batch=%d,%s", tc.rows, tc.cols, tc.batch, kernelName(wide)), func(t *testing.T) {
				testAdamPacked(t, tc.rows, tc.cols, tc.batch, wide)
			})
		}
	}
	if haveWideKernels {
		// The wide kernels sum and update in the same order: the same
		// weights to the bit.
		for _, tc := range tests {
			narrow := testAdamPacked(t, tc.rows, tc.cols, tc.batch, false)
			wide := testAdamPacked(t, tc.rows, tc.cols, tc.batch, true)
			for i := range narrow {
				if !slices.Equal(narrow[i], wide[i]) {
					t.Errorf("%dx%d, batch %d: the AVX-512 kernels' %s differ from AVX2's", tc.rows, tc.cols, tc.batch, []string{"weights", "first moments", "second moments", "product"}[i])
				}
			}
		}
	}
}

// kernelWidths lists the vector kernels this CPU runs: AVX2 and, where
// there is AVX-512, the wide ones.
func kernelWidths() []bool {
	if haveWideKernels {
		return []bool{false, true}
	}
	return []bool{false}
}

func kernelName(wide bool) string {
	if wide {
		return "AVX-512"
	}
	return "AVX2"
}

// testAdamPacked runs three fused steps on a rows×cols kernel and checks
// them; it returns the packed weights, moments and last product.
func testAdamPacked(t *testing.T, rows, cols, batch int, wide bool) [4][]float32 {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(rows), uint64(cols)))
	n := rows * cols
	fill := func(s []float32, scale float64) {
		for i := range s {
			s[i] = float32(rng.NormFloat64() * scale)
		}
	}
	want := make([]float32, n)
	fill(want, 0.05)
	p := make([]float32, n)
	pack(p, want, rows, cols)
	m, v := make([]float32, n), make([]float32, n)
	wm, wv := make([]float32, n), make([]float32, n)
	x := make([]float32, batch*rows)
	xt := make([]float32, rows*batch)
	dz, dzp := make([]float32, batch*cols), make([]float32, batch*cols)
	const nextRows = 8
	next := make([]float32, nextRows*rows)
	product := make([]float32, nextRows*cols)
	cfg := DefaultConfig()
	cfg.WeightDecay = 0.01
	for step := 1; step <= 3; step++ {
		fill(x, 1)
		fill(dz, 0.01)
		for k := range batch {
			for i := range rows {
				xt[i*batch+k] = x[k*rows+i] // xᵀ, for the gradient xᵀ·dz
			}
		}
		g := product64(xt, dz, rows, batch, cols)
		a := newAdamStep(cfg, step)
		a.decay = float32(cfg.LearningRate * cfg.WeightDecay)
		a.apply(want, g, wm, wv)
		interleave(xt, x, rows, batch)
		// The next batch's product, from the updated weights.
		fill(next, 1)
		pack(dzp, dz, batch, cols)
		a.wide = wide
		a.adamPacked(p, m, v, rows, cols, xt, batch, dzp, next, product)
		if r := mltest.RelL2(product, product64(next, want, nextRows, rows, cols)); !(r <= 1e-5) {
			t.Errorf("step %d: the next batch's product: relative L2 difference %.2g from float64's, want ≤ 1e-5", step, r)
		}
	}
	// The fused step sums the gradient in float32 with fused
	// multiply-adds: it differs from the float64 gradient's step by
	// rounding only.
	got, gm, gv := make([]float32, n), make([]float32, n), make([]float32, n)
	unpack(got, p, rows, cols)
	unpack(gm, m, rows, cols)
	unpack(gv, v, rows, cols)
	for _, c := range []struct {
		name      string
		got, want []float32
		tol       float64
	}{{"weights", got, want, 1e-6}, {"first moments", gm, wm, 1e-5}, {"second moments", gv, wv, 1e-5}} {
		if r := mltest.RelL2(c.got, c.want); !(r <= c.tol) {
			t.Errorf("%s after 3 steps: relative L2 difference %.2g from the separate gradient's, want ≤ %g", c.name, r, c.tol)
		}
	}
	return [4][]float32{p, m, v, product}
}

// TestMatMulPacked checks the hidden layer's product on packed weights
// against a float64 one.
func TestMatMulPacked(t *testing.T) {
	if !haveVectorKernels {
		t.Skip("this CPU has no vector kernels (AVX2 and FMA): the trainer lets ONNX Runtime compute the hidden layer (TestTrainersAgree checks that path)")
	}
	tests := []struct{ n, k, cols int }{{4, 1, 16}, {32, 2048, 64}, {8, 7, 48}}
	for _, tc := range tests {
		var results [][]float32
		for _, wide := range kernelWidths() {
			t.Run(fmt.Sprintf("%dx%d·%dx%d,%s", tc.n, tc.k, tc.k, tc.cols, kernelName(wide)), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.k)))
				x := make([]float32, tc.n*tc.k)
				w := make([]float32, tc.k*tc.cols)
				for _, s := range [][]float32{x, w} {
					for i := range s {
						s[i] = float32(rng.NormFloat64())
					}
				}
				want := product64(x, w, tc.n, tc.k, tc.cols)
				wp := make([]float32, len(w))
				pack(wp, w, tc.k, tc.cols)
				h := make([]float32, tc.n*tc.cols)
				for i := range h {
					h[i] = float32(math.NaN()) // every element must be set
				}
				matMulPacked(h, x, wp, tc.n, tc.k, tc.cols, wide)
				if r := mltest.RelL2(h, want); !(r <= 1e-6) {
					t.Errorf("relative L2 difference %.2g from float64, want ≤ 1e-6", r)
				}
				results = append(results, h)
			})
		}
		if len(results) == 2 && !slices.Equal(results[0], results[1]) {
			t.Errorf("%dx%d·%dx%d: the AVX-512 product differs from AVX2's", tc.n, tc.k, tc.k, tc.cols)
		}
	}
}

// TestPack checks that unpack undoes pack.
func TestPack(t *testing.T) {
	const rows, cols = 5, 48
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(i)
	}
	p, back := make([]float32, len(w)), make([]float32, len(w))
	pack(p, w, rows, cols)
	if p[16*rows] != w[16] || p[16] != w[cols] {
		t.Errorf("packed layout: strip 1 starts with %v, row 1 of strip 0 with %v; want %v and %v", p[16*rows], p[16], w[16], w[cols])
	}
	unpack(back, p, rows, cols)
	for i := range w {
		if back[i] != w[i] {
			t.Fatalf("unpack(pack(w))[%d] = %v, want %v", i, back[i], w[i])
		}
	}
}

// product64 returns x·w for x n×k and w k×cols, row-major, summed in
// float64.
func product64(x, w []float32, n, k, cols int) []float32 {
	h := make([]float32, n*cols)
	for r := range n {
		for j := range cols {
			var s float64
			for i := range k {
				s += float64(x[r*k+i]) * float64(w[i*cols+j])
			}
			h[r*cols+j] = float32(s)
		}
	}
	return h
}
