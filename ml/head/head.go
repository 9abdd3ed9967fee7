// Package head is the small classifier trained on top of the frozen
// backbone's pooled features: Dense(Hidden, relu) → Dropout → Dense(N,
// softmax), or a single Dense(N, softmax) when Hidden is 0, trained with
// Adam (optionally with decoupled weight decay) on categorical
// cross-entropy, as the Keras transfer-learning tutorial the project started
// from does.
//
// A [Head] holds the weights and answers [Head.Predict] and
// [Head.Evaluate]; a [Trainer] holds the optimiser's state and runs
// [Trainer.Epoch]. Weights are float32 in Keras's layout (kernel [in, out]
// row-major, bias [out]), which [Head.Layers] and [FromLayers] expose for the
// model file and the ONNX export.
//
// Training runs on ONNX Runtime: each batch's forward and backward pass is
// one run of a graph built by package grad, on the engine's execution
// provider, and the Adam update runs in Go. On the CPU, where a batch of 32
// is bound by moving the hidden kernel through memory, the trainer computes
// that layer's product and its kernel's gradient itself with AVX2 vector
// kernels (AVX-512 where the CPU has it), inside the Adam step (see
// outer.go); the graph keeps the rest.
// Training is deterministic: the same data, configuration, seed and thread
// count give bit-identical weights and losses on every run, whatever
// GOMAXPROCS, because ONNX Runtime's CPU kernels split work by output, not
// along reductions, for a fixed thread count, and this package splits work
// across goroutines only by output too.
// Prediction and evaluation use gonum's pure-Go BLAS, so a trained head
// classifies without a runtime.
package head

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Activation names, as Keras spells them in a layer's config.
const (
	ActivationReLU    = "relu"
	ActivationSoftmax = "softmax"
)

// Config is the head's shape and training hyperparameters. The zero value is
// not usable (its learning rate and batch size are 0); start from
// [DefaultConfig].
type Config struct {
	// Hidden is the number of units of the hidden ReLU layer; 0 puts the
	// softmax layer directly on the features.
	Hidden int
	// Dropout is the fraction of the output layer's inputs (the hidden
	// units, or the features when Hidden is 0) zeroed at each training step,
	// in [0, 1). Kept inputs are scaled by 1/(1-Dropout), as Keras does, so
	// prediction needs no rescaling.
	Dropout float64
	// LearningRate is Adam's step size.
	LearningRate float64
	// BatchSize is the number of samples per update.
	BatchSize int
	// LabelSmoothing mixes the one-hot targets with the uniform
	// distribution: the target becomes (1-s)·onehot + s/N. In [0, 1).
	LabelSmoothing float64
	// WeightDecay is decoupled (AdamW) weight decay: before each Adam step
	// every kernel weight w becomes w - LearningRate·WeightDecay·w, as Keras's
	// AdamW does. Biases are not decayed, because shrinking them towards 0
	// regularises nothing and only biases the class priors.
	WeightDecay float64
	// Beta1, Beta2 and Epsilon are Adam's moment decay rates and the
	// constant added to the root of the second moment (Keras's defaults are
	// 0.9, 0.999 and 1e-7; PyTorch's epsilon is 1e-8).
	Beta1, Beta2, Epsilon float64
	// Seed seeds the weight initialisation, the shuffling and the dropout
	// masks.
	Seed uint64
}

// DefaultConfig returns the seed Keras tutorial's head: Dense(1024, relu),
// Dropout(0.5), Adam with learning rate 1e-3 and Keras's β1, β2 and ε,
// batches of 32, no label smoothing and no weight decay.
func DefaultConfig() Config {
	return Config{
		Hidden:       1024,
		Dropout:      0.5,
		LearningRate: 1e-3,
		BatchSize:    32,
		Beta1:        AdamBeta1,
		Beta2:        AdamBeta2,
		Epsilon:      AdamEpsilon,
	}
}

// Validate reports the first field of c that is out of range.
func (c Config) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.Hidden < 0:
		return fmt.Errorf("head: config: Hidden is %d, want 0 or more", c.Hidden)
	case !finite(c.Dropout) || c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("head: config: Dropout is %v, want a value in [0, 1)", c.Dropout)
	case !finite(c.LearningRate) || c.LearningRate <= 0:
		return fmt.Errorf("head: config: LearningRate is %v, want a positive value", c.LearningRate)
	case c.BatchSize <= 0:
		return fmt.Errorf("head: config: BatchSize is %d, want a positive value", c.BatchSize)
	case !finite(c.LabelSmoothing) || c.LabelSmoothing < 0 || c.LabelSmoothing >= 1:
		return fmt.Errorf("head: config: LabelSmoothing is %v, want a value in [0, 1)", c.LabelSmoothing)
	case !finite(c.WeightDecay) || c.WeightDecay < 0:
		return fmt.Errorf("head: config: WeightDecay is %v, want 0 or more", c.WeightDecay)
	case !finite(c.Beta1) || c.Beta1 < 0 || c.Beta1 >= 1:
		return fmt.Errorf("head: config: Beta1 is %v, want a value in [0, 1)", c.Beta1)
	case !finite(c.Beta2) || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("head: config: Beta2 is %v, want a value in [0, 1)", c.Beta2)
	case !finite(c.Epsilon) || c.Epsilon <= 0:
		return fmt.Errorf("head: config: Epsilon is %v, want a positive value", c.Epsilon)
	}
	return nil
}

// Dense is one fully connected layer in Keras's layout.
type Dense struct {
	// In and Out are the layer's input and output widths.
	In, Out int
	// Kernel holds In×Out weights, row-major: Kernel[i*Out+j] connects input
	// i to output j, as Keras stores a Dense kernel of shape [in, out].
	Kernel []float32
	// Bias holds Out values.
	Bias []float32
	// Activation is ActivationReLU for the hidden layer and
	// ActivationSoftmax for the output layer.
	Activation string
}

// dense is a layer's weights inside a Head.
type dense struct {
	in, out int
	w       []float32 // in×out, row-major
	b       []float32 // out
}

// Head is a classifier head: one hidden ReLU layer and a softmax output
// layer, or the softmax layer alone. Predict and Evaluate only read the
// weights, so they may run concurrently with each other, but not with a
// Trainer's Epoch on the same head or with CopyFrom.
type Head struct {
	inputs, classes int
	// layers has 2 entries (hidden, output) or 1 (output).
	layers []dense
}

// Random-number streams: the same seed drives initialisation and training
// through different PCG streams so that changing one use of randomness does
// not shift the other.
const (
	streamInit  = 0x636c617369666963 // "clasific"
	streamTrain = 0x747261696e696e67 // "training"
)

// New returns a head with inputs features and classes outputs, shaped by
// cfg.Hidden and initialised as Keras initialises Dense layers: Glorot-uniform
// kernels (uniform in ±√(6/(in+out))) and zero biases, from cfg.Seed.
func New(inputs, classes int, cfg Config) (*Head, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if inputs <= 0 {
		return nil, fmt.Errorf("head: %d inputs, want a positive number", inputs)
	}
	if classes < 2 {
		return nil, fmt.Errorf("head: %d classes, want at least 2", classes)
	}
	widths := []int{inputs, classes}
	if cfg.Hidden > 0 {
		widths = []int{inputs, cfg.Hidden, classes}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, streamInit))
	h := &Head{inputs: inputs, classes: classes}
	for i := 1; i < len(widths); i++ {
		in, out := widths[i-1], widths[i]
		if in > math.MaxInt/out {
			return nil, fmt.Errorf("head: layer %d of %d×%d weights is too large", i, in, out)
		}
		l := dense{in: in, out: out, w: make([]float32, in*out), b: make([]float32, out)}
		limit := math.Sqrt(6 / float64(in+out))
		for j := range l.w {
			l.w[j] = float32(limit * (2*rng.Float64() - 1))
		}
		h.layers = append(h.layers, l)
	}
	return h, nil
}

// FromLayers returns a head with copies of the given layers' weights: one
// softmax layer, or a ReLU layer followed by a softmax layer. It checks that
// the shapes agree and that every weight is finite.
func FromLayers(layers []Dense) (*Head, error) {
	if len(layers) != 1 && len(layers) != 2 {
		return nil, fmt.Errorf("head: %d layers, want 1 (softmax) or 2 (relu, softmax)", len(layers))
	}
	h := &Head{inputs: layers[0].In, classes: layers[len(layers)-1].Out}
	for i, l := range layers {
		n := i + 1
		want := ActivationReLU
		if i == len(layers)-1 {
			want = ActivationSoftmax
		}
		if l.Activation != want {
			return nil, fmt.Errorf("head: layer %d has activation %q, want %q", n, l.Activation, want)
		}
		if l.In <= 0 || l.Out <= 0 {
			return nil, fmt.Errorf("head: layer %d has shape %d×%d, want positive widths", n, l.In, l.Out)
		}
		if i > 0 && l.In != layers[i-1].Out {
			return nil, fmt.Errorf("head: layer %d has %d inputs but layer %d has %d outputs", n, l.In, i, layers[i-1].Out)
		}
		if l.In > math.MaxInt/l.Out || len(l.Kernel) != l.In*l.Out {
			return nil, fmt.Errorf("head: layer %d kernel has %d values, want %d×%d", n, len(l.Kernel), l.In, l.Out)
		}
		if len(l.Bias) != l.Out {
			return nil, fmt.Errorf("head: layer %d bias has %d values, want %d", n, len(l.Bias), l.Out)
		}
		if j := nonFinite(l.Kernel); j >= 0 {
			return nil, fmt.Errorf("head: layer %d kernel[%d][%d] is %v, want a finite value", n, j/l.Out, j%l.Out, l.Kernel[j])
		}
		if j := nonFinite(l.Bias); j >= 0 {
			return nil, fmt.Errorf("head: layer %d bias[%d] is %v, want a finite value", n, j, l.Bias[j])
		}
		h.layers = append(h.layers, dense{in: l.In, out: l.Out, w: slices.Clone(l.Kernel), b: slices.Clone(l.Bias)})
	}
	if h.classes < 2 {
		return nil, fmt.Errorf("head: %d classes, want at least 2", h.classes)
	}
	return h, nil
}

// Layers returns copies of the head's layers in Keras's layout, input side
// first.
func (h *Head) Layers() []Dense {
	out := make([]Dense, len(h.layers))
	for i, l := range h.layers {
		act := ActivationReLU
		if i == len(h.layers)-1 {
			act = ActivationSoftmax
		}
		out[i] = Dense{In: l.in, Out: l.out, Kernel: slices.Clone(l.w), Bias: slices.Clone(l.b), Activation: act}
	}
	return out
}

// Inputs reports the number of features the head reads.
func (h *Head) Inputs() int { return h.inputs }

// Classes reports the number of classes the head scores.
func (h *Head) Classes() int { return h.classes }

// Hidden reports the width of the hidden layer, or 0 for a head without one.
func (h *Head) Hidden() int {
	if len(h.layers) == 2 {
		return h.layers[0].out
	}
	return 0
}

// Clone returns a deep copy of the head, for keeping the best weights seen
// during training.
func (h *Head) Clone() *Head {
	c := &Head{inputs: h.inputs, classes: h.classes, layers: make([]dense, len(h.layers))}
	for i, l := range h.layers {
		c.layers[i] = dense{in: l.in, out: l.out, w: slices.Clone(l.w), b: slices.Clone(l.b)}
	}
	return c
}

// CopyFrom overwrites h's weights with src's, which must have the same
// shape. A Trainer on h keeps its optimiser state, so restoring the best
// weights at the end of training is exact, while continuing to train after a
// restore resumes Adam from its current moments.
func (h *Head) CopyFrom(src *Head) error {
	if len(src.layers) != len(h.layers) {
		return fmt.Errorf("head: copying a head with %d layers into one with %d", len(src.layers), len(h.layers))
	}
	for i := range h.layers {
		d, s := &h.layers[i], &src.layers[i]
		if d.in != s.in || d.out != s.out {
			return fmt.Errorf("head: copying layer %d of shape %d×%d into one of shape %d×%d", i+1, s.in, s.out, d.in, d.out)
		}
	}
	for i := range h.layers {
		copy(h.layers[i].w, src.layers[i].w)
		copy(h.layers[i].b, src.layers[i].b)
	}
	return nil
}

// nonFinite returns the index of the first NaN or infinite value in s, or -1.
func nonFinite(s []float32) int {
	for i, v := range s {
		// v-v is 0 for finite v and NaN for ±Inf and NaN.
		if v-v != 0 {
			return i
		}
	}
	return -1
}

// ErrNoSamples is returned when training or evaluation is given no samples.
var ErrNoSamples = errors.New("head: no samples")

// checkSamples validates a batch of samples against the head: x holds
// len(y) rows of h.inputs finite features, every label is a class, and the
// weights, if given, are one finite non-negative value per sample.
func (h *Head) checkSamples(x []float32, y []int, w []float32) error {
	n := len(y)
	if n == 0 {
		return ErrNoSamples
	}
	if len(x) != n*h.inputs {
		return fmt.Errorf("head: %d feature values for %d samples of %d features, want %d", len(x), n, h.inputs, n*h.inputs)
	}
	if w != nil && len(w) != n {
		return fmt.Errorf("head: %d sample weights for %d samples", len(w), n)
	}
	for i, c := range y {
		if c < 0 || c >= h.classes {
			return fmt.Errorf("head: sample %d has label %d, want a class in [0, %d)", i, c, h.classes)
		}
	}
	if j := nonFinite(x); j >= 0 {
		return fmt.Errorf("head: sample %d feature %d is %v, want a finite value", j/h.inputs, j%h.inputs, x[j])
	}
	for i, v := range w {
		if v-v != 0 || v < 0 {
			return fmt.Errorf("head: sample %d has weight %v, want a finite value of 0 or more", i, v)
		}
	}
	return nil
}
