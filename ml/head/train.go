package head

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// EpochStats summarises one pass over the training samples.
type EpochStats struct {
	// Loss is the training objective averaged over the epoch as Keras
	// reports it: Σ wᵢ·lossᵢ / n, with label smoothing and sample weights,
	// each sample's loss measured with its batch's dropout mask before that
	// batch's update.
	Loss float64
	// Accuracy is the unweighted fraction of samples whose most probable
	// class was the label, measured the same way as Loss.
	Accuracy float64
}

// Trainer trains a Head with mini-batch Adam. It holds the optimiser's
// moments, its random-number generator and scratch memory, so one Trainer
// serves all the epochs of one training run. It is not safe for concurrent
// use.
type Trainer struct {
	h    *Head
	cfg  Config
	rng  *rand.Rand
	step int // Adam's t: the number of updates so far

	// Per parameter array, in the order kernel, bias of each layer from the
	// input side: the weights (aliasing the head's), their gradients and
	// Adam's first and second moments. With a hidden layer, grads[0] is the
	// hidden kernel's gradient transposed: [hidden][inputs].
	params, grads, m, v [][]float32

	act  *activations
	drop []float32 // batch×(inputs of the output layer): dropout multipliers
	xb   []float32 // batch×inputs: the batch's features, gathered
	yb   []int
	wb   []float32
	dz   []float32 // batch×classes: loss gradient with respect to the logits
	dh   []float32 // batch×hidden: loss gradient with respect to the hidden pre-activations
	outT []float32 // classes×hidden: the output kernel transposed
	perm []int
}

// NewTrainer returns a trainer for h with the training hyperparameters of
// cfg (cfg.Hidden is not used: h's shape is given). The shuffling and the
// dropout masks are drawn from cfg.Seed.
func NewTrainer(h *Head, cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bs := cfg.BatchSize
	t := &Trainer{
		h:   h,
		cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, streamTrain)),
		act: &activations{z: make([]float32, bs*h.classes)},
		xb:  make([]float32, bs*h.inputs),
		yb:  make([]int, bs),
		wb:  make([]float32, bs),
		dz:  make([]float32, bs*h.classes),
	}
	for i := range h.layers {
		l := &h.layers[i]
		for _, p := range [][]float32{l.w, l.b} {
			t.params = append(t.params, p)
			t.grads = append(t.grads, make([]float32, len(p)))
			t.m = append(t.m, make([]float32, len(p)))
			t.v = append(t.v, make([]float32, len(p)))
		}
	}
	out := &h.layers[len(h.layers)-1]
	if len(h.layers) == 2 {
		hidden := h.layers[0].out
		t.act.hid = make([]float32, bs*hidden)
		t.dh = make([]float32, bs*hidden)
		t.outT = make([]float32, len(out.w))
	}
	if cfg.Dropout > 0 {
		t.drop = make([]float32, bs*out.in)
		if len(h.layers) == 1 {
			t.act.in = make([]float32, bs*h.inputs)
		}
	}
	return t, nil
}

// Head returns the head being trained.
func (t *Trainer) Head() *Head { return t.h }

// Epoch runs one pass over the samples: x holds len(y) rows of Inputs()
// features, y their classes and w, when not nil, a non-negative loss weight
// per sample (class weights, see BalancedClassWeights). The samples are
// shuffled and split into batches of Config.BatchSize, the last one
// possibly smaller; each batch is one Adam update.
//
// Epoch checks ctx before each batch and returns ctx.Err() as soon as it is
// done; the head then holds the weights after the last completed batch.
func (t *Trainer) Epoch(ctx context.Context, x []float32, y []int, w []float32) (EpochStats, error) {
	h := t.h
	if err := h.checkSamples(x, y, w); err != nil {
		return EpochStats{}, err
	}
	n := len(y)
	if cap(t.perm) < n {
		t.perm = make([]int, n)
	}
	t.perm = t.perm[:n]
	// Shuffle from the identity so that each epoch's order depends only on
	// the generator's state, not on the previous epoch's order.
	for i := range t.perm {
		t.perm[i] = i
	}
	t.rng.Shuffle(n, func(i, j int) { t.perm[i], t.perm[j] = t.perm[j], t.perm[i] })

	var lossSum float64
	correct := 0
	for b0 := 0; b0 < n; b0 += t.cfg.BatchSize {
		if err := ctx.Err(); err != nil {
			return EpochStats{}, err
		}
		b1 := min(b0+t.cfg.BatchSize, n)
		nb := b1 - b0
		for r, s := range t.perm[b0:b1] {
			copy(t.xb[r*h.inputs:(r+1)*h.inputs], x[s*h.inputs:(s+1)*h.inputs])
			t.yb[r] = y[s]
			t.wb[r] = 1
			if w != nil {
				t.wb[r] = w[s]
			}
		}
		l, c := t.gradients(t.xb[:nb*h.inputs], t.yb[:nb], t.wb[:nb])
		t.update()
		lossSum += l
		correct += c
	}
	return EpochStats{Loss: lossSum / float64(n), Accuracy: float64(correct) / float64(n)}, nil
}

// gradients runs the forward and backward passes of one batch, leaving the
// gradient of the batch's loss Σ wᵢ·lossᵢ / len(y) in t.grads, and returns
// Σ wᵢ·lossᵢ and the number of samples classified correctly.
func (t *Trainer) gradients(x []float32, y []int, w []float32) (lossSum float64, correct int) {
	h := t.h
	n := len(y)
	classes := h.classes
	out := &h.layers[len(h.layers)-1]

	var drop []float32
	if t.cfg.Dropout > 0 {
		drop = t.drop[:n*out.in]
		keep := float32(1 / (1 - t.cfg.Dropout))
		for i := range drop {
			drop[i] = 0
			if t.rng.Float64() >= t.cfg.Dropout {
				drop[i] = keep
			}
		}
	}
	h.forward(x, n, t.act, drop)

	// Softmax and cross-entropy give the logit gradient p - target, scaled
	// by the sample's weight and by 1/n for the batch mean.
	s := t.cfg.LabelSmoothing
	dz := t.dz[:n*classes]
	for r := range n {
		zr := t.act.z[r*classes : (r+1)*classes]
		l, ok := softmax(zr, y[r], s)
		lossSum += float64(w[r]) * l
		if ok {
			correct++
		}
		scale := w[r] / float32(n)
		off := float32(s / float64(classes))
		on := float32(1-s) + off
		for c, p := range zr {
			target := off
			if c == y[r] {
				target = on
			}
			dz[r*classes+c] = (p - target) * scale
		}
	}

	// The output layer's input: the features, the dropped features or the
	// dropped hidden activations.
	in := x
	switch {
	case len(h.layers) == 2:
		in = t.act.hid[:n*out.in]
	case drop != nil:
		in = t.act.in[:n*out.in]
	}
	gw, gb := t.grads[len(t.grads)-2], t.grads[len(t.grads)-1]
	blas32 := gonum.Implementation{}
	blas32.Sgemm(blas.Trans, blas.NoTrans, out.in, classes, n, 1, in, out.in, dz, classes, 0, gw, classes)
	colSums(dz, n, classes, gb)
	if len(h.layers) == 1 {
		return lossSum, correct
	}

	// Back through the output kernel: dh = dz·Wᵀ. gonum computes A·Bᵀ with
	// dot products whose summation order depends on the operands' memory
	// alignment, so transpose W (classes×hidden values, small) and multiply
	// without transposition, which only scales and adds rows.
	hidden := out.in
	for i := range hidden {
		for c := range classes {
			t.outT[c*hidden+i] = out.w[i*classes+c]
		}
	}
	dh := t.dh[:n*hidden]
	blas32.Sgemm(blas.NoTrans, blas.NoTrans, n, hidden, classes, 1, dz, classes, t.outT, hidden, 0, dh, hidden)
	// Through dropout and ReLU: a hidden value is positive exactly when its
	// unit was active and kept, and then its derivative is the dropout
	// multiplier.
	hid := t.act.hid[:n*hidden]
	for i, a := range hid {
		switch {
		case a <= 0:
			dh[i] = 0
		case drop != nil:
			dh[i] *= drop[i]
		}
	}
	// The hidden kernel's gradient, xᵀ·dh, is computed transposed, as
	// dhᵀ·x: gonum skips the zeros of the left operand, and with ReLU and
	// dropout most of dh is zero, which makes this product about twice as
	// fast as the other way round. update reads it transposed.
	first := &h.layers[0]
	blas32.Sgemm(blas.Trans, blas.NoTrans, hidden, first.in, n, 1, dh, hidden, x, first.in, 0, t.grads[0], first.in)
	colSums(dh, n, hidden, t.grads[1])
	return lossSum, correct
}

// colSums sets sums to the column sums of the rows×cols matrix a, adding the
// rows in order so that the result does not depend on scheduling.
func colSums(a []float32, rows, cols int, sums []float32) {
	clear(sums)
	for r := range rows {
		row := a[r*cols : (r+1)*cols]
		for c, v := range row {
			sums[c] += v
		}
	}
}

// update applies one Adam step with the gradients in t.grads, in Keras's
// formulation: the bias corrections are folded into the step size and ε is
// added to the uncorrected √v (the "ε̂" variant of Kingma and Ba's paper),
// so a given ε means what it means in Keras. With weight decay, kernels
// first shrink by LearningRate·WeightDecay of their value, as in Keras's
// AdamW.
func (t *Trainer) update() {
	t.step++
	c := t.cfg
	alpha := c.LearningRate * math.Sqrt(1-math.Pow(c.Beta2, float64(t.step))) / (1 - math.Pow(c.Beta1, float64(t.step)))
	a := adamStep{
		oneMinusB1: float32(1 - c.Beta1),
		oneMinusB2: float32(1 - c.Beta2),
		alpha:      float32(alpha),
		eps:        float32(c.Epsilon),
	}
	for i, p := range t.params {
		a := a
		if i%2 == 0 { // kernels; biases are not decayed
			a.decay = float32(c.LearningRate * c.WeightDecay)
		}
		g, m, v := t.grads[i], t.m[i], t.v[i]
		if i == 0 && len(t.h.layers) == 2 {
			rows, cols := t.h.inputs, t.h.layers[0].out
			parallel(rows, max(1, minParallel/cols), func(lo, hi int) { a.applyT(p, g, m, v, rows, cols, lo, hi) })
			continue
		}
		parallel(len(p), minParallel, func(lo, hi int) { a.apply(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]) })
	}
}

// adamStep is one Adam update's constants, in float32 as Keras computes
// them for float32 variables.
type adamStep struct {
	oneMinusB1, oneMinusB2, alpha, eps, decay float32
}

// apply updates the weights p with the gradients g and the moments m, v,
// all of the same length. The constants are copied to locals so that the
// compiler keeps them in registers.
func (a adamStep) apply(p, g, m, v []float32) {
	b1, b2, alpha, eps, decay := a.oneMinusB1, a.oneMinusB2, a.alpha, a.eps, a.decay
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i, gi := range g {
		mi := m[i] + (gi-m[i])*b1
		vi := v[i] + (gi*gi-v[i])*b2
		m[i], v[i] = mi, vi
		pi := p[i]
		p[i] = pi - pi*decay - mi*alpha/(float32(math.Sqrt(float64(vi)))+eps)
	}
}

// applyT updates rows [lo, hi) of the rows×cols weights p and moments m, v
// with the gradient gT, stored transposed (cols×rows). It goes through the
// matrix in square tiles, transposing each tile of gT into a buffer that
// stays in the L1 cache, so that every array is read in order.
func (a adamStep) applyT(p, gT, m, v []float32, rows, cols, lo, hi int) {
	const tile = 64
	var buf [tile * tile]float32
	for i0 := lo; i0 < hi; i0 += tile {
		ni := min(tile, hi-i0)
		for j0 := 0; j0 < cols; j0 += tile {
			nj := min(tile, cols-j0)
			for j := range nj {
				src := gT[(j0+j)*rows+i0 : (j0+j)*rows+i0+ni]
				for i, g := range src {
					buf[i*tile+j] = g
				}
			}
			for i := range ni {
				k := (i0+i)*cols + j0
				a.apply(p[k:k+nj], buf[i*tile:i*tile+nj], m[k:k+nj], v[k:k+nj])
			}
		}
	}
}

// minParallel is the fewest weights worth splitting across goroutines.
const minParallel = 1 << 15

// parallel calls fn on consecutive ranges covering [0, n), concurrently
// when there are at least 2·grain items. Only element-wise work may go
// through it: the ranges depend on GOMAXPROCS, so a reduction split this way
// would not be reproducible.
func parallel(n, grain int, fn func(lo, hi int)) {
	procs := min(runtime.GOMAXPROCS(0), n/grain)
	if procs <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + procs - 1) / procs
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}
