package doctor

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// FoldOptions tune OutOfFold; the zero value is usable.
type FoldOptions struct {
	// Folds is the number of folds; 0 means 5. Each class's photos are
	// spread evenly over the folds.
	Folds int
	// Seed seeds the fold assignment.
	Seed uint64
	// L2 is the weight decay of the logistic regression: the mean
	// cross-entropy plus L2/2·‖W‖² is minimised. 0 means DefaultL2.
	L2 float64
	// Iterations bounds the optimiser's iterations per fold; 0 means 100.
	Iterations int
	// Dims is the number of random projections of the standardised
	// features the regression reads; 0 means DefaultDims, a negative
	// value the features themselves.
	Dims int
	// Progress, if not nil, gets the folds trained so far.
	Progress func(done, total int)
}

// DefaultL2 is the regression's default weight decay. On standardised
// features of a few hundred photos the regression separates the training
// folds completely; with little decay its weights grow until held-out
// probabilities are near 0 or 1, and confident learning needs graded ones.
// Of 1e-3 to 10, 1 put the most planted wrong labels first on the sample
// photos with the offline test model (10% of the labels wrong; share of
// wrong labels among the first suspects, as many as were planted: pets as
// cats and dogs 33%, flowers 40%, pets and flowers 100%; with 0.1: 27%,
// 33%, 93%), and it gave the lowest held-out cross-entropy. The loss is
// class-balanced, so that decay this strong does not hand small classes'
// photos to the large ones.
const DefaultL2 = 1

// OutOfFold returns out-of-sample class probabilities for the n rows of x
// (dim values each) labelled by labels (in [0, classes)): each row's
// probabilities come from a multinomial logistic regression on
// standardised features trained on the other folds, so that a photo never
// votes on its own label. The result holds n rows of classes values.
// Confident learning reads them to find wrong labels; a "not sure"
// threshold chosen on them is chosen on photos the model did not see.
// It returns ctx.Err() when ctx is cancelled.
func OutOfFold(ctx context.Context, x []float32, dim int, labels []int, classes int, opt FoldOptions) ([][]float64, error) {
	n := len(labels)
	if dim <= 0 || len(x) != n*dim {
		return nil, fmt.Errorf("doctor: out-of-fold: %d values for %d rows of %d", len(x), n, dim)
	}
	if classes < 2 {
		return nil, fmt.Errorf("doctor: out-of-fold: %d classes, want 2 or more", classes)
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return nil, fmt.Errorf("doctor: out-of-fold: row %d has label %d of %d classes", i, l, classes)
		}
	}
	k := opt.Folds
	if k <= 0 {
		k = 5
	}
	if k < 2 || k > n {
		return nil, fmt.Errorf("doctor: out-of-fold: %d folds for %d rows", k, n)
	}
	l2 := opt.L2
	if l2 <= 0 {
		l2 = DefaultL2
	}
	iters := opt.Iterations
	if iters <= 0 {
		iters = 100
	}

	// Rows are reordered fold by fold, so that each fold's training rows
	// are two contiguous blocks of one standardised copy: no copy per fold.
	fold := assignFolds(labels, classes, k, opt.Seed)
	order := make([]int, 0, n)
	start := make([]int, k+1)
	for f := range k {
		start[f] = len(order)
		for i := range n {
			if fold[i] == f {
				order = append(order, i)
			}
		}
	}
	start[k] = n
	xs := standardise(x, dim, order)
	if k := opt.Dims; k >= 0 {
		if k == 0 {
			k = DefaultDims
		}
		if k < dim {
			xs = project(xs, dim, k, opt.Seed)
			dim = k
		}
	}
	ys := make([]int, n)
	for r, i := range order {
		ys[r] = labels[i]
	}

	out := make([][]float64, n)
	var w []float64 // warm start: the folds' solutions are alike
	for f := range k {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lo, hi := start[f], start[f+1]
		blocks := []block{{xs[:lo*dim], ys[:lo]}, {xs[hi*dim:], ys[hi:]}}
		lr := &logistic{dim: dim, classes: classes, l2: l2, blocks: blocks}
		lr.balance()
		var err error
		w, err = lr.fit(ctx, w, iters)
		if err != nil {
			return nil, err
		}
		p := lr.predict(w, xs[lo*dim:hi*dim], hi-lo)
		for r := lo; r < hi; r++ {
			out[order[r]] = p[(r-lo)*classes : (r-lo+1)*classes]
		}
		if opt.Progress != nil {
			opt.Progress(f+1, k)
		}
	}
	return out, nil
}

// DefaultDims is the number of random projections the regression reads by
// default. Its cost grows with photos × features × classes: on the 2,048
// pooled features of 10,000 photos in 37 classes, each of the hundreds of
// gradient evaluations multiplies 8,000 × 2,048 by 2,048 × 37 twice, and
// the check took many minutes on 2 cores. Random projections to 256
// keep distances nearly (Johnson–Lindenstrauss) and cut that eightfold; on
// the sample folders the suspects found were as good (see doctor_test.go).
const DefaultDims = 256

// project returns the n rows of x (dim values each) times a dim×k matrix of
// independent normal values scaled by 1/√k, drawn from seed.
func project(x []float32, dim, k int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x70726f6a))
	r := make([]float32, dim*k)
	scale := 1 / math.Sqrt(float64(k))
	for i := range r {
		r[i] = float32(rng.NormFloat64() * scale)
	}
	n := len(x) / dim
	out := make([]float32, n*k)
	if n > 0 {
		gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, n, k, dim, 1, x, dim, r, k, 0, out, k)
	}
	return out
}

// assignFolds spreads each class's rows evenly over k folds, in a random
// order drawn from seed, each class starting where the last one ended so
// that the folds' sizes differ by one at most.
func assignFolds(labels []int, classes, k int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x646f63746f72))
	byClass := make([][]int, classes)
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	fold := make([]int, len(labels))
	next := 0
	for _, rows := range byClass {
		rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		for _, i := range rows {
			fold[i] = next
			next = (next + 1) % k
		}
	}
	return fold
}

// standardise returns the rows of x in order, each feature mapped to zero
// mean and unit deviation over all rows (no labels are used, so no fold
// learns from another's labels), the deviations floored at their mean as
// ml/train does: rare features would otherwise be blown up.
func standardise(x []float32, dim int, order []int) []float32 {
	n := len(order)
	mean := make([]float64, dim)
	for i := range n {
		for j, v := range x[i*dim : (i+1)*dim] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	sd := make([]float64, dim)
	for i := range n {
		for j, v := range x[i*dim : (i+1)*dim] {
			d := float64(v) - mean[j]
			sd[j] += d * d
		}
	}
	avg := 0.0
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(n))
		avg += sd[j] / float64(dim)
	}
	scale := make([]float64, dim)
	for j := range sd {
		if d := math.Max(sd[j], avg); d > 1e-12 {
			scale[j] = 1 / d
		}
	}
	xs := make([]float32, n*dim)
	for r, i := range order {
		src, dst := x[i*dim:(i+1)*dim], xs[r*dim:(r+1)*dim]
		for j, v := range src {
			dst[j] = float32((float64(v) - mean[j]) * scale[j])
		}
	}
	return xs
}

// block is a contiguous run of training rows and their labels.
type block struct {
	x []float32
	y []int
}

// logistic is a multinomial logistic regression: weights W (dim×classes,
// row-major) then biases (classes), minimising the class-balanced mean
// cross-entropy plus l2/2·‖W‖².
type logistic struct {
	dim, classes int
	l2           float64
	blocks       []block
	// weight is each class's weight in the loss: balanced, so that a
	// class of 8 photos beside classes of 40 is not drowned by the
	// biases when the weights are kept small.
	weight []float64
}

// balance sets lr.weight so that every class present weighs as much in
// the loss, the mean weight over rows being 1.
func (lr *logistic) balance() {
	count := make([]float64, lr.classes)
	total := 0.0
	for _, b := range lr.blocks {
		for _, y := range b.y {
			count[y]++
			total++
		}
	}
	present := 0.0
	for _, c := range count {
		if c > 0 {
			present++
		}
	}
	lr.weight = make([]float64, lr.classes)
	for c, k := range count {
		if k > 0 {
			lr.weight[c] = total / (present * k)
		}
	}
}

func (lr *logistic) size() int { return (lr.dim + 1) * lr.classes }

// loss returns the objective at w and sets grad to its gradient. The
// products run in float32 (gonum's Sgemm splits them over the cores); the
// sums that matter for the line search are float64.
func (lr *logistic) loss(w, grad []float64) float64 {
	d, c := lr.dim, lr.classes
	w32 := make([]float32, d*c)
	for i := range w32 {
		w32[i] = float32(w[i])
	}
	bias := w[d*c:]
	g32 := make([]float32, d*c)
	gb := make([]float64, c)
	total := 0
	for _, b := range lr.blocks {
		total += len(b.y)
	}
	var sum float64
	impl := gonum.Implementation{}
	for _, b := range lr.blocks {
		n := len(b.y)
		if n == 0 {
			continue
		}
		z := make([]float32, n*c)
		impl.Sgemm(blas.NoTrans, blas.NoTrans, n, c, d, 1, b.x, d, w32, c, 0, z, c)
		for i := range n {
			row := z[i*c : (i+1)*c]
			p := softmaxRow(row, bias)
			wi := lr.weight[b.y[i]]
			sum -= wi * math.Log(math.Max(p[b.y[i]], 1e-300))
			for j := range c {
				delta := p[j]
				if j == b.y[i] {
					delta--
				}
				delta *= wi / float64(total)
				row[j] = float32(delta)
				gb[j] += delta
			}
		}
		impl.Sgemm(blas.Trans, blas.NoTrans, d, c, n, 1, b.x, d, z, c, 1, g32, c)
	}
	f := sum / float64(total)
	for i := range d * c {
		f += lr.l2 / 2 * w[i] * w[i]
		grad[i] = float64(g32[i]) + lr.l2*w[i]
	}
	copy(grad[d*c:], gb)
	return f
}

// softmaxRow returns the softmax of z + bias.
func softmaxRow(z []float32, bias []float64) []float64 {
	p := make([]float64, len(z))
	m := math.Inf(-1)
	for j, v := range z {
		p[j] = float64(v) + bias[j]
		m = math.Max(m, p[j])
	}
	s := 0.0
	for j := range p {
		p[j] = math.Exp(p[j] - m)
		s += p[j]
	}
	for j := range p {
		p[j] /= s
	}
	return p
}

// predict returns the probabilities of n rows of x, n×classes.
func (lr *logistic) predict(w []float64, x []float32, n int) []float64 {
	d, c := lr.dim, lr.classes
	w32 := make([]float32, d*c)
	for i := range w32 {
		w32[i] = float32(w[i])
	}
	z := make([]float32, n*c)
	if n > 0 {
		gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, n, c, d, 1, x, d, w32, c, 0, z, c)
	}
	out := make([]float64, 0, n*c)
	for i := range n {
		out = append(out, softmaxRow(z[i*c:(i+1)*c], w[d*c:])...)
	}
	return out
}

// fit minimises the objective from w0 (nil: zeros) by L-BFGS with a
// backtracking line search, for at most iters iterations or until the
// gradient is small. The objective is smooth and strongly convex, so a
// plain Armijo backtracking keeps the curvature pairs sound enough; pairs
// that are not (yᵀs ≤ 0) are skipped.
func (lr *logistic) fit(ctx context.Context, w0 []float64, iters int) ([]float64, error) {
	const memory = 10
	n := lr.size()
	w := make([]float64, n)
	if w0 != nil {
		copy(w, w0)
	}
	g := make([]float64, n)
	f := lr.loss(w, g)
	var ss, ys [][]float64
	var rhos []float64
	dir := make([]float64, n)
	wNew := make([]float64, n)
	gNew := make([]float64, n)
	alpha := make([]float64, memory)
	for it := 0; it < iters; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if norm(g) < 1e-5 {
			break
		}
		// Two-loop recursion: dir = -H·g.
		copy(dir, g)
		for k := len(ss) - 1; k >= 0; k-- {
			alpha[k] = rhos[k] * dot(ss[k], dir)
			axpy(-alpha[k], ys[k], dir)
		}
		if k := len(ss) - 1; k >= 0 {
			gamma := dot(ss[k], ys[k]) / dot(ys[k], ys[k])
			for i := range dir {
				dir[i] *= gamma
			}
		} else {
			// First step: a unit step along -g scaled to a small change.
			s := 1 / math.Max(1, norm(g))
			for i := range dir {
				dir[i] *= s
			}
		}
		for k := range ss {
			b := rhos[k] * dot(ys[k], dir)
			axpy(alpha[k]-b, ss[k], dir)
		}
		for i := range dir {
			dir[i] = -dir[i]
		}
		slope := dot(g, dir)
		if slope >= 0 { // not a descent direction: restart from -g
			ss, ys, rhos = nil, nil, nil
			for i := range dir {
				dir[i] = -g[i]
			}
			slope = dot(g, dir)
		}
		step, fNew := 1.0, 0.0
		for tries := 0; ; tries++ {
			for i := range w {
				wNew[i] = w[i] + step*dir[i]
			}
			fNew = lr.loss(wNew, gNew)
			if fNew <= f+1e-4*step*slope || tries == 30 {
				break
			}
			step /= 2
		}
		if fNew > f {
			break // no progress possible at this precision
		}
		s := make([]float64, n)
		y := make([]float64, n)
		for i := range s {
			s[i] = wNew[i] - w[i]
			y[i] = gNew[i] - g[i]
		}
		if sy := dot(s, y); sy > 1e-12 {
			if len(ss) == memory {
				ss, ys, rhos = ss[1:], ys[1:], rhos[1:]
			}
			ss, ys, rhos = append(ss, s), append(ys, y), append(rhos, 1/sy)
		}
		improved := f - fNew
		w, wNew = wNew, w
		g, gNew = gNew, g
		f = fNew
		if improved < 1e-9*math.Max(1, math.Abs(f)) {
			break
		}
	}
	return w, nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i := range x {
		y[i] += a * x[i]
	}
}

func norm(a []float64) float64 { return math.Sqrt(dot(a, a)) }
