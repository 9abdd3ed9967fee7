package head

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/grad"
	"github.com/clasifica/clasifica/ml/onnxrt"
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

// Trainer trains a Head with mini-batch Adam. Each batch's forward and
// backward pass is one ONNX Runtime run of a graph built by package grad;
// the Adam update runs in Go (fused into one pass over each array, it is
// several times faster than the same update as ONNX nodes, which read and
// write every array once per operator). On a CPU with AVX2 and FMA the
// hidden layer's product and kernel gradient move into that pass too (see
// outer.go): on 2 cores, an epoch over 7,000 features took 3.5 s before and
// 1.2 s after on a Zen 3, 0.87 s on a Sapphire Rapids with AVX2 and 0.70 s
// there with AVX-512. A Trainer holds the optimiser's
// moments, its random-number generator, the session and scratch memory, so
// one Trainer serves all the epochs of one training run; Close releases
// it. It is not safe for concurrent use.
type Trainer struct {
	h    *Head
	cfg  Config
	rng  *rand.Rand
	step int // Adam's t: the number of updates so far
	sess *onnxrt.MultiSession

	// Per parameter array, in the order kernel, bias of each layer from the
	// input side: the weights (aliasing the head's), their gradients and
	// Adam's first and second moments, all in Keras's layout.
	params, grads, m, v [][]float32

	// With fused, the trainer computes the hidden layer's product and its
	// kernel's gradient itself (see outer.go): during an epoch the kernel
	// lives packed in wp (params[0] gets it back at the end), m[0] and v[0]
	// are packed alike, and grads[0] is not used: the graph returns dz, the
	// gradient of the layer's output.
	fused   bool
	wp      []float32
	dz      []float32 // batch×hidden
	dzp     []float32 // dz, packed (see pack)
	xt      []float32 // inputs×batch: the batch's inputs, interleaved
	xpad    []float32 // batch rounded up to 4 × inputs: a last batch, padded
	product []float32 // batch rounded up to 4 × hidden: x·kernel
	xrun    []float32 // the inputs of the last batch run
	// productReady says that t.product holds the next batch's product,
	// computed by the last update.
	productReady bool

	drop   []float32 // batch×(inputs of the output layer): dropout multipliers
	xb     []float32 // batch×inputs: the batch's features, gathered
	xnext  []float32 // the next batch's, gathered before the update
	target []float32 // batch×classes: the smoothed one-hot targets
	scale  []float32 // batch: each sample's weight over the batch size
	probs  []float32 // batch×classes
	loss   []float32 // 1 value; allocated apart, since cgo refuses pointers into a struct holding pointers
	yb     []int
	wb     []float32
	perm   []int
}

// Names of the training graph's values.
const (
	trainX       = "x"
	trainProduct = "dense_1/product" // x·kernel of the hidden layer, fused
	trainMask    = "dropout_mask"
	trainTarget  = "target"
	trainScale   = "scale"
)

func paramName(i int) string {
	kind := "kernel"
	if i%2 == 1 {
		kind = "bias"
	}
	return fmt.Sprintf("dense_%d/%s", i/2+1, kind)
}

// trainingGraph returns the head's forward and backward pass as an ONNX
// model, with its input and output names in the order Trainer feeds them:
// the features (or, fused, their product with the hidden kernel), the
// dropout mask, the targets, the sample scales and the parameters in; the
// loss, the probabilities and the gradient of each parameter out. Fused,
// the hidden kernel is not in the graph (the trainer computes its product
// and its gradient, see outer.go), and the graph's last output is instead
// the gradient of the hidden layer's output.
func trainingGraph(h *Head, dropout, fused bool) (model []byte, inputs, outputs []string, err error) {
	b := grad.NewBuilder("head_training")
	first := h.layers[0]
	x := b.Input(trainX, -1, int64(h.inputs))
	if fused {
		x = b.Input(trainProduct, -1, int64(first.out))
	}
	inputs = []string{x}
	var params []string
	for i, l := range h.layers {
		if !fused || i > 0 {
			params = append(params, b.Param(paramName(2*i), int64(l.in), int64(l.out)))
		}
		params = append(params, b.Param(paramName(2*i+1), int64(l.out)))
	}
	out := h.layers[len(h.layers)-1]
	var mask string
	if dropout {
		mask = b.Input(trainMask, -1, int64(out.in))
		inputs = append(inputs, mask)
	}
	target := b.Input(trainTarget, -1, int64(h.classes))
	scale := b.Input(trainScale, -1, 1)
	inputs = append(inputs, target, scale)
	inputs = append(inputs, params...)

	a := x
	var hidden []string // the hidden layer's output, fused
	if len(h.layers) == 2 {
		var z string
		if fused {
			z = b.Add(x, params[0])
			hidden = []string{z}
			params = params[1:]
		} else {
			z = b.Dense(x, params[0], params[1])
			params = params[2:]
		}
		a = b.Relu(z)
	}
	if dropout {
		a = b.Dropout(a, mask)
	}
	logits := b.Dense(a, params[0], params[1])
	loss, probs := b.SoftmaxCrossEntropy(logits, target, scale)
	grads := b.Backward(loss, hidden...)
	b.Output(loss)
	b.Output(probs)
	outputs = []string{loss, probs}
	for _, p := range append(b.Params(), hidden...) {
		b.OutputGrad(p, grads[p])
		outputs = append(outputs, grads[p])
	}
	model, err = proto.Marshal(b.Graph().Model("clasifica", "classifier head training step", nil, nil))
	return model, inputs, outputs, err
}

// NewTrainer returns a trainer for h with the training hyperparameters of
// cfg (cfg.Hidden is not used: h's shape is given), running on eng. The
// shuffling and the dropout masks are drawn from cfg.Seed; training is
// reproducible for a given eng.Options.Threads.
func NewTrainer(h *Head, cfg Config, eng onnxrt.Engine) (*Trainer, error) {
	return newTrainer(h, cfg, eng, true)
}

// newTrainer is NewTrainer; fuse false keeps the hidden layer in the graph
// on the CPU too, to compare the two.
func newTrainer(h *Head, cfg Config, eng onnxrt.Engine, fuse bool) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if eng.Runtime == nil {
		return nil, errors.New("head: trainer: no ONNX Runtime")
	}
	sess, fused, err := openTraining(h, cfg, eng, fuse)
	if err != nil {
		return nil, err
	}
	bs := cfg.BatchSize
	t := &Trainer{
		h:      h,
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, streamTrain)),
		sess:   sess,
		xb:     make([]float32, (bs+3)&^3*h.inputs),
		xnext:  make([]float32, (bs+3)&^3*h.inputs),
		target: make([]float32, bs*h.classes),
		scale:  make([]float32, bs),
		probs:  make([]float32, bs*h.classes),
		loss:   make([]float32, 1),
		yb:     make([]int, bs),
		wb:     make([]float32, bs),
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
	if fused {
		l := h.layers[0]
		bs4 := (bs + 3) &^ 3
		t.fused = true
		t.grads[0] = nil
		t.wp = make([]float32, len(l.w))
		t.dz = make([]float32, bs*l.out)
		t.dzp = make([]float32, bs*l.out)
		t.xt = make([]float32, l.in*bs)
		t.xpad = make([]float32, bs4*l.in)
		t.product = make([]float32, bs4*l.out)
	}
	if cfg.Dropout > 0 {
		t.drop = make([]float32, bs*h.layers[len(h.layers)-1].in)
	}
	return t, nil
}

// openTraining opens the session of h's training graph on eng. On the CPU,
// with fuse, a hidden layer and the vector kernels, it is the fused graph
// (see outer.go), and fused says so.
func openTraining(h *Head, cfg Config, eng onnxrt.Engine, fuse bool) (sess *onnxrt.MultiSession, fused bool, err error) {
	open := func(fused bool, eng onnxrt.Engine) (*onnxrt.MultiSession, error) {
		model, inputs, outputs, err := trainingGraph(h, cfg.Dropout > 0, fused)
		if err != nil {
			return nil, fmt.Errorf("head: training graph: %w", err)
		}
		s, err := eng.NewMultiSession(model, inputs, outputs)
		if err != nil {
			return nil, fmt.Errorf("head: %w", err)
		}
		return s, nil
	}
	if !fuse || len(h.layers) != 2 || !fusable(h.layers[0].in, h.layers[0].out) {
		sess, err = open(false, eng)
		return sess, false, err
	}
	// The head trains on the CPU even when the image model runs on a GPU:
	// its steps are a few small products, which a GPU runs slower than
	// the fused CPU path does (an H200 and its 16 cores, one session:
	// 0.157 s an epoch of 1,000 photos on CUDA, 0.59 s on WebGPU, 0.064 s
	// on the CPU; 0.09-0.10 s on 2 cores). What is left for the graph is
	// a few small layers: over threads, each would cost more in waking
	// them than it saves.
	eng.Options.Provider, eng.Options.Threads = onnxrt.CPU, 1
	sess, err = open(true, eng)
	return sess, true, err
}

// Head returns the head being trained.
func (t *Trainer) Head() *Head { return t.h }

// Provider reports the execution provider the training steps run on.
func (t *Trainer) Provider() onnxrt.Provider { return t.sess.Provider() }

// Close releases the trainer's ONNX Runtime session.
func (t *Trainer) Close() error { return t.sess.Close() }

// Epoch runs one pass over the samples: x holds len(y) rows of Inputs()
// features, y their classes and w, when not nil, a non-negative loss weight
// per sample (class weights, see BalancedClassWeights). The samples are
// shuffled and split into batches of Config.BatchSize, the last one
// possibly smaller; each batch is one Adam update.
//
// Epoch checks ctx before each batch and stops a running batch when ctx is
// cancelled, returning ctx.Err(); the head then holds the weights after the
// last completed batch.
func (t *Trainer) Epoch(ctx context.Context, x []float32, y []int, w []float32) (EpochStats, error) {
	h := t.h
	if err := h.checkSamples(x, y, w); err != nil {
		return EpochStats{}, err
	}
	n := len(y)
	t.perm = grad.Order(t.perm, n, t.rng)
	if t.fused {
		l := &h.layers[0]
		pack(t.wp, l.w, l.in, l.out)
		defer unpack(l.w, t.wp, l.in, l.out)
	}

	// Fused, the update after each batch also computes the next batch's
	// product with the hidden kernel, strip by strip while each is in the
	// cache: the next batch's inputs are gathered before it.
	gather := func(dst []float32, b0, b1 int) []float32 {
		for r, s := range t.perm[b0:b1] {
			copy(dst[r*h.inputs:(r+1)*h.inputs], x[s*h.inputs:(s+1)*h.inputs])
		}
		return dst[:(b1-b0)*h.inputs]
	}
	bs := t.cfg.BatchSize
	xb := gather(t.xb, 0, min(bs, n))
	t.productReady = false
	var lossSum float64
	correct := 0
	for b0 := 0; b0 < n; b0 += bs {
		if err := ctx.Err(); err != nil {
			return EpochStats{}, err
		}
		b1 := min(b0+bs, n)
		for r, s := range t.perm[b0:b1] {
			t.yb[r] = y[s]
			t.wb[r] = 1
			if w != nil {
				t.wb[r] = w[s]
			}
		}
		nb := b1 - b0
		l, c, err := t.run(ctx, xb, t.yb[:nb], t.wb[:nb])
		if err != nil {
			return EpochStats{}, err
		}
		var next []float32
		if b1 < n {
			next = gather(t.xnext, b1, min(b1+bs, n))
		}
		t.update(next)
		if next != nil {
			xb, t.xb, t.xnext = next, t.xnext, t.xb
		}
		lossSum += l
		correct += c
	}
	return EpochStats{Loss: lossSum / float64(n), Accuracy: float64(correct) / float64(n)}, nil
}

// Evaluate returns the head's loss and accuracy on labelled samples as
// Head.Evaluate defines them (no dropout, no label smoothing, Σ wᵢ·lossᵢ /
// n), computed by the trainer's own forward pass: the session and, on the
// CPU, the vector kernels, instead of Head.Evaluate's pure-Go products, which
// took twice as long as a training epoch on a validation set of a fifth of
// the photos. It draws no random numbers, so validating between epochs does
// not change the training. The gradients it leaves are not applied.
func (t *Trainer) Evaluate(ctx context.Context, x []float32, y []int, w []float32) (loss, accuracy float64, err error) {
	h := t.h
	if err := h.checkSamples(x, y, w); err != nil {
		return 0, 0, err
	}
	if t.fused {
		pack(t.wp, h.layers[0].w, h.layers[0].in, h.layers[0].out)
	}
	t.productReady = false
	n, bs := len(y), t.cfg.BatchSize
	var sum float64
	correct := 0
	for b0 := 0; b0 < n; b0 += bs {
		b1 := min(b0+bs, n)
		wb := t.wb[:b1-b0]
		for i := range wb {
			wb[i] = 1
			if w != nil {
				wb[i] = w[b0+i]
			}
		}
		l, c, err := t.forward(ctx, x[b0*h.inputs:b1*h.inputs], y[b0:b1], wb, true)
		if err != nil {
			return 0, 0, err
		}
		sum += l
		correct += c
	}
	return sum / float64(n), float64(correct) / float64(n), nil
}

// gradients is run without cancellation, for tests. It leaves every
// gradient in t.grads: with fused, the hidden kernel's is computed from dz.
func (t *Trainer) gradients(x []float32, y []int, w []float32) (lossSum float64, correct int) {
	if t.fused {
		pack(t.wp, t.h.layers[0].w, t.h.layers[0].in, t.h.layers[0].out)
	}
	l, c, err := t.run(context.Background(), x, y, w)
	if err != nil {
		panic(err)
	}
	if t.fused {
		in, out := t.h.layers[0].in, t.h.layers[0].out
		g := make([]float32, in*out)
		for k := range len(y) {
			for i := range in {
				for j := range out {
					g[i*out+j] += x[k*in+i] * t.dz[k*out+j]
				}
			}
		}
		t.grads[0] = g
	}
	return l, c
}

// run computes one batch's forward and backward pass, leaving the gradient
// of the batch's loss Σ wᵢ·lossᵢ / len(y) in t.grads, and returns Σ
// wᵢ·lossᵢ and the number of samples classified correctly.
func (t *Trainer) run(ctx context.Context, x []float32, y []int, w []float32) (lossSum float64, correct int, err error) {
	return t.forward(ctx, x, y, w, false)
}

// forward is run; with eval, for Evaluate, the dropout mask keeps every
// unit unscaled (no random number is drawn) and the targets are not
// smoothed.
func (t *Trainer) forward(ctx context.Context, x []float32, y []int, w []float32, eval bool) (lossSum float64, correct int, err error) {
	h := t.h
	n := len(y)
	classes := h.classes
	out := &h.layers[len(h.layers)-1]
	rows := int64(n)

	in := []onnxrt.Tensor{{Data: x, Shape: []int64{rows, int64(h.inputs)}}}
	if t.fused {
		l := &h.layers[0]
		if !t.productReady {
			x4 := x
			if n%4 != 0 {
				x4 = t.xpad[:((n+3)&^3)*l.in]
				copy(x4, x)
			}
			matMulPacked(t.product[:len(x4)/l.in*l.out], x4, t.wp, len(x4)/l.in, l.in, l.out, haveWideKernels)
		}
		t.productReady = false
		in[0] = onnxrt.Tensor{Data: t.product[:n*l.out], Shape: []int64{rows, int64(l.out)}}
	}
	if t.cfg.Dropout > 0 {
		drop := t.drop[:n*out.in]
		if eval {
			for i := range drop {
				drop[i] = 1
			}
		} else {
			grad.DropoutMask(drop, t.cfg.Dropout, t.rng)
		}
		in = append(in, onnxrt.Tensor{Data: drop, Shape: []int64{rows, int64(out.in)}})
	}
	target := t.target[:n*classes]
	smoothing := t.cfg.LabelSmoothing
	if eval {
		smoothing = 0
	}
	grad.Targets(target, t.scale, y, w, classes, smoothing)
	in = append(in,
		onnxrt.Tensor{Data: target, Shape: []int64{rows, int64(classes)}},
		onnxrt.Tensor{Data: t.scale[:n], Shape: []int64{rows, 1}})
	for i := range h.layers {
		l := &h.layers[i]
		if !t.fused || i > 0 {
			in = append(in, onnxrt.Tensor{Data: l.w, Shape: []int64{int64(l.in), int64(l.out)}})
		}
		in = append(in, onnxrt.Tensor{Data: l.b, Shape: []int64{int64(l.out)}})
	}
	probs := t.probs[:n*classes]
	outs := []onnxrt.Tensor{
		{Data: t.loss, Shape: []int64{1}},
		{Data: probs, Shape: []int64{rows, int64(classes)}},
	}
	for i, g := range t.grads {
		if t.fused && i == 0 {
			continue
		}
		l := &h.layers[i/2]
		shape := []int64{int64(l.out)}
		if i%2 == 0 {
			shape = []int64{int64(l.in), int64(l.out)}
		}
		outs = append(outs, onnxrt.Tensor{Data: g, Shape: shape})
	}
	if t.fused {
		hidden := int64(h.layers[0].out)
		outs = append(outs, onnxrt.Tensor{Data: t.dz[:n*int(hidden)], Shape: []int64{rows, hidden}})
	}
	t.xrun = x
	if err := t.sess.Run(ctx, in, outs); err != nil {
		return 0, 0, err
	}
	return float64(t.loss[0]) * float64(n), grad.Correct(probs, y, classes), nil
}

// padded extends x, rows of inputs floats, to a multiple of 4 rows, within
// its capacity: the rows added are scratch, products of them unused.
func padded(x []float32, inputs int) []float32 {
	n := len(x) / inputs
	return x[:((n+3)&^3)*inputs]
}

// update applies one Adam step with the gradients in t.grads, in Keras's
// formulation: the bias corrections are folded into the step size and ε is
// added to the uncorrected √v (the "ε̂" variant of Kingma and Ba's paper),
// so a given ε means what it means in Keras. With weight decay, kernels
// first shrink by LearningRate·WeightDecay of their value, as in Keras's
// AdamW. Fused, with next (the next batch's inputs), it also leaves their
// product with the updated hidden kernel in t.product for the next run.
func (t *Trainer) update(next []float32) {
	t.step++
	c := t.cfg
	a := newAdamStep(c, t.step)
	for i, p := range t.params {
		a := a
		if i%2 == 0 { // kernels; biases are not decayed
			a.decay = float32(c.LearningRate * c.WeightDecay)
		}
		g, m, v := t.grads[i], t.m[i], t.v[i]
		if t.fused && i == 0 {
			l := t.h.layers[0]
			nb := len(t.xrun) / l.in
			interleave(t.xt, t.xrun, l.in, nb)
			dz := t.dzp[:nb*l.out]
			pack(dz, t.dz[:nb*l.out], nb, l.out)
			var product []float32
			if next != nil {
				product = t.product
				next = padded(next, l.in)
			}
			a.adamPacked(t.wp, m, v, l.in, l.out, t.xt, nb, dz, next, product)
			t.productReady = next != nil
			continue
		}
		parallel(len(p), minParallel, func(lo, hi int) { a.apply(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]) })
	}
}

func newAdamStep(c Config, step int) adamStep {
	alpha := c.LearningRate * math.Sqrt(1-math.Pow(c.Beta2, float64(step))) / (1 - math.Pow(c.Beta1, float64(step)))
	return adamStep{
		oneMinusB1: float32(1 - c.Beta1),
		oneMinusB2: float32(1 - c.Beta2),
		alpha:      float32(alpha),
		eps:        float32(c.Epsilon),
		wide:       haveWideKernels,
	}
}

// Keras's Adam constants (β1, β2, ε), the defaults of every trainer.
const (
	AdamBeta1   = 0.9
	AdamBeta2   = 0.999
	AdamEpsilon = 1e-7
)

// Adam applies the step-th Adam update (counting from 1) with Keras's
// constants, learning rate lr and decoupled weight decay (the weights
// first shrink by lr·weightDecay of their value; 0 for none) to the
// weights p, given their gradients g and moments m and v, all of p's
// length: the update the head's trainer makes, for other trainers (the
// fine-tuned blocks).
func Adam(p, g, m, v []float32, lr, weightDecay float64, step int) {
	c := Config{LearningRate: lr, Beta1: AdamBeta1, Beta2: AdamBeta2, Epsilon: AdamEpsilon}
	a := newAdamStep(c, step)
	a.decay = float32(lr * weightDecay)
	a.apply(p, g, m, v)
}

// adamStep is one Adam update's constants, in float32 as Keras computes
// them for float32 variables, and whether adamPacked uses the wide kernels.
type adamStep struct {
	oneMinusB1, oneMinusB2, alpha, eps, decay float32
	wide                                      bool
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
