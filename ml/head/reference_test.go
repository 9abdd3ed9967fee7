// Code kept from the gonum trainer, as a reference for the ONNX Runtime one.

package head

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/clasifica/clasifica/ml/grad"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gonumTrainer is the pure-Go trainer Clasifica used before training moved
// to ONNX Runtime, kept as a reference: it trains a Head with mini-batch Adam. It holds the optimiser's
// moments, its random-number generator and scratch memory, so one Trainer
// serves all the epochs of one training run. It is not safe for concurrent
// use.
type gonumTrainer struct {
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
func newGonumTrainer(h *Head, cfg Config) (*gonumTrainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bs := cfg.BatchSize
	t := &gonumTrainer{
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
func (t *gonumTrainer) Head() *Head { return t.h }

// Epoch runs one pass over the samples: x holds len(y) rows of Inputs()
// features, y their classes and w, when not nil, a non-negative loss weight
// per sample (class weights, see BalancedClassWeights). The samples are
// shuffled and split into batches of Config.BatchSize, the last one
// possibly smaller; each batch is one Adam update.
//
// Epoch checks ctx before each batch and returns ctx.Err() as soon as it is
// done; the head then holds the weights after the last completed batch.
func (t *gonumTrainer) Epoch(ctx context.Context, x []float32, y []int, w []float32) (EpochStats, error) {
	h := t.h
	if err := h.checkSamples(x, y, w); err != nil {
		return EpochStats{}, err
	}
	n := len(y)
	t.perm = grad.Order(t.perm, n, t.rng)

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
func (t *gonumTrainer) gradients(x []float32, y []int, w []float32) (lossSum float64, correct int) {
	h := t.h
	n := len(y)
	classes := h.classes
	out := &h.layers[len(h.layers)-1]

	var drop []float32
	if t.cfg.Dropout > 0 {
		drop = t.drop[:n*out.in]
		grad.DropoutMask(drop, t.cfg.Dropout, t.rng)
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
func (t *gonumTrainer) update() {
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

// TestMatchesGonumReference trains the same head with the ONNX Runtime
// trainer and the gonum reference for a few batches, with dropout, label
// smoothing, class weights and weight decay: the same masks and the same
// updates must give the same weights up to float32 rounding.
func TestMatchesGonumReference(t *testing.T) {
	const inputs, classes, n = 300, 4, 96 // 3 batches of 32
	x, y := blobs(5, n, inputs, classes, 0.5)
	w, _ := SampleWeights(y, []float32{1, 2, 0.5, 1})
	for _, hidden := range []int{0, 64} {
		cfg := DefaultConfig()
		cfg.Hidden, cfg.LabelSmoothing, cfg.WeightDecay, cfg.Seed = hidden, 0.1, 0.01, 9
		h1, _ := New(inputs, classes, cfg)
		h2 := h1.Clone()
		before := h1.Clone()
		ort, err := NewTrainer(h1, cfg, testEngine(t))
		if err != nil {
			t.Fatal(err)
		}
		defer ort.Close()
		ref, _ := newGonumTrainer(h2, cfg)
		s1, err := ort.Epoch(t.Context(), x, y, w)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := ref.Epoch(t.Context(), x, y, w)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(s1.Loss-s2.Loss) > 1e-5*s2.Loss || s1.Accuracy != s2.Accuracy {
			t.Errorf("hidden %d: epoch stats %+v, reference %+v", hidden, s1, s2)
		}
		for i, l1 := range h1.Layers() {
			l2, l0 := h2.Layers()[i], before.Layers()[i]
			for _, p := range []struct {
				name         string
				got, ref, at []float32
			}{{"kernel", l1.Kernel, l2.Kernel, l0.Kernel}, {"bias", l1.Bias, l2.Bias, l0.Bias}} {
				// Compare the updates, which are small beside the weights.
				var diff, norm float64
				for k := range p.got {
					d1 := float64(p.got[k]) - float64(p.at[k])
					d2 := float64(p.ref[k]) - float64(p.at[k])
					diff += (d1 - d2) * (d1 - d2)
					norm += d2 * d2
				}
				rel := math.Sqrt(diff / norm)
				t.Logf("hidden %d: layer %d %s: update relative L2 difference %.2e", hidden, i+1, p.name, rel)
				if rel > 1e-3 {
					t.Errorf("hidden %d: layer %d %s: update differs from the gonum reference by %.2e (relative L2)", hidden, i+1, p.name, rel)
				}
			}
		}
	}
}

// BenchmarkGonumEpoch1000 times the gonum reference trainer on
// BenchmarkEpoch1000's data, for comparison.
func BenchmarkGonumEpoch1000(b *testing.B) {
	const n, inputs, classes = 1000, 2048, 10
	x, y := benchData(n, inputs, classes)
	cfg := DefaultConfig()
	h, _ := New(inputs, classes, cfg)
	tr, _ := newGonumTrainer(h, cfg)
	for b.Loop() {
		if _, err := tr.Epoch(b.Context(), x, y, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/epoch")
}
