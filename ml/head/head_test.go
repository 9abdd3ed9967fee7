package head

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // substring of the error; "" for none
	}{
		{"default", func(*Config) {}, ""},
		{"linear head", func(c *Config) { c.Hidden = 0 }, ""},
		{"no dropout", func(c *Config) { c.Dropout = 0 }, ""},
		{"negative hidden", func(c *Config) { c.Hidden = -1 }, "Hidden"},
		{"dropout 1", func(c *Config) { c.Dropout = 1 }, "Dropout"},
		{"negative dropout", func(c *Config) { c.Dropout = -0.1 }, "Dropout"},
		{"NaN dropout", func(c *Config) { c.Dropout = math.NaN() }, "Dropout"},
		{"zero learning rate", func(c *Config) { c.LearningRate = 0 }, "LearningRate"},
		{"infinite learning rate", func(c *Config) { c.LearningRate = math.Inf(1) }, "LearningRate"},
		{"zero batch", func(c *Config) { c.BatchSize = 0 }, "BatchSize"},
		{"smoothing 1", func(c *Config) { c.LabelSmoothing = 1 }, "LabelSmoothing"},
		{"negative decay", func(c *Config) { c.WeightDecay = -1e-4 }, "WeightDecay"},
		{"beta1 1", func(c *Config) { c.Beta1 = 1 }, "Beta1"},
		{"beta2 negative", func(c *Config) { c.Beta2 = -0.5 }, "Beta2"},
		{"zero epsilon", func(c *Config) { c.Epsilon = 0 }, "Epsilon"},
		{"zero value", func(c *Config) { *c = Config{} }, "LearningRate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.modify(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error about %s", err, tt.want)
			}
			if _, err := New(4, 2, c); err == nil {
				t.Errorf("New accepted the config")
			}
			h, _ := New(4, 2, DefaultConfig())
			if _, err := NewTrainer(h, c, testEngine(t)); err == nil {
				t.Errorf("NewTrainer accepted the config")
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name                    string
		inputs, classes, hidden int
		want                    string
	}{
		{"hidden", 30, 4, 20, ""},
		{"linear", 30, 4, 0, ""},
		{"no inputs", 0, 4, 20, "inputs"},
		{"one class", 30, 1, 20, "classes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Hidden = tt.hidden
			h, err := New(tt.inputs, tt.classes, cfg)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("New() error = %v, want one about %s", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Inputs() != tt.inputs || h.Classes() != tt.classes || h.Hidden() != tt.hidden {
				t.Fatalf("shape %d→%d→%d, want %d→%d→%d", h.Inputs(), h.Hidden(), h.Classes(), tt.inputs, tt.hidden, tt.classes)
			}
			layers := h.Layers()
			wantLayers := 2
			if tt.hidden == 0 {
				wantLayers = 1
			}
			if len(layers) != wantLayers {
				t.Fatalf("%d layers, want %d", len(layers), wantLayers)
			}
			for i, l := range layers {
				// Glorot uniform: within ±√(6/(in+out)), spread over
				// most of that range; zero biases.
				limit := float32(math.Sqrt(6 / float64(l.In+l.Out)))
				lo, hi := slices.Min(l.Kernel), slices.Max(l.Kernel)
				if lo < -limit || hi > limit || lo > -limit/2 || hi < limit/2 {
					t.Errorf("layer %d kernel in [%v, %v], want spread over ±%v", i, lo, hi, limit)
				}
				if slices.ContainsFunc(l.Bias, func(b float32) bool { return b != 0 }) {
					t.Errorf("layer %d bias %v, want zeros", i, l.Bias)
				}
			}
		})
	}
}

// tinyLayers returns a hand-written 2→2→3 head: hidden = relu(x·K1 + b1),
// logits = hidden·K2 + b2.
func tinyLayers() []Dense {
	return []Dense{
		{In: 2, Out: 2, Activation: ActivationReLU,
			Kernel: []float32{1, -1, 2, 0.5}, // rows: input 0, input 1
			Bias:   []float32{0, 0.5}},
		{In: 2, Out: 3, Activation: ActivationSoftmax,
			Kernel: []float32{1, 0, -1, 0, 2, 1},
			Bias:   []float32{0.1, 0, -0.1}},
	}
}

func TestFromLayersValidation(t *testing.T) {
	tests := []struct {
		name   string
		modify func([]Dense) []Dense
		want   string
	}{
		{"valid", func(l []Dense) []Dense { return l }, ""},
		{"output layer only", func(l []Dense) []Dense { return l[1:] }, ""},
		{"no layers", func(l []Dense) []Dense { return nil }, "0 layers"},
		{"three layers", func(l []Dense) []Dense { return append(l, l[1]) }, "3 layers"},
		{"softmax hidden", func(l []Dense) []Dense { l[0].Activation = ActivationSoftmax; return l }, `activation "softmax"`},
		{"linear output", func(l []Dense) []Dense { l[1].Activation = "linear"; return l }, `activation "linear"`},
		{"chain mismatch", func(l []Dense) []Dense {
			l[1].In, l[1].Kernel = 3, make([]float32, 9)
			return l
		}, "layer 2 has 3 inputs but layer 1 has 2 outputs"},
		{"short kernel", func(l []Dense) []Dense { l[0].Kernel = l[0].Kernel[:3]; return l }, "kernel has 3 values, want 2×2"},
		{"long bias", func(l []Dense) []Dense { l[1].Bias = append(l[1].Bias, 0); return l }, "bias has 4 values, want 3"},
		{"zero width", func(l []Dense) []Dense { l[0].In, l[0].Kernel = 0, nil; return l }, "positive widths"},
		{"overflowing shape", func(l []Dense) []Dense { l[0].In = math.MaxInt/2 + 1; return l }, "kernel has 4 values"},
		{"NaN kernel", func(l []Dense) []Dense { l[1].Kernel[4] = float32(math.NaN()); return l }, "layer 2 kernel[1][1] is NaN"},
		{"infinite bias", func(l []Dense) []Dense { l[0].Bias[1] = float32(math.Inf(-1)); return l }, "layer 1 bias[1] is -Inf"},
		{"one class", func(l []Dense) []Dense {
			l[1].Out, l[1].Kernel, l[1].Bias = 1, []float32{1, 1}, []float32{0}
			return l
		}, "1 classes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromLayers(tt.modify(tinyLayers()))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("FromLayers() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("FromLayers() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestPredictByHand(t *testing.T) {
	h, err := FromLayers(tinyLayers())
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2, -3, 1}
	// Sample 0: hidden = relu([1·1+2·2, 1·-1+2·0.5+0.5]) = [5, 0.5];
	// logits = [5+0.1, 0.5·2, -5+0.5-0.1] = [5.1, 1, -4.6].
	// Sample 1: hidden = relu([-3+2, 3+0.5+0.5]) = [0, 4];
	// logits = [0.1, 8, 4-0.1] = [0.1, 8, 3.9].
	logits := [][]float64{{5.1, 1, -4.6}, {0.1, 8, 3.9}}
	got, err := h.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("Predict returned %d values, want 6", len(got))
	}
	for r, z := range logits {
		var sum float64
		for _, v := range z {
			sum += math.Exp(v)
		}
		for c, v := range z {
			want := math.Exp(v) / sum
			if d := math.Abs(float64(got[r*3+c]) - want); d > 1e-6 {
				t.Errorf("p[%d][%d] = %v, want %v", r, c, got[r*3+c], want)
			}
		}
	}

	if _, err := h.Predict(x[:3]); err == nil {
		t.Errorf("Predict accepted 3 values for samples of 2 features")
	}
	if p, err := h.Predict(nil); err != nil || len(p) != 0 {
		t.Errorf("Predict(nil) = %v, %v; want no probabilities and no error", p, err)
	}
}

func TestPredictStable(t *testing.T) {
	// Logits of ±1e30 overflow a naive exp; log-sum-exp keeps them finite.
	l := Dense{In: 1, Out: 3, Activation: ActivationSoftmax, Kernel: []float32{1e30, -1e30, 1e30}, Bias: make([]float32, 3)}
	h, err := FromLayers([]Dense{l})
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Predict([]float32{1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0.5, 0, 0.5}; !slices.Equal(p, want) {
		t.Errorf("Predict = %v, want %v", p, want)
	}
	loss, acc, err := h.Evaluate([]float32{1, 1}, []int{0, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Sample 0: -log 0.5; sample 1: logit 2e30 below the maximum.
	if want := (math.Ln2 + 2e30 + math.Ln2) / 2; math.Abs(loss-want) > 1e-6*want {
		t.Errorf("loss = %v, want %v", loss, want)
	}
	if acc != 0.5 {
		t.Errorf("accuracy = %v, want 0.5 (ties go to the first class)", acc)
	}
}

func TestPredictManyRows(t *testing.T) {
	// More rows than one chunk, and not a multiple of it: the result must
	// equal row-by-row prediction.
	cfg := DefaultConfig()
	cfg.Hidden = 16
	h, err := New(8, 3, cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := 2*chunkRows + 7
	x, _ := blobs(1, n, 8, 3, 1)
	all, err := h.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for r := range n {
		one, err := h.Predict(x[r*8 : (r+1)*8])
		if err != nil {
			t.Fatal(err)
		}
		for c := range 3 {
			if d := math.Abs(float64(one[c] - all[r*3+c])); d > 1e-6 {
				t.Fatalf("row %d class %d: %v in a batch, %v alone", r, c, all[r*3+c], one[c])
			}
			sum += float64(one[c])
		}
	}
	if math.Abs(sum-float64(n)) > 1e-4 {
		t.Errorf("probabilities sum to %v over %d rows, want %d", sum, n, n)
	}
}

func TestLayersRoundTrip(t *testing.T) {
	for _, hidden := range []int{0, 12} {
		cfg := DefaultConfig()
		cfg.Hidden = hidden
		h, err := New(6, 4, cfg)
		if err != nil {
			t.Fatal(err)
		}
		layers := h.Layers()
		h2, err := FromLayers(layers)
		if err != nil {
			t.Fatalf("hidden %d: FromLayers(Layers()) = %v", hidden, err)
		}
		x, _ := blobs(2, 5, 6, 4, 1)
		p1, _ := h.Predict(x)
		p2, _ := h2.Predict(x)
		if !slices.Equal(p1, p2) {
			t.Errorf("hidden %d: predictions differ after a round trip", hidden)
		}
		// The slices are copies in both directions.
		layers[0].Kernel[0] += 1
		if p3, _ := h2.Predict(x); !slices.Equal(p1, p3) {
			t.Errorf("hidden %d: FromLayers aliases the caller's kernel", hidden)
		}
		h.Layers()[0].Kernel[0] += 1
		if p3, _ := h.Predict(x); !slices.Equal(p1, p3) {
			t.Errorf("hidden %d: Layers exposes the head's kernel", hidden)
		}
	}
}

func TestCloneCopyFrom(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Hidden = 8
	h, _ := New(5, 3, cfg)
	best := h.Clone()
	x, y := blobs(3, 40, 5, 3, 3)
	tr, _ := NewTrainer(h, cfg, testEngine(t))
	if _, err := tr.Epoch(t.Context(), x, y, nil); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(h.Layers()[0].Kernel, best.Layers()[0].Kernel) {
		t.Fatal("training changed nothing, or the clone shares the weights")
	}
	if err := h.CopyFrom(best); err != nil {
		t.Fatal(err)
	}
	for i, l := range h.Layers() {
		b := best.Layers()[i]
		if !slices.Equal(l.Kernel, b.Kernel) || !slices.Equal(l.Bias, b.Bias) {
			t.Errorf("layer %d differs after CopyFrom", i)
		}
	}
	// The trainer still trains the restored head.
	before := h.Layers()[1].Kernel
	if _, err := tr.Epoch(t.Context(), x, y, nil); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(before, h.Layers()[1].Kernel) {
		t.Errorf("the trainer no longer updates the head after CopyFrom")
	}

	other := cfg
	other.Hidden = 9
	o, _ := New(5, 3, other)
	if err := h.CopyFrom(o); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("CopyFrom of another shape: %v, want a shape error", err)
	}
	other.Hidden = 0
	o, _ = New(5, 3, other)
	if err := h.CopyFrom(o); err == nil || !strings.Contains(err.Error(), "layers") {
		t.Errorf("CopyFrom of a linear head: %v, want a layer count error", err)
	}
}

func TestSampleValidation(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Hidden = 4
	h, _ := New(2, 3, cfg)
	tr, _ := NewTrainer(h, cfg, testEngine(t))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name string
		x    []float32
		y    []int
		w    []float32
		want string
	}{
		{"empty", nil, nil, nil, "no samples"},
		{"short features", []float32{1, 2, 3}, []int{0, 1}, nil, "3 feature values for 2 samples of 2 features, want 4"},
		{"label too large", []float32{1, 2, 3, 4}, []int{0, 3}, nil, "sample 1 has label 3"},
		{"negative label", []float32{1, 2, 3, 4}, []int{-1, 0}, nil, "sample 0 has label -1"},
		{"weights length", []float32{1, 2, 3, 4}, []int{0, 1}, []float32{1}, "1 sample weights for 2 samples"},
		{"NaN feature", []float32{1, 2, 3, nan}, []int{0, 1}, nil, "sample 1 feature 1 is NaN"},
		{"infinite feature", []float32{inf, 2, 3, 4}, []int{0, 1}, nil, "sample 0 feature 0 is +Inf"},
		{"negative weight", []float32{1, 2, 3, 4}, []int{0, 1}, []float32{1, -1}, "sample 1 has weight -1"},
		{"NaN weight", []float32{1, 2, 3, 4}, []int{0, 1}, []float32{nan, 1}, "sample 0 has weight NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.Layers()
			_, err := tr.Epoch(t.Context(), tt.x, tt.y, tt.w)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Epoch() error = %v, want one containing %q", err, tt.want)
			}
			if !slices.Equal(before[0].Kernel, h.Layers()[0].Kernel) {
				t.Errorf("Epoch changed the weights before failing")
			}
			if _, _, err := h.Evaluate(tt.x, tt.y, tt.w); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Evaluate() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := tr.Epoch(t.Context(), nil, nil, nil); !errors.Is(err, ErrNoSamples) {
		t.Errorf("Epoch with no samples = %v, want ErrNoSamples", err)
	}
}

func TestBalancedClassWeights(t *testing.T) {
	tests := []struct {
		name    string
		y       []int
		classes int
		want    []float32
		wantErr string
	}{
		{"balanced", []int{0, 1, 0, 1}, 2, []float32{1, 1}, ""},
		// 4 samples, 2 classes: 4/(2·3) and 4/(2·1).
		{"three to one", []int{0, 0, 1, 0}, 2, []float32{float32(4.0 / 6), 2}, ""},
		// 6 samples, 2 of 3 classes present: 6/(2·5), 6/(2·1), 0.
		{"absent class", []int{0, 0, 1, 0, 0, 0}, 3, []float32{0.6, 3, 0}, ""},
		{"no samples", nil, 2, nil, "no samples"},
		{"bad label", []int{0, 2}, 2, nil, "sample 1 has label 2"},
		{"no classes", []int{0}, 0, nil, "0 classes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BalancedClassWeights(tt.y, tt.classes)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("BalancedClassWeights = %v, want %v", got, tt.want)
			}
			sw, err := SampleWeights(tt.y, got)
			if err != nil {
				t.Fatal(err)
			}
			// The weights average to 1 over the samples.
			var sum float64
			for i, w := range sw {
				if w != got[tt.y[i]] {
					t.Fatalf("sample %d weight %v, want its class's %v", i, w, got[tt.y[i]])
				}
				sum += float64(w)
			}
			if math.Abs(sum/float64(len(sw))-1) > 1e-6 {
				t.Errorf("sample weights average %v, want 1", sum/float64(len(sw)))
			}
		})
	}
	if _, err := SampleWeights([]int{0, 3}, []float32{1, 1}); err == nil {
		t.Errorf("SampleWeights accepted a label without a class weight")
	}
}
