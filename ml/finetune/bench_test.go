package finetune

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
)

// BenchmarkEpoch times fine-tuning steps on the offline backbone (batches
// of 32 random activations, the default head of 1,024 hidden units, 10
// classes) and reports the seconds of one epoch per 1,000 photos, and the
// process's peak memory, which does not depend on the number of photos:
// activations stream batch by batch. steps=host updates the weights in Go
// (weights in and gradients out every step), steps=device inside the
// graph, with the weights kept in the runtime's memory.
func BenchmarkEpoch(b *testing.B) {
	f := setup(b)
	for _, blocks := range []int{1, 2} {
		for _, steps := range []string{StepsHost, StepsDevice} {
			b.Run(fmt.Sprintf("blocks=%d/steps=%s", blocks, steps), func(b *testing.B) {
				cfg := head.DefaultConfig()
				h, err := head.New(inception.Features, 10, cfg)
				if err != nil {
					b.Fatal(err)
				}
				mean, scale := identity()
				c := DefaultConfig()
				c.Blocks, c.Steps = blocks, steps
				tr, err := NewTrainer(f.w, h, mean, scale, c, cpu(f.rt))
				if err != nil {
					b.Fatal(err)
				}
				defer tr.Close()
				rng := rand.New(rand.NewPCG(1, 2))
				acts := make([]float32, Dim)
				for i := range acts {
					acts[i] = rng.Float32()
				}
				load := func(_ context.Context, idx []int, dst []float32) error {
					for k := range idx {
						copy(dst[k*Dim:], acts)
					}
					return nil
				}
				const n = 64 // two steps per iteration
				y := make([]int, n)
				for i := range y {
					y[i] = i % 10
				}
				for b.Loop() {
					if _, err := tr.Epoch(b.Context(), load, y, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*n)*1000, "s/epoch/1000photos")
				var ru syscall.Rusage
				if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
					b.ReportMetric(float64(ru.Maxrss)/1024, "peakMB")
				}
			})
		}
	}
}

// BenchmarkUpdate times the Go side of a host step alone: SGD's update of
// every trained weight, with the next step's folded and flipped kernels,
// on 1 and 2 goroutines. It runs between the steps' runs, so its time adds
// to every step's.
func BenchmarkUpdate(b *testing.B) {
	f := setup(b)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			h, err := head.New(inception.Features, 10, head.DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			mean, scale := identity()
			c := DefaultConfig()
			c.Steps = StepsHost
			eng := cpu(f.rt)
			eng.Options.Threads = threads
			tr, err := NewTrainer(f.w, h, mean, scale, c, eng)
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			rng := rand.New(rand.NewPCG(3, 4))
			for _, g := range tr.grads {
				for i := range g {
					g[i] = float32(rng.NormFloat64())
				}
			}
			for b.Loop() {
				tr.update()
			}
		})
	}
}
