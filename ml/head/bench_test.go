package head

import (
	"context"
	"math/rand/v2"
	"testing"
)

// benchData returns n samples of InceptionV3-like features: non-negative
// (pooled ReLU outputs), some exactly zero, with labels in [0, classes).
func benchData(n, inputs, classes int) ([]float32, []int) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*inputs)
	for i := range x {
		if v := rng.NormFloat64(); v > -0.5 {
			x[i] = float32(v + 0.5)
		}
	}
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(classes)
	}
	return x, y
}

// BenchmarkEpoch7000 times one epoch of the default head over 7,000
// samples of 2,048 features and 10 classes: the target is ≤ 1 s on
// 2 cores.
func BenchmarkEpoch7000(b *testing.B) {
	benchEpoch(b, 7000)
}

// BenchmarkEpoch1000 times one epoch of the default head (hidden 1024,
// dropout 0.5, batch 32) over 1,000 samples of 2,048 features and 10
// classes.
func BenchmarkEpoch1000(b *testing.B) {
	benchEpoch(b, 1000)
}

// benchTrainer returns n samples of benchData with 2,048 features and 10
// classes, and a trainer of the default head for them.
func benchTrainer(b *testing.B, n int) ([]float32, []int, *Trainer) {
	const inputs, classes = 2048, 10
	x, y := benchData(n, inputs, classes)
	cfg := DefaultConfig()
	h, err := New(inputs, classes, cfg)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewTrainer(h, cfg, testEngine(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tr.Close() })
	return x, y, tr
}

func benchEpoch(b *testing.B, n int) {
	x, y, tr := benchTrainer(b, n)
	ctx := context.Background()
	for b.Loop() {
		if _, err := tr.Epoch(ctx, x, y, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/epoch")
}

// BenchmarkPredict times predicting 1,000 samples of 2,048 features with the
// default head and 10 classes.
func BenchmarkPredict(b *testing.B) {
	const n, inputs, classes = 1000, 2048, 10
	x, _ := benchData(n, inputs, classes)
	h, err := New(inputs, classes, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := h.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkValidate times what a real run's head epoch adds to the
// epoch: the validation loss over 250 samples (a fifth of a 1,250-photo
// folder), by the head's pure-Go forward pass ("gonum", what validation
// used before) and by the trainer's own ("trainer").
func BenchmarkValidate(b *testing.B) {
	x, y, tr := benchTrainer(b, 250)
	h := tr.Head()
	b.Run("gonum", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := h.Evaluate(x, y, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("trainer", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := tr.Evaluate(b.Context(), x, y, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
