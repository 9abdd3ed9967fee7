package head

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/mltest"
)

// blobs returns n samples of inputs features around classes random centres
// spread by sep, with unit Gaussian noise; labels cycle through the classes.
// Calls with the same seed share the centres, so a larger n extends a
// smaller one's samples and a test set can be cut from the end.
func blobs(seed uint64, n, inputs, classes int, sep float64) ([]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	centres := make([]float64, classes*inputs)
	for i := range centres {
		centres[i] = sep * rng.NormFloat64()
	}
	x := make([]float32, n*inputs)
	y := make([]int, n)
	for r := range n {
		y[r] = r % classes
		for j := range inputs {
			x[r*inputs+j] = float32(centres[y[r]*inputs+j] + rng.NormFloat64())
		}
	}
	return x, y
}

// train runs epochs epochs of a new head and returns it with each epoch's
// stats.
func train(t *testing.T, cfg Config, inputs, classes int, x []float32, y []int, w []float32, epochs int) (*Head, []EpochStats) {
	t.Helper()
	h, err := New(inputs, classes, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(h, cfg, testEngine(t))
	if err != nil {
		t.Fatal(err)
	}
	var stats []EpochStats
	for range epochs {
		s, err := tr.Epoch(t.Context(), x, y, w)
		if err != nil {
			t.Fatal(err)
		}
		stats = append(stats, s)
	}
	return h, stats
}

// objective is the training loss Σ wᵢ·lossᵢ / n of the head on x, y, w with
// label smoothing s and the given dropout multipliers (nil for none),
// computed by the forward pass alone.
func objective(h *Head, x []float32, y []int, w []float32, s float64, drop []float32) float64 {
	n := len(y)
	a := h.newActivations(n)
	a.in = make([]float32, len(x))
	h.forward(x, n, a, drop)
	var sum float64
	for r := range n {
		l, _ := softmax(a.z[r*h.classes:(r+1)*h.classes], y[r], s)
		sum += float64(w[r]) * l
	}
	return sum / float64(n)
}

// hiddenPattern reports which hidden units are active for each sample, to
// tell when a finite difference straddles a ReLU kink.
func hiddenPattern(h *Head, x []float32, n int) []bool {
	if len(h.layers) == 1 {
		return nil
	}
	a := h.newActivations(n)
	h.forward(x, n, a, nil)
	p := make([]bool, len(a.hid))
	for i, v := range a.hid {
		p[i] = v > 0
	}
	return p
}

func TestGradientCheck(t *testing.T) {
	tests := []struct {
		name      string
		hidden    int
		dropout   float64
		smoothing float64
		weighted  bool
	}{
		{"hidden", 4, 0, 0, false},
		{"hidden, dropout, smoothing, weights", 4, 0.5, 0.1, true},
		{"linear", 0, 0, 0, false},
		{"linear, dropout, smoothing, weights", 0, 0.3, 0.2, true},
	}
	const inputs, classes, n = 5, 3, 7
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Hidden, cfg.Dropout, cfg.LabelSmoothing, cfg.Seed = tt.hidden, tt.dropout, tt.smoothing, 3
			h, err := New(inputs, classes, cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			for i := range h.layers {
				for j := range h.layers[i].b {
					h.layers[i].b[j] = float32(0.3 * rng.NormFloat64())
				}
			}
			x, y := blobs(7, n, inputs, classes, 1)
			w := make([]float32, n)
			for i := range w {
				w[i] = 1
				if tt.weighted {
					w[i] = float32(0.5 + rng.Float64())
				}
			}
			tr, err := NewTrainer(h, cfg, testEngine(t))
			if err != nil {
				t.Fatal(err)
			}
			loss, _ := tr.gradients(x, y, w)
			var drop []float32
			if tt.dropout > 0 {
				drop = tr.drop[:n*h.layers[len(h.layers)-1].in]
			}
			if want := objective(h, x, y, w, tt.smoothing, drop) * n; math.Abs(loss-want) > 1e-5*want {
				t.Fatalf("gradients returned loss sum %v, the forward pass gives %v", loss, want)
			}

			const step = 3e-3
			checked, skipped := 0, 0
			for i, p := range tr.params {
				g := slices.Clone(tr.grads[i])
				for k := range p {
					orig := p[k]
					p[k] = orig + step
					plus, patPlus := objective(h, x, y, w, tt.smoothing, drop), hiddenPattern(h, x, n)
					dp := float64(p[k])
					p[k] = orig - step
					minus, patMinus := objective(h, x, y, w, tt.smoothing, drop), hiddenPattern(h, x, n)
					dp -= float64(p[k])
					p[k] = orig
					if !slices.Equal(patPlus, patMinus) {
						skipped++
						continue
					}
					num := (plus - minus) / dp
					if d := math.Abs(float64(g[k]) - num); d > 5e-4+1e-2*math.Abs(num) {
						t.Errorf("param %d[%d]: gradient %v, finite difference %v", i, k, g[k], num)
					}
					checked++
				}
			}
			if skipped > checked/10 {
				t.Errorf("skipped %d weights at ReLU kinks, checked only %d", skipped, checked)
			}
		})
	}
}

func TestAdamFirstStep(t *testing.T) {
	// One sample, one input, a linear head: the bias gradient is p - onehot
	// and Keras's Adam moves each weight by
	// lr·√(1-β2)·g / (√(1-β2)·|g| + ε) on the first step.
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Dropout, cfg.BatchSize = 0, 0, 1
	h, _ := New(1, 2, cfg)
	x, y := []float32{0.7}, []int{1}
	p, _ := h.Predict(x)
	before := h.Layers()[0]
	tr, _ := NewTrainer(h, cfg, testEngine(t))
	if _, err := tr.Epoch(t.Context(), x, y, nil); err != nil {
		t.Fatal(err)
	}
	after := h.Layers()[0]
	c := math.Sqrt(1 - cfg.Beta2)
	for k := range 2 {
		g := float64(p[k])
		if k == y[0] {
			g--
		}
		for _, tc := range []struct {
			name          string
			before, after float32
			g             float64
		}{{"bias", before.Bias[k], after.Bias[k], g}, {"kernel", before.Kernel[k], after.Kernel[k], g * float64(x[0])}} {
			want := -cfg.LearningRate * c * tc.g / (c*math.Abs(tc.g) + cfg.Epsilon)
			got := float64(tc.after) - float64(tc.before)
			// Up to a rounding of the float32 weight.
			if math.Abs(got-want) > 1e-9+1.2e-7*math.Abs(float64(tc.before)) {
				t.Errorf("%s[%d] moved by %v, want %v", tc.name, k, got, want)
			}
		}
	}
}

func TestAdamFirstStepAllWeights(t *testing.T) {
	// Every weight's first step is lr·√(1-β2)·g / (√(1-β2)·|g| + ε) for its
	// gradient g, whatever layout the gradient is kept in. Wide enough for
	// several cache tiles and, with 2 or more procs, a parallel update.
	const inputs, classes, n = 600, 3, 40
	for _, hidden := range []int{0, 130} {
		cfg := DefaultConfig()
		cfg.Hidden, cfg.Dropout, cfg.BatchSize = hidden, 0, n
		h, _ := New(inputs, classes, cfg)
		x, y := blobs(12, n, inputs, classes, 1)
		tr, _ := NewTrainer(h, cfg, testEngine(t))
		ones := make([]float32, n)
		for i := range ones {
			ones[i] = 1
		}
		tr.gradients(x, y, ones)
		var grads [][]float32
		for _, g := range tr.grads {
			grads = append(grads, slices.Clone(g))
		}
		var before [][]float32
		for _, p := range tr.params {
			before = append(before, slices.Clone(p))
		}
		if _, err := tr.Epoch(t.Context(), x, y, nil); err != nil {
			t.Fatal(err)
		}
		c := math.Sqrt(1 - cfg.Beta2)
		checked := 0
		for i, p := range tr.params {
			for k, v := range p {
				g := float64(grads[i][k])
				if math.Abs(g) < 1e-5 {
					// The shuffled batch sums in another order; tiny
					// gradients may not keep their step.
					continue
				}
				want := -cfg.LearningRate * c * g / (c*math.Abs(g) + cfg.Epsilon)
				got := float64(v) - float64(before[i][k])
				if math.Abs(got-want) > 1e-7+1.2e-7*math.Abs(float64(before[i][k])) {
					t.Fatalf("hidden %d: param %d[%d] moved by %v, want %v", hidden, i, k, got, want)
				}
				checked++
			}
		}
		if checked < (inputs+1)*max(hidden, classes)/2 {
			t.Errorf("hidden %d: only %d weights had a gradient to check", hidden, checked)
		}
	}
}

func TestLearnsSeparable(t *testing.T) {
	const inputs, classes, nTrain, nTest = 20, 4, 400, 200
	x, y := blobs(11, nTrain+nTest, inputs, classes, 2)
	xTrain, yTrain := x[:nTrain*inputs], y[:nTrain]
	xTest, yTest := x[nTrain*inputs:], y[nTrain:]
	for _, hidden := range []int{0, 32} {
		cfg := DefaultConfig()
		cfg.Hidden, cfg.Dropout, cfg.LearningRate, cfg.Seed = hidden, 0.2, 3e-3, 1
		h, stats := train(t, cfg, inputs, classes, xTrain, yTrain, nil, 30)
		first, last := stats[0], stats[len(stats)-1]
		if last.Loss > first.Loss/5 {
			t.Errorf("hidden %d: training loss went from %v to %v, want a fifth or less", hidden, first.Loss, last.Loss)
		}
		if last.Accuracy < 0.99 {
			t.Errorf("hidden %d: training accuracy %v, want ≥ 0.99", hidden, last.Accuracy)
		}
		loss, acc, err := h.Evaluate(xTest, yTest, nil)
		if err != nil {
			t.Fatal(err)
		}
		if acc < 0.99 || loss > 0.1 {
			t.Errorf("hidden %d: test accuracy %v and loss %v, want ≥ 0.99 and ≤ 0.1", hidden, acc, loss)
		}
	}
}

// bits returns the bit patterns of all the head's weights.
func bits(h *Head) []uint32 {
	var b []uint32
	for _, l := range h.Layers() {
		for _, v := range append(l.Kernel, l.Bias...) {
			b = append(b, math.Float32bits(v))
		}
	}
	return b
}

func TestDeterministic(t *testing.T) {
	// Large enough that gonum multiplies in parallel and the Adam update is
	// split across goroutines; the last batch is partial.
	const inputs, classes, n = 256, 5, 150
	x, y := blobs(2, n, inputs, classes, 0.3)
	w, _ := SampleWeights(y, []float32{1, 2, 0.5, 1, 1})
	cfg := DefaultConfig()
	cfg.Hidden, cfg.LabelSmoothing, cfg.WeightDecay, cfg.Seed = 256, 0.1, 0.01, 42
	run := func(procs int, seed uint64) ([]uint32, []EpochStats) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		c := cfg
		c.Seed = seed
		h, stats := train(t, c, inputs, classes, x, y, w, 3)
		return bits(h), stats
	}
	base, baseStats := run(2, 42)
	for _, procs := range []int{2, 1, 4} {
		got, stats := run(procs, 42)
		if !slices.Equal(got, base) {
			t.Errorf("GOMAXPROCS %d: weights differ from the first run", procs)
		}
		if !slices.Equal(stats, baseStats) {
			t.Errorf("GOMAXPROCS %d: epoch stats %v, first run %v", procs, stats, baseStats)
		}
	}
	other, otherStats := run(2, 43)
	same := 0
	for i := range other {
		if other[i] == base[i] {
			same++
		}
	}
	if same > len(base)/100 {
		t.Errorf("seed 43 left %d of %d weights identical to seed 42's", same, len(base))
	}
	if slices.Equal(otherStats, baseStats) {
		t.Errorf("seed 43 gave the same epoch stats as seed 42")
	}
}

func TestEpochLoss(t *testing.T) {
	// With one batch and no dropout, the epoch's loss is the loss before
	// the update, which the probabilities give by hand:
	// mean of wᵢ·[-(1-s)·log pᵢ,y - s/C·Σ_c log pᵢ,c].
	const inputs, classes, n = 6, 3, 20
	x, y := blobs(4, n, inputs, classes, 1)
	tests := []struct {
		name      string
		smoothing float64
		weight    float32
	}{
		{"plain", 0, 1},
		{"smoothing 0.1", 0.1, 1},
		{"smoothing 0.5", 0.5, 1},
		{"weights 2", 0, 2},
		{"smoothing 0.1, weights 0.5", 0.1, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Hidden, cfg.Dropout, cfg.BatchSize, cfg.LabelSmoothing = 8, 0, n, tt.smoothing
			h, _ := New(inputs, classes, cfg)
			p, _ := h.Predict(x)
			w := make([]float32, n)
			var want, wantPlain float64
			correct := 0
			for i := range n {
				w[i] = tt.weight
				var l float64
				for c := range classes {
					q := tt.smoothing / classes
					if c == y[i] {
						q += 1 - tt.smoothing
					}
					l -= q * math.Log(float64(p[i*classes+c]))
				}
				want += float64(tt.weight) * l / n
				wantPlain -= float64(tt.weight) * math.Log(float64(p[i*classes+y[i]])) / n
				if slices.Index(p[i*classes:(i+1)*classes], slices.Max(p[i*classes:(i+1)*classes])) == y[i] {
					correct++
				}
			}
			evalLoss, _, _ := h.Evaluate(x, y, w)
			tr, _ := NewTrainer(h, cfg, testEngine(t))
			s, err := tr.Epoch(t.Context(), x, y, w)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(s.Loss-want) > 1e-5*want {
				t.Errorf("epoch loss %v, want %v", s.Loss, want)
			}
			if s.Accuracy != float64(correct)/n {
				t.Errorf("epoch accuracy %v, want %v", s.Accuracy, float64(correct)/n)
			}
			// Evaluate weighs but never smooths.
			if math.Abs(evalLoss-wantPlain) > 1e-5*wantPlain {
				t.Errorf("Evaluate loss %v, want %v", evalLoss, wantPlain)
			}
		})
	}
}

func TestLabelSmoothingCapsConfidence(t *testing.T) {
	// Smoothed cross-entropy is minimised by predicting the smoothed target,
	// 1-s+s/C for the true class, so training on separable data stops
	// short of certainty.
	const inputs, classes, n = 10, 4, 200
	x, y := blobs(8, n, inputs, classes, 3)
	meanMax := func(s float64) float64 {
		cfg := DefaultConfig()
		cfg.Hidden, cfg.Dropout, cfg.LearningRate, cfg.LabelSmoothing = 0, 0, 1e-2, s
		h, _ := train(t, cfg, inputs, classes, x, y, nil, 60)
		p, _ := h.Predict(x)
		var sum float64
		for r := range n {
			sum += float64(slices.Max(p[r*classes : (r+1)*classes]))
		}
		return sum / n
	}
	if got := meanMax(0); got < 0.98 {
		t.Errorf("without smoothing the mean top probability is %v, want ≥ 0.98", got)
	}
	target := 1 - 0.2 + 0.2/classes
	got := meanMax(0.2)
	t.Logf("mean top probability with smoothing 0.2: %.4f (target %.4f)", got, target)
	if math.Abs(got-target) > 0.05 {
		t.Errorf("with smoothing 0.2 the mean top probability is %v, want about %v", got, target)
	}
}

func TestWeightDecay(t *testing.T) {
	t.Run("decoupled step", func(t *testing.T) {
		// With zero sample weights the gradient is zero and so is Adam's
		// step: only the decay acts, on kernels and not on biases.
		cfg := DefaultConfig()
		cfg.Hidden, cfg.WeightDecay = 8, 0.5
		h, _ := New(4, 3, cfg)
		for i := range h.layers {
			for j := range h.layers[i].b {
				h.layers[i].b[j] = float32(j) + 0.5
			}
		}
		before := h.Layers()
		x, y := blobs(1, 10, 4, 3, 1)
		tr, _ := NewTrainer(h, cfg, testEngine(t))
		if _, err := tr.Epoch(t.Context(), x, y, make([]float32, 10)); err != nil {
			t.Fatal(err)
		}
		decay := float32(cfg.LearningRate * cfg.WeightDecay)
		for i, l := range h.Layers() {
			for k, v := range l.Kernel {
				if want := before[i].Kernel[k] - before[i].Kernel[k]*decay; v != want {
					t.Fatalf("layer %d kernel[%d] = %v, want %v", i, k, v, want)
				}
			}
			if !slices.Equal(l.Bias, before[i].Bias) {
				t.Errorf("layer %d bias changed from %v to %v", i, before[i].Bias, l.Bias)
			}
		}
	})
	t.Run("shrinks weights", func(t *testing.T) {
		const inputs, classes, n = 10, 3, 150
		x, y := blobs(9, n, inputs, classes, 2)
		run := func(wd float64) (norm, loss float64) {
			cfg := DefaultConfig()
			cfg.Hidden, cfg.Dropout, cfg.WeightDecay, cfg.LearningRate = 16, 0, wd, 1e-2
			h, _ := train(t, cfg, inputs, classes, x, y, nil, 20)
			for _, l := range h.Layers() {
				for _, v := range l.Kernel {
					norm += float64(v) * float64(v)
				}
			}
			loss, _, _ = h.Evaluate(x, y, nil)
			return math.Sqrt(norm), loss
		}
		norm0, loss0 := run(0)
		norm1, loss1 := run(5)
		t.Logf("kernel norm %.3f → %.3f, loss %.4f → %.4f", norm0, norm1, loss0, loss1)
		if norm1 > 0.8*norm0 {
			t.Errorf("kernel norm %v with decay, %v without: want clearly smaller", norm1, norm0)
		}
		if loss1 <= loss0 {
			t.Errorf("loss %v with decay, %v without: want the regularised head to fit less tightly", loss1, loss0)
		}
	})
}

func TestClassWeightsShiftDecisions(t *testing.T) {
	// Two overlapping classes, 9 to 1: unweighted, the head mostly predicts
	// the majority; balanced weights trade majority recall for minority
	// recall.
	const inputs, n = 2, 1000
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*inputs)
	y := make([]int, n)
	for i := range n {
		if i%10 == 0 {
			y[i] = 1
		}
		x[i*inputs] = float32(1.5*float64(y[i]) + rng.NormFloat64())
		x[i*inputs+1] = float32(rng.NormFloat64())
	}
	recall := func(w []float32) (minority, predictedMinority float64) {
		cfg := DefaultConfig()
		cfg.Hidden, cfg.Dropout, cfg.LearningRate = 0, 0, 1e-2
		h, _ := train(t, cfg, inputs, 2, x, y, w, 20)
		p, _ := h.Predict(x)
		hits, predicted := 0, 0
		for i := range n {
			if p[2*i+1] > p[2*i] {
				predicted++
				if y[i] == 1 {
					hits++
				}
			}
		}
		return float64(hits) / (n / 10), float64(predicted) / n
	}
	cw, err := BalancedClassWeights(y, 2)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := SampleWeights(y, cw)
	r0, p0 := recall(nil)
	r1, p1 := recall(w)
	t.Logf("minority recall %.2f → %.2f, predicted minority %.2f → %.2f", r0, r1, p0, p1)
	if r1 < r0+0.3 {
		t.Errorf("minority recall %v with balanced weights, %v without: want a clear gain", r1, r0)
	}
	if p1 <= p0 {
		t.Errorf("minority predicted for %v of samples with weights, %v without: want more", p1, p0)
	}
}

// countdown is a context that reports cancellation after its Err method has
// been called a given number of times.
type countdown struct {
	context.Context
	left int
}

func (c *countdown) Err() error {
	if c.left == 0 {
		return context.Canceled
	}
	c.left--
	return nil
}

func TestEpochCancel(t *testing.T) {
	const inputs, classes, n = 8, 3, 100 // 4 batches of 32, the last of 4
	x, y := blobs(1, n, inputs, classes, 1)
	cfg := DefaultConfig()
	cfg.Hidden = 8

	t.Run("before the first batch", func(t *testing.T) {
		h, _ := New(inputs, classes, cfg)
		before := bits(h)
		tr, _ := NewTrainer(h, cfg, testEngine(t))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := tr.Epoch(ctx, x, y, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("Epoch = %v, want context.Canceled", err)
		}
		if !slices.Equal(bits(h), before) {
			t.Errorf("a cancelled epoch changed the weights")
		}
	})
	t.Run("between batches", func(t *testing.T) {
		for batches := range 4 {
			h, _ := New(inputs, classes, cfg)
			tr, _ := NewTrainer(h, cfg, testEngine(t))
			ctx := &countdown{Context: t.Context(), left: batches}
			if _, err := tr.Epoch(ctx, x, y, nil); !errors.Is(err, context.Canceled) {
				t.Fatalf("Epoch = %v, want context.Canceled", err)
			}
			if tr.step != batches {
				t.Errorf("cancelled after %d batches, but %d updates were made", batches, tr.step)
			}
		}
		h, _ := New(inputs, classes, cfg)
		tr, _ := NewTrainer(h, cfg, testEngine(t))
		if _, err := tr.Epoch(&countdown{Context: t.Context(), left: 4}, x, y, nil); err != nil {
			t.Fatalf("Epoch = %v with a context that outlives its 4 batches", err)
		}
	})
	t.Run("deadline while running", func(t *testing.T) {
		// A full-size head: one batch takes milliseconds on a fast CPU and
		// tens of them on a shared one, so the epoch's 250 batches last far
		// longer than the 50 ms deadline anywhere. The epoch must stop at
		// the deadline rather than run to its end. (Wall-clock bounds are
		// left out: on a shared machine one batch can take a second.)
		const inputs, n, batches = 2048, 8000, 250
		x, y := benchData(n, inputs, classes)
		h, _ := New(inputs, classes, DefaultConfig())
		tr, _ := NewTrainer(h, DefaultConfig(), testEngine(t))
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := tr.Epoch(ctx, x, y, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Epoch = %v, want context.DeadlineExceeded", err)
		}
		t.Logf("returned after %v and %d of %d batches", time.Since(start), tr.step, batches)
		if tr.step >= batches {
			t.Errorf("Epoch ran all its batches despite the deadline")
		}
	})
}

func TestPartialBatches(t *testing.T) {
	const inputs, classes, n = 4, 2, 70
	x, y := blobs(1, n, inputs, classes, 1)
	cfg := DefaultConfig()
	cfg.Hidden = 4
	h, _ := New(inputs, classes, cfg)
	tr, _ := NewTrainer(h, cfg, testEngine(t))
	for epoch := 1; epoch <= 2; epoch++ {
		if _, err := tr.Epoch(t.Context(), x, y, nil); err != nil {
			t.Fatal(err)
		}
		if want := 3 * epoch; tr.step != want {
			t.Errorf("after epoch %d: %d updates, want %d (batches of 32, 32 and 6)", epoch, tr.step, want)
		}
	}
	// A smaller data set than a batch is one update.
	if _, err := tr.Epoch(t.Context(), x[:5*inputs], y[:5], nil); err != nil {
		t.Fatal(err)
	}
	if tr.step != 7 {
		t.Errorf("%d updates after an epoch of 5 samples, want 7", tr.step)
	}
}

// TestTrainersAgree trains the same head twice on the CPU: with the hidden
// layer's product and kernel gradient in the graph (as on an accelerator)
// and in the trainer's vector kernels (outer.go). Dropout, label smoothing,
// class weights, weight decay and a last batch of 6 (padded to 8 for the
// kernels) all take part; the two differ by float32 rounding only.
func TestTrainersAgree(t *testing.T) {
	if !haveVectorKernels {
		t.Skip("this CPU has no vector kernels (AVX2 and FMA): the trainer always keeps the hidden layer in the graph")
	}
	const inputs, classes, n = 64, 3, 102
	x, y := blobs(21, n, inputs, classes, 0.5)
	w, _ := SampleWeights(y, []float32{1, 2, 0.5})
	cfg := DefaultConfig()
	cfg.Hidden, cfg.LabelSmoothing, cfg.WeightDecay, cfg.Seed = 32, 0.1, 0.01, 4
	h1, _ := New(inputs, classes, cfg)
	h2 := h1.Clone()
	var stats [2][]EpochStats
	for i, tc := range []struct {
		h    *Head
		fuse bool
	}{{h1, false}, {h2, true}} {
		tr, err := newTrainer(tc.h, cfg, testEngine(t), tc.fuse)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		if tr.fused != tc.fuse {
			t.Fatalf("fuse %v: the trainer's fused is %v", tc.fuse, tr.fused)
		}
		for range 3 {
			s, err := tr.Epoch(t.Context(), x, y, w)
			if err != nil {
				t.Fatal(err)
			}
			stats[i] = append(stats[i], s)
		}
	}
	for e := range stats[0] {
		a, b := stats[0][e], stats[1][e]
		if math.Abs(a.Loss-b.Loss) > 1e-5*a.Loss || a.Accuracy != b.Accuracy {
			t.Errorf("epoch %d: in the graph %+v, fused %+v", e+1, a, b)
		}
	}
	for i, l1 := range h1.Layers() {
		l2 := h2.Layers()[i]
		for _, p := range []struct {
			name      string
			got, want []float32
		}{{"kernel", l2.Kernel, l1.Kernel}, {"bias", l2.Bias, l1.Bias}} {
			if r := mltest.RelL2(p.got, p.want); !(r <= 1e-5) {
				t.Errorf("layer %d %s after 3 epochs: relative L2 difference %.2g between the two, want ≤ 1e-5", i+1, p.name, r)
			}
		}
	}
}

// TestTrainerEvaluate checks the trainer's validation pass against the
// head's pure-Go one, on the fused and unfused graphs, with dropout, label
// smoothing (which validation ignores), class weights and a last batch that
// is partial and not a multiple of 4; and that validating between epochs
// leaves the training unchanged (it draws no dropout mask).
func TestTrainerEvaluate(t *testing.T) {
	const inputs, classes, n, nv = 256, 3, 96, 45
	x, y := blobs(8, n+nv, inputs, classes, 0.4)
	vx, vy := x[n*inputs:], y[n:]
	x, y = x[:n*inputs], y[:n]
	cw := []float32{1, 2, 0.5}
	w, _ := SampleWeights(y, cw)
	vw, _ := SampleWeights(vy, cw)
	cfg := DefaultConfig()
	cfg.Hidden, cfg.LabelSmoothing, cfg.Seed = 64, 0.1, 5
	for _, fuse := range []bool{true, false} {
		h, _ := New(inputs, classes, cfg)
		plain := h.Clone()
		tr, err := newTrainer(h, cfg, testEngine(t), fuse)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := newTrainer(plain, cfg, testEngine(t), fuse)
		if err != nil {
			t.Fatal(err)
		}
		for epoch := 1; epoch <= 3; epoch++ {
			if _, err := tr.Epoch(t.Context(), x, y, w); err != nil {
				t.Fatal(err)
			}
			if _, err := ref.Epoch(t.Context(), x, y, w); err != nil {
				t.Fatal(err)
			}
			loss, acc, err := tr.Evaluate(t.Context(), vx, vy, vw)
			if err != nil {
				t.Fatal(err)
			}
			wantLoss, wantAcc, _ := h.Evaluate(vx, vy, vw)
			if math.Abs(loss-wantLoss) > 1e-4*wantLoss || acc != wantAcc {
				t.Errorf("fused %v, epoch %d: Trainer.Evaluate gives loss %.6f, accuracy %.4f; Head.Evaluate %.6f, %.4f", tr.fused, epoch, loss, acc, wantLoss, wantAcc)
			}
		}
		if !slices.Equal(bits(h), bits(plain)) {
			t.Errorf("fused %v: validating between epochs changed the training", tr.fused)
		}
		tr.Close()
		ref.Close()
	}
}
