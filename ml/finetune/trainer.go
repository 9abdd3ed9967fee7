package finetune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/grad"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnx"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// ErrDiverged is returned by Trainer.Epoch when a batch's loss is no
// longer a finite number: the steps grew the weights without bound (the
// learning rate is too high for these photos). The weights are then those
// of the step before; Snapshot and Restore bring back a good epoch.
var ErrDiverged = errors.New("finetune: training diverged (the loss is no longer a finite number)")

func marshal(m *onnx.ModelProto) ([]byte, error) { return proto.Marshal(m) }

// Optimizers.
const (
	SGD  = "sgd"
	Adam = "adam"
)

// Config is the fine-tuning stage's hyperparameters.
type Config struct {
	// Blocks is the number of top inception blocks that train: 1 (mixed10)
	// or 2 (mixed9 and mixed10).
	Blocks int
	// Optimizer is SGD (with Momentum, the Keras recipe's SGD(1e-4, 0.9))
	// or Adam (the Keras guide's Adam(1e-5), with Keras's β and ε).
	Optimizer    string
	LearningRate float64
	Momentum     float64
	// BatchSize, Dropout, LabelSmoothing, WeightDecay and Seed mean what
	// they mean for the head (head.Config). Weight decay is decoupled and
	// applies to kernels only.
	BatchSize      int
	Dropout        float64
	LabelSmoothing float64
	WeightDecay    float64
	Seed           uint64
	// Steps says where SGD's update runs: StepsAuto (also ""),
	// StepsDevice or StepsHost. Both give the same weights to the bit; it
	// changes only what crosses between Go and the provider each step.
	Steps string
	// Graph says which training graph the steps run: GraphAuto (also
	// ""), GraphFixed (the GPU providers' graph, of a fixed batch) or
	// GraphDynamic (the CPU's).
	Graph string
	// GraphCapture makes the provider (CUDA: a CUDA graph; WebGPU: its
	// command buffers) capture a step and replay it
	// (onnxrt.Options.GraphCapture), where the weights stay on the device
	// and the graph is the fixed one; the batch then goes into device
	// values at fixed addresses before each step. Off by default, until
	// measured.
	GraphCapture bool
}

// DefaultConfig returns the Keras recipe: both blocks, SGD with learning
// rate 1e-4 and momentum 0.9, batches of 32, the head's dropout of 0.5.
func DefaultConfig() Config {
	return Config{Blocks: 2, Optimizer: SGD, LearningRate: 1e-4, Momentum: 0.9, BatchSize: 32, Dropout: 0.5}
}

// Validate reports the first field of c that is out of range.
func (c Config) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.Blocks < 1 || c.Blocks > MaxBlocks:
		return fmt.Errorf("finetune: config: Blocks is %d, want 1 or 2", c.Blocks)
	case c.Optimizer != SGD && c.Optimizer != Adam:
		return fmt.Errorf("finetune: config: Optimizer is %q, want %q or %q", c.Optimizer, SGD, Adam)
	case !finite(c.LearningRate) || c.LearningRate <= 0:
		return fmt.Errorf("finetune: config: LearningRate is %v, want a positive value", c.LearningRate)
	case !finite(c.Momentum) || c.Momentum < 0 || c.Momentum >= 1:
		return fmt.Errorf("finetune: config: Momentum is %v, want a value in [0, 1)", c.Momentum)
	case c.BatchSize <= 0:
		return fmt.Errorf("finetune: config: BatchSize is %d, want a positive value", c.BatchSize)
	case !finite(c.Dropout) || c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("finetune: config: Dropout is %v, want a value in [0, 1)", c.Dropout)
	case !finite(c.LabelSmoothing) || c.LabelSmoothing < 0 || c.LabelSmoothing >= 1:
		return fmt.Errorf("finetune: config: LabelSmoothing is %v, want a value in [0, 1)", c.LabelSmoothing)
	case !finite(c.WeightDecay) || c.WeightDecay < 0:
		return fmt.Errorf("finetune: config: WeightDecay is %v, want 0 or more", c.WeightDecay)
	case c.Steps != "" && c.Steps != StepsAuto && c.Steps != StepsDevice && c.Steps != StepsHost:
		return fmt.Errorf("finetune: config: Steps is %q, want %q, %q or %q", c.Steps, StepsAuto, StepsDevice, StepsHost)
	case c.Graph != "" && c.Graph != GraphAuto && c.Graph != GraphFixed && c.Graph != GraphDynamic:
		return fmt.Errorf("finetune: config: Graph is %q, want %q, %q or %q", c.Graph, GraphAuto, GraphFixed, GraphDynamic)
	case c.GraphCapture && (c.Optimizer != SGD || c.Steps == StepsHost || c.Graph == GraphDynamic):
		return errors.New("finetune: config: capturing steps needs SGD's update on the device and the fixed graph")
	case c.Steps == StepsDevice && c.Optimizer != SGD:
		return fmt.Errorf("finetune: config: Steps is %q, but only %q updates on the device", c.Steps, SGD)
	}
	return nil
}

// Loader fills dst with the mixed8 activations (Dim values each, channels
// first) of the samples idx, in order.
type Loader func(ctx context.Context, idx []int, dst []float32) error

// Trainer fine-tunes the top blocks and the head. It owns copies of the
// trained weights; Units and Head return them. It is not safe for
// concurrent use; Close releases its sessions.
type Trainer struct {
	cfg    Config
	w      *inception.Weights // a copy: its trainable units are updated by Sync
	params []param
	values [][]float32 // per param, the weights (kernels in ONNX layout)
	grads  [][]float32
	m, v   [][]float32 // optimiser state (momentum in m for SGD)
	step   int
	rng    *rand.Rand
	train  *onnxrt.MultiSession
	feat   *onnxrt.MultiSession
	in     []string
	out    []string
	// dev, when not nil, holds the weights and velocities on the
	// provider's device, updated inside the training graph (device.go);
	// values then lag behind it until pull. deviceErr says why they are
	// not there when they were meant to be.
	dev       *deviceSteps
	deviceErr error
	heads     []head.Dense // shapes and activations of the head's layers

	batch        []float32
	drop, target []float32
	scale, probs []float32
	loss         []float32
	idx, yb      []int
	wb           []float32
	perm         []int

	// folded and flipped, per param, are the kernels the host path's
	// graph reads (param.folded, param.flipped), made from values before
	// each step; nil for other params.
	folded, flipped [][]float32
	// stale says that folded and flipped are not made from the current
	// weights: update makes them with the weights, anything else that
	// changes the weights sets stale.
	stale bool
	// threads is the number of goroutines the Go side's passes over the
	// weights use (the session's threads); pieces is how they split them.
	threads int
	pieces  []piece
	// rows is the fixed graph's batch (GraphFixed), 0 for the dynamic
	// graph.
	rows int
}

// NewTrainer returns a trainer starting from the backbone weights w (which
// it copies) and the head h, trained on features standardised by mean and
// scale (f' = (f-mean)·scale, as package train does).
func NewTrainer(w *inception.Weights, h *head.Head, mean, scale []float32, cfg Config, eng onnxrt.Engine) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if eng.Runtime == nil {
		return nil, errors.New("finetune: no ONNX Runtime")
	}
	if h.Inputs() != inception.Features || len(mean) != inception.Features || len(scale) != inception.Features {
		return nil, fmt.Errorf("finetune: head reads %d features and the standardisation has %d, want %d", h.Inputs(), len(mean), inception.Features)
	}
	wc := &inception.Weights{Units: slices.Clone(w.Units)}
	trainable := map[int]bool{}
	for _, u := range TrainableUnits(cfg.Blocks) {
		trainable[u] = true
		uc := wc.Units[u]
		uc.Kernel, uc.Beta = slices.Clone(uc.Kernel), slices.Clone(uc.Beta)
		wc.Units[u] = uc
	}
	layers := h.Layers()
	spec := &graphSpec{w: wc, trainable: trainable, mean: mean, scale: scale, head: layers, dropout: cfg.Dropout > 0}
	// A step's values (hundreds of MB for a batch of 32) must not stay in
	// ONNX Runtime's arena while Go updates the weights and other sessions
	// run: their peaks would add up.
	eng.Options.ReleaseMemory = true
	// The step's threads wait for each other at every one of its
	// hundreds of operators (see onnxrt.SpinInRuns).
	eng.Options.Spin = onnxrt.SpinInRuns
	device := onDevice(cfg, eng.Options.Provider)
	spec.fix(fixedGraph(cfg, eng.Options.Provider), cfg.BatchSize)
	ts, params, inputs, outputs, err := spec.session(eng, device, cfg)
	if err != nil {
		return nil, err
	}
	if (device && !onDevice(cfg, ts.Provider())) || (spec.rows > 0) != fixedGraph(cfg, ts.Provider()) {
		// Auto landed where the update belongs in Go, or on the CPU,
		// whose graph is the dynamic one.
		landed := ts.Provider()
		ts.Close()
		device = device && onDevice(cfg, landed)
		spec.fix(fixedGraph(cfg, landed), cfg.BatchSize)
		if ts, params, inputs, outputs, err = spec.session(eng, device, cfg); err != nil {
			return nil, err
		}
	}
	eng.Options.GraphCapture = false // the feature graph's batches vary
	eng.Options.Spin = onnxrt.SpinDefault
	fspec := &graphSpec{w: wc, trainable: trainable}
	fmodel, _, finputs, foutputs, err := fspec.model()
	if err != nil {
		ts.Close()
		return nil, fmt.Errorf("finetune: feature graph: %w", err)
	}
	fs, err := eng.NewMultiSession(fmodel, finputs, foutputs)
	if err != nil {
		ts.Close()
		return nil, fmt.Errorf("finetune: %w", err)
	}
	t := &Trainer{
		cfg: cfg, w: wc, params: params, train: ts, feat: fs, in: inputs, out: outputs, heads: layers, rows: int(spec.rows),
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x66696e6574756e65)), // "finetune"
		threads: eng.Options.Threads,
		stale:   true,
	}
	if t.threads <= 0 {
		t.threads = runtime.NumCPU()
	}
	for _, p := range params {
		var v []float32
		switch {
		case p.unit >= 0 && p.beta:
			v = slices.Clone(wc.Units[p.unit].Beta)
		case p.unit >= 0:
			v = KernelONNX(&wc.Units[p.unit])
		case p.bias:
			v = slices.Clone(layers[p.layer].Bias)
		default:
			v = slices.Clone(layers[p.layer].Kernel)
		}
		t.values = append(t.values, v)
	}
	if device {
		if err := t.startDevice(); err != nil {
			err = fmt.Errorf("finetune: weights on %s: %w", ts.Provider(), err)
			if cfg.Steps == StepsDevice {
				t.Close()
				return nil, err
			}
			// Auto: the steps still run on the provider, with the update
			// in Go; DeviceUnavailable says why.
			t.deviceErr = err
			t.train.Close()
			if t.train, _, t.in, t.out, err = spec.session(eng, false, cfg); err != nil {
				t.feat.Close()
				return nil, err
			}
		}
	}
	if t.dev == nil {
		t.folded = make([][]float32, len(params))
		t.flipped = make([][]float32, len(params))
		for i, p := range params {
			if p.folded != "" {
				t.folded[i] = make([]float32, len(t.values[i]))
			}
			if p.flipped != "" {
				t.flipped[i] = make([]float32, len(t.values[i]))
			}
		}
		// Gradients and the optimiser's state live in Go.
		for _, v := range t.values {
			t.grads = append(t.grads, make([]float32, len(v)))
			t.m = append(t.m, make([]float32, len(v)))
			if cfg.Optimizer == Adam {
				t.v = append(t.v, make([]float32, len(v)))
			}
		}
	}
	bs := cfg.BatchSize
	classes := layers[len(layers)-1].Out
	t.batch = make([]float32, bs*Dim)
	t.target = make([]float32, bs*classes)
	t.scale = make([]float32, bs)
	t.probs = make([]float32, bs*classes)
	t.loss = make([]float32, 1)
	t.idx = make([]int, bs)
	t.yb = make([]int, bs)
	t.wb = make([]float32, bs)
	if cfg.Dropout > 0 {
		t.drop = make([]float32, bs*layers[len(layers)-1].In)
	}
	return t, nil
}

// Close releases the trainer's sessions and what it keeps on the device.
func (t *Trainer) Close() error {
	t.dev.close()
	t.dev = nil
	return errors.Join(t.train.Close(), t.feat.Close())
}

// Provider reports the execution provider the steps run on.
func (t *Trainer) Provider() onnxrt.Provider { return t.train.Provider() }

func (t *Trainer) paramTensors() []onnxrt.Tensor {
	ts := make([]onnxrt.Tensor, len(t.params))
	for i, p := range t.params {
		ts[i] = onnxrt.Tensor{Data: t.values[i], Shape: p.shape}
	}
	return ts
}

// Epoch runs one pass over n samples: load provides their activations, y
// their classes and w, when not nil, their loss weights. The samples are
// shuffled and split into batches of Config.BatchSize; each batch is one
// update of every trained weight. Epoch checks ctx between batches and
// stops a running batch when ctx is cancelled, returning ctx.Err().
func (t *Trainer) Epoch(ctx context.Context, load Loader, y []int, w []float32) (head.EpochStats, error) {
	n := len(y)
	if n == 0 {
		return head.EpochStats{}, head.ErrNoSamples
	}
	if w != nil && len(w) != n {
		return head.EpochStats{}, fmt.Errorf("finetune: %d sample weights for %d samples", len(w), n)
	}
	classes := t.heads[len(t.heads)-1].Out
	for i, c := range y {
		if c < 0 || c >= classes {
			return head.EpochStats{}, fmt.Errorf("finetune: sample %d has label %d, want a class in [0, %d)", i, c, classes)
		}
	}
	if t.dev != nil && t.dev.err != nil {
		return head.EpochStats{}, t.dev.err
	}
	// The steps' values are freed when each ends and allocated again by
	// the next: the C library keeps them in between, in the heap of this
	// one thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer onnxrt.HoldMemory()()
	t.perm = grad.Order(t.perm, n, t.rng)
	var lossSum float64
	correct := 0
	for b0 := 0; b0 < n; b0 += t.cfg.BatchSize {
		if err := ctx.Err(); err != nil {
			return head.EpochStats{}, err
		}
		b1 := min(b0+t.cfg.BatchSize, n)
		nb := b1 - b0
		idx := t.idx[:nb]
		copy(idx, t.perm[b0:b1])
		for r, s := range idx {
			t.yb[r] = y[s]
			t.wb[r] = 1
			if w != nil {
				t.wb[r] = w[s]
			}
		}
		var l float64
		var c int
		if t.dev != nil {
			// The batch is loaded straight into the runtime's host value.
			h, err := t.hostBatch(t.rowsFor(nb))
			if err != nil {
				return head.EpochStats{}, err
			}
			if err := load(ctx, idx, h.x.Data()[:nb*Dim]); err != nil {
				return head.EpochStats{}, err
			}
			clear(h.x.Data()[nb*Dim:]) // a fixed graph's padding rows
			if l, c, err = t.deviceStep(ctx, h, t.yb[:nb], t.wb[:nb]); err != nil {
				return head.EpochStats{}, err
			}
		} else {
			x := t.batch[:t.rowsFor(nb)*Dim]
			if err := load(ctx, idx, x[:nb*Dim]); err != nil {
				return head.EpochStats{}, err
			}
			clear(x[nb*Dim:])
			var err error
			if l, c, err = t.gradients(ctx, x, t.yb[:nb], t.wb[:nb]); err != nil {
				return head.EpochStats{}, err
			}
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			// On the device the step wrote the other set of weights; the
			// current set is still the step before's.
			return head.EpochStats{}, ErrDiverged
		}
		if t.dev != nil {
			t.dev.commit()
		} else {
			t.update()
		}
		lossSum += l
		correct += c
	}
	return head.EpochStats{Loss: lossSum / float64(n), Accuracy: float64(correct) / float64(n)}, nil
}

// gradients runs one batch's forward and backward pass on x (the
// activations of the samples y, padded to the fixed graph's batch where
// there is one), leaving the gradient of Σ wᵢ·lossᵢ / len(y) in t.grads
// (for a folded kernel, with respect to kernel·scale: update finishes
// it), and returns Σ wᵢ·lossᵢ and the number of samples classified
// correctly.
func (t *Trainer) gradients(ctx context.Context, x []float32, y []int, w []float32) (float64, int, error) {
	n, r := len(y), t.rowsFor(len(y))
	rows := int64(r)
	last := t.heads[len(t.heads)-1]
	classes := last.Out
	var drop []float32
	if t.cfg.Dropout > 0 {
		drop = t.drop[:r*last.In]
	}
	target, scale := t.target[:r*classes], t.scale[:r]
	t.stepInputs(drop, target, scale, y, w)
	in := []onnxrt.Tensor{{Data: x, Shape: []int64{rows, Channels, Side, Side}}}
	if drop != nil {
		in = append(in, onnxrt.Tensor{Data: drop, Shape: []int64{rows, int64(last.In)}})
	}
	in = append(in,
		onnxrt.Tensor{Data: target, Shape: []int64{rows, int64(classes)}},
		onnxrt.Tensor{Data: scale, Shape: []int64{rows, 1}})
	if t.stale {
		t.prepareKernels()
		t.stale = false
	}
	for i, p := range t.params {
		v := t.values[i]
		if t.folded[i] != nil {
			v = t.folded[i]
		}
		in = append(in, onnxrt.Tensor{Data: v, Shape: p.shape})
	}
	for i, p := range t.params {
		if t.flipped[i] != nil {
			in = append(in, onnxrt.Tensor{Data: t.flipped[i], Shape: []int64{p.shape[1], p.shape[0], p.shape[2], p.shape[3]}})
		}
	}
	probs := t.probs[:r*classes]
	out := []onnxrt.Tensor{{Data: t.loss, Shape: []int64{1}}, {Data: probs, Shape: []int64{rows, int64(classes)}}}
	for i, p := range t.params {
		out = append(out, onnxrt.Tensor{Data: t.grads[i], Shape: p.gradShape()})
	}
	if err := t.train.Run(ctx, in, out); err != nil {
		return 0, 0, err
	}
	return float64(t.loss[0]) * float64(n), grad.Correct(probs, y, classes), nil
}

// prepareKernels makes the kernels the host path's graph reads from the
// current weights: each kernel times its batch normalisation's scale, and
// that product in the input gradient's layout where the graph needs it.
func (t *Trainer) prepareKernels() {
	t.parallel(func(i, a, b int) {
		if f := t.folded[i]; f != nil {
			copy(f[a:b], t.values[i][a:b])
			row := len(f) / len(t.params[i].scale)
			scaleRows(f[a:b], t.params[i].scale[a/row:b/row])
			t.flipRows(i, a, b)
		}
	})
}

// flipRows copies the folded kernel of param i's weights [a, b) (whole
// output channels) into its flipped layout: [m, c, kh, kw] to [c, m, kh,
// kw], each kh×kw block reversed (flipped in both axes). For each input
// channel the piece's output channels are side by side.
func (t *Trainer) flipRows(i, a, b int) {
	d := t.flipped[i]
	if d == nil {
		return
	}
	f, p := t.folded[i], &t.params[i]
	m, c, kk := int(p.shape[0]), int(p.shape[1]), int(p.shape[2]*p.shape[3])
	row := c * kk
	oa, ob := a/row, b/row
	if kk == 1 {
		// A matrix transpose, in tiles of 16×16 that stay in the cache
		// (most of the kernels are 1×1).
		const tile = 16
		for c0 := 0; c0 < c; c0 += tile {
			for o0 := oa; o0 < ob; o0 += tile {
				o1 := min(o0+tile, ob)
				for ci := c0; ci < min(c0+tile, c); ci++ {
					dst := d[ci*m+o0 : ci*m+o1]
					for k := range dst {
						dst[k] = f[(o0+k)*c+ci]
					}
				}
			}
		}
		return
	}
	for ci := range c {
		dst := d[(ci*m+oa)*kk : (ci*m+ob)*kk]
		for o := oa; o < ob; o++ {
			src := f[(o*c+ci)*kk : (o*c+ci+1)*kk]
			to := dst[(o-oa)*kk : (o-oa+1)*kk]
			if kk == 3 { // the 1×3 and 3×1 kernels, written out
				to[0], to[1], to[2] = src[2], src[1], src[0]
				continue
			}
			for j, v := range src {
				to[kk-1-j] = v
			}
		}
	}
}

// rowsToKernel writes g, one output channel's gradient in the matrix
// product's [kk, c] order (param.rows), into dst in the kernel's [c, kk]
// order.
func rowsToKernel(dst, g []float32, kk int) {
	c := len(g) / kk
	// dst is written in order, g read as kk streams at once: the row comes
	// from memory, and reading it one stream at a time (in order) took
	// the update 10% longer.
	if kk == 3 { // the 1×3 and 3×1 kernels, written out
		g0, g1, g2 := g[:c], g[c:2*c], g[2*c:3*c]
		for ci, v := range g0 {
			o := dst[3*ci : 3*ci+3 : 3*ci+3]
			o[0], o[1], o[2] = v, g1[ci], g2[ci]
		}
		return
	}
	for ci := range c {
		o := dst[ci*kk : (ci+1)*kk]
		for k := range o {
			o[k] = g[k*c+ci]
		}
	}
}

// scaleRows multiplies each of the len(scale) rows of v by its scale.
func scaleRows(v, scale []float32) {
	n := len(v) / len(scale)
	for o, s := range scale {
		row := v[o*n : (o+1)*n]
		for k, x := range row {
			row[k] = x * s
		}
	}
}

// update applies one optimiser step to every trained array, in pieces
// spread over the trainer's threads (each weight's update depends on
// nothing else, so the pieces give the same weights however they are
// split), and makes the folded kernels of the next step on the way.
func (t *Trainer) update() {
	t.step++
	t.parallel(func(i, a, b int) { t.updateRange(i, a, b) })
	t.stale = false
}

// updateRange applies the optimiser step to weights [a, b) of param i.
// For a folded kernel (graphSpec.hostKernels) the graph's gradient is
// with respect to kernel·scale: the kernel's own is that times scale (the
// float32 product the graph's Mul computed when it folded the kernel
// itself), and the new kernel·scale is written beside the new kernel, in
// the same pass.
func (t *Trainer) updateRange(i, a, b int) {
	c := t.cfg
	p := &t.params[i]
	lr := float32(c.LearningRate)
	decay := float32(0)
	if !p.beta && !p.bias {
		decay = float32(c.LearningRate * c.WeightDecay)
	}
	// rows of one scale each: a kernel's output channels, or all of it
	// (scale 1) for other params.
	row, scale := b-a, []float32{1}
	f := t.folded[i]
	if f != nil {
		row = len(f) / len(p.scale)
		scale = p.scale[a/row : b/row]
	}
	// A gradient in rows (param.rows) of a kernel larger than 1×1 comes
	// as [KH·KW, In] for each output channel: SGD reads it so (below),
	// Adam through buf, in the kernel's [In, KH·KW] order.
	var buf []float32
	kk := 1
	if p.rows {
		kk = int(p.shape[2] * p.shape[3])
	}
	if kk > 1 && c.Optimizer != SGD {
		buf = make([]float32, row)
	}
	for r, s := range scale {
		lo := a + r*row
		w, g, m := t.values[i][lo:lo+row], t.grads[i][lo:lo+row], t.m[i][lo:lo+row]
		if f == nil {
			s = 1
		}
		if c.Optimizer != SGD {
			if kk > 1 {
				rowsToKernel(buf, g, kk)
				g = buf
			}
			if f != nil {
				scaleRows(g, scale[r:r+1])
			}
			wd := c.WeightDecay
			if p.beta || p.bias {
				wd = 0
			}
			head.Adam(w, g, m, t.v[i][lo:lo+row], c.LearningRate, wd, t.step)
			if f != nil {
				copy(f[lo:lo+row], w)
				scaleRows(f[lo:lo+row], scale[r:r+1])
			}
			continue
		}
		// Keras's SGD: velocity = momentum·velocity - lr·g; w += velocity.
		// The conversions round each product, as the graph's update
		// (appendSGD) does: Go may otherwise fuse a multiply and an add
		// into one FMA on some CPUs, and the two paths must agree to
		// the bit. Without decay there is no w·0 to compute: its only
		// effect was on the sign of a zero, and multiplying a subnormal
		// weight costs a microcode assist on x86 (the graph's update
		// spent 0.7 s a step on it).
		mom := float32(c.Momentum)
		g, m = g[:len(w)], m[:len(w)]
		switch {
		case kk > 1:
			// The same arithmetic, the gradient read in its rows' order
			// (one pass over it, as the weights are read, so the three
			// arrays come from memory together; reordering the row into a
			// buffer first took the update 17% longer) and the weight of
			// kernel position k of input channel ci written at ci·kk+k.
			// Only folded kernels come in rows.
			fr := f[lo : lo+len(w)]
			n := len(w) / kk
			for k := range kk {
				for ci, gk := range g[k*n : (k+1)*n] {
					j := ci*kk + k
					vk := float32(mom*m[j]) - float32(lr*float32(gk*s))
					m[j] = vk
					wk := w[j]
					if decay != 0 {
						wk = float32(wk - float32(wk*decay))
					}
					wk += vk
					w[j] = wk
					fr[j] = wk * s
				}
			}
		case f != nil && decay == 0:
			fr := f[lo : lo+len(w)]
			for k, gk := range g {
				vk := float32(mom*m[k]) - float32(lr*float32(gk*s))
				m[k] = vk
				wk := w[k] + vk
				w[k] = wk
				fr[k] = wk * s
			}
		case f != nil:
			fr := f[lo : lo+len(w)]
			for k, gk := range g {
				vk := float32(mom*m[k]) - float32(lr*float32(gk*s))
				m[k] = vk
				wk := float32(w[k]-float32(w[k]*decay)) + vk
				w[k] = wk
				fr[k] = wk * s
			}
		case decay == 0:
			for k, gk := range g {
				vk := float32(mom*m[k]) - float32(lr*gk)
				m[k] = vk
				w[k] += vk
			}
		default:
			for k, gk := range g {
				vk := float32(mom*m[k]) - float32(lr*gk)
				m[k] = vk
				w[k] = float32(w[k]-float32(w[k]*decay)) + vk
			}
		}
	}
	if f != nil {
		t.flipRows(i, a, b)
	}
}

// chunk is the most weights one piece of the Go side's work on the
// weights covers: small enough to spread 13 million weights evenly over
// a few threads, large enough that handing pieces out costs nothing.
const chunk = 1 << 16

// piece is the weights [a, b) of param i.
type piece struct{ i, a, b int }

// parallel calls f(i, a, b) for pieces [a, b) of every param i, on as many
// goroutines as the session has threads: between runs those threads are
// idle, and at one thread the work stays on one.
func (t *Trainer) parallel(f func(i, a, b int)) {
	if t.pieces == nil {
		for i, v := range t.values {
			// A kernel's pieces are whole output channels (rows), which
			// prepareKernels needs.
			row := 1
			if p := t.params[i]; len(p.shape) == 4 {
				row = len(v) / int(p.shape[0])
			}
			step := max(row, chunk/row*row)
			for a := 0; a < len(v); a += step {
				t.pieces = append(t.pieces, piece{i, a, min(a+step, len(v))})
			}
		}
	}
	pieces := t.pieces
	workers := min(t.threads, len(pieces))
	if workers <= 1 {
		for _, p := range pieces {
			f(p.i, p.a, p.b)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(pieces) {
					return
				}
				p := pieces[k]
				f(p.i, p.a, p.b)
			}
		}()
	}
	wg.Wait()
}

// Features computes the pooled features (before standardisation) of n
// samples with the current weights, for validation and evaluation, in
// batches of Config.BatchSize.
func (t *Trainer) Features(ctx context.Context, load Loader, n int) ([]float32, error) {
	if err := t.hostWeights(); err != nil {
		return nil, err
	}
	out := make([]float32, n*inception.Features)
	bs := t.cfg.BatchSize
	idx := make([]int, 0, bs)
	params := t.paramTensors()
	var fp []onnxrt.Tensor
	for i, p := range t.params {
		if p.unit >= 0 {
			fp = append(fp, params[i])
		}
	}
	for b0 := 0; b0 < n; b0 += bs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b1 := min(b0+bs, n)
		idx = idx[:0]
		for i := b0; i < b1; i++ {
			idx = append(idx, i)
		}
		x := t.batch[:(b1-b0)*Dim]
		if err := load(ctx, idx, x); err != nil {
			return nil, err
		}
		in := append([]onnxrt.Tensor{{Data: x, Shape: []int64{int64(b1 - b0), Channels, Side, Side}}}, fp...)
		o := []onnxrt.Tensor{{Data: out[b0*inception.Features : b1*inception.Features], Shape: []int64{int64(b1 - b0), inception.Features}}}
		if err := t.feat.Run(ctx, in, o); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Snapshot is a copy of the trained weights, to restore the best epoch.
type Snapshot struct{ values [][]float32 }

// hostWeights makes t.values current and returns the first copy that
// failed since the last call.
func (t *Trainer) hostWeights() error {
	if t.dev == nil {
		return nil
	}
	if err := t.pull(); err != nil && t.dev.err == nil {
		t.dev.err = err
	}
	return t.dev.err
}

// Snapshot copies the current weights. Where they are on the device and
// reading them fails, the next Epoch, Features or Head reports it.
func (t *Trainer) Snapshot() *Snapshot {
	_ = t.hostWeights()
	s := &Snapshot{values: make([][]float32, len(t.values))}
	for i, v := range t.values {
		s.values[i] = slices.Clone(v)
	}
	return s
}

// Restore sets the weights to a snapshot's; the optimiser keeps its state.
func (t *Trainer) Restore(s *Snapshot) {
	for i, v := range s.values {
		copy(t.values[i], v)
	}
	t.stale = true
	if t.dev != nil {
		if err := t.push(); err != nil && t.dev.err == nil {
			t.dev.err = err
		}
	}
}

// Units returns the trained units (Keras layout), by index in
// Weights.Units.
func (t *Trainer) Units() map[int]inception.Unit {
	_ = t.hostWeights()
	out := map[int]inception.Unit{}
	for i, p := range t.params {
		if p.unit < 0 {
			continue
		}
		u, ok := out[p.unit]
		if !ok {
			u = t.w.Units[p.unit]
		}
		if p.beta {
			u.Beta = slices.Clone(t.values[i])
		} else {
			u.Kernel = KernelKeras(&u, t.values[i])
		}
		out[p.unit] = u
	}
	return out
}

// Weights returns a copy of the backbone weights with the trained units.
func (t *Trainer) Weights() *inception.Weights {
	w := &inception.Weights{Units: slices.Clone(t.w.Units)}
	for i, u := range t.Units() {
		w.Units[i] = u
	}
	return w
}

// Head returns the trained head (reading standardised features).
func (t *Trainer) Head() (*head.Head, error) {
	if err := t.hostWeights(); err != nil {
		return nil, err
	}
	layers := make([]head.Dense, len(t.heads))
	for i, p := range t.params {
		if p.unit >= 0 {
			continue
		}
		d := &layers[p.layer]
		*d = head.Dense{In: t.heads[p.layer].In, Out: t.heads[p.layer].Out, Activation: t.heads[p.layer].Activation, Kernel: d.Kernel, Bias: d.Bias}
		if p.bias {
			d.Bias = slices.Clone(t.values[i])
		} else {
			d.Kernel = slices.Clone(t.values[i])
		}
	}
	return head.FromLayers(layers)
}

// Featurizer computes pooled features from mixed8 activations with fixed
// weights: the top blocks of a (possibly fine-tuned) backbone.
type Featurizer struct {
	s     *onnxrt.MultiSession
	batch int
	buf   []float32
}

// NewFeaturizer returns a featurizer for the top blocks of w, running
// batches of batch photos on eng.
func NewFeaturizer(w *inception.Weights, batch int, eng onnxrt.Engine) (*Featurizer, error) {
	if eng.Runtime == nil {
		return nil, errors.New("finetune: no ONNX Runtime")
	}
	if batch <= 0 {
		batch = 32
	}
	spec := &graphSpec{w: w}
	model, _, inputs, outputs, err := spec.model()
	if err != nil {
		return nil, fmt.Errorf("finetune: feature graph: %w", err)
	}
	eng.Options.ReleaseMemory = true
	s, err := eng.NewMultiSession(model, inputs, outputs)
	if err != nil {
		return nil, fmt.Errorf("finetune: %w", err)
	}
	return &Featurizer{s: s, batch: batch, buf: make([]float32, batch*Dim)}, nil
}

// Features returns the pooled features of n samples, read by load.
func (f *Featurizer) Features(ctx context.Context, load Loader, n int) ([]float32, error) {
	out := make([]float32, n*inception.Features)
	idx := make([]int, 0, f.batch)
	for b0 := 0; b0 < n; b0 += f.batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b1 := min(b0+f.batch, n)
		idx = idx[:0]
		for i := b0; i < b1; i++ {
			idx = append(idx, i)
		}
		x := f.buf[:(b1-b0)*Dim]
		if err := load(ctx, idx, x); err != nil {
			return nil, err
		}
		in := []onnxrt.Tensor{{Data: x, Shape: []int64{int64(b1 - b0), Channels, Side, Side}}}
		o := []onnxrt.Tensor{{Data: out[b0*inception.Features : b1*inception.Features], Shape: []int64{int64(b1 - b0), inception.Features}}}
		if err := f.s.Run(ctx, in, o); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Close releases the featurizer's session.
func (f *Featurizer) Close() error { return f.s.Close() }
