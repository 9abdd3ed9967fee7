package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/finetune"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/train"
)

type benchResult struct {
	Backbone          string             `json:"backbone"`
	Device            string             `json:"device"`
	CPUs              int                `json:"cpus"`
	InferencePerSec   map[string]float64 `json:"inference_images_per_second"`
	EndToEndPerSec    float64            `json:"end_to_end_images_per_second,omitempty"`
	EndToEndImages    int                `json:"end_to_end_images,omitempty"`
	EpochSecondsPer1k float64            `json:"head_epoch_seconds_per_1000_images"`
	// FineTuneSecondsPer1k is one fine-tuning epoch (mixed9, mixed10 and
	// the head) per 1,000 photos, from the measured step rate.
	FineTuneSecondsPer1k float64 `json:"fine_tune_epoch_seconds_per_1000_images"`
	PeakRSSBytes         int64   `json:"peak_rss_bytes"`
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := e.flags("bench", "[--data PHOTOS/] [options]")
	var ef engineFlags
	ef.add(fs, true)
	data := fs.String("data", "", "photo folder for the end-to-end measurement (its photos, not its labels)")
	seconds := fs.Float64("seconds", 5, "seconds to measure each inference batch size")
	format := fs.String("format", "table", "output format: table or json")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	eng, err := e.openEngine(ctx, &ef)
	if err != nil {
		return err
	}
	defer eng.Close()
	r := benchResult{Backbone: eng.Backbone.ID, Device: eng.Device(), CPUs: runtime.NumCPU(), InferencePerSec: map[string]float64{}}

	// Raw inference: the backbone alone on ready tensors.
	for _, batch := range []int{1, 8, 32} {
		in := make([]float32, batch*inception.Size*inception.Size*3)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range in {
			in[i] = float32(rng.IntN(256))
		}
		shape := []int64{int64(batch), inception.Size, inception.Size, 3}
		if _, err := eng.Session.Run(ctx, in, shape...); err != nil { // warm-up
			return err
		}
		n, start := 0, time.Now()
		for time.Since(start).Seconds() < *seconds || n == 0 {
			if _, err := eng.Session.Run(ctx, in, shape...); err != nil {
				return err
			}
			n += batch
		}
		r.InferencePerSec[fmt.Sprint(batch)] = float64(n) / time.Since(start).Seconds()
		fmt.Fprintf(e.stderr, "inference, batch %2d: %.1f images/s\n", batch, r.InferencePerSec[fmt.Sprint(batch)])
	}

	// End to end: decoding, resizing and inference from photo files.
	feats := make([]float32, 0)
	if *data != "" {
		paths, _, err := app.ListPhotos(ctx, []string{*data})
		if err != nil {
			return err
		}
		items := make([]features.Item, len(paths))
		for i, p := range paths {
			items[i] = features.Item{Path: p}
		}
		x := eng.Extractor(false)
		start := time.Now()
		res, err := x.Extract(ctx, items, nil)
		if err != nil {
			return err
		}
		r.EndToEndImages = len(items)
		r.EndToEndPerSec = float64(len(items)) / time.Since(start).Seconds()
		fmt.Fprintf(e.stderr, "end to end from %d photo files: %.1f images/s\n", len(items), r.EndToEndPerSec)
		for i := range items {
			if res.Errs[i] == nil {
				feats = append(feats, res.Row(i)...)
			}
		}
	}

	// Head training on 1,000 feature vectors (the photos' own, repeated,
	// or random ones without --data), 10 classes.
	const n, classes = 1000, 10
	x := make([]float32, n*features.Dim)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range x {
		if len(feats) > 0 {
			x[i] = feats[i%len(feats)]
		} else {
			x[i] = rng.Float32()
		}
	}
	y := make([]int, n)
	for i := range y {
		y[i] = i % classes
	}
	o := train.DefaultOptions()
	cfg := head.DefaultConfig()
	cfg.Hidden, cfg.Seed = o.Hidden, 1
	h, err := head.New(features.Dim, classes, cfg)
	if err != nil {
		return err
	}
	heng := head.Engine{Runtime: eng.Runtime, Provider: eng.Session.Provider()}
	tr, err := head.NewTrainer(h, cfg, heng)
	if err != nil {
		return err
	}
	defer tr.Close()
	const epochs = 3
	start := time.Now()
	for range epochs {
		if _, err := tr.Epoch(ctx, x, y, nil); err != nil {
			return err
		}
	}
	r.EpochSecondsPer1k = time.Since(start).Seconds() / epochs
	fmt.Fprintf(e.stderr, "head training: %.2f s per epoch per 1,000 images\n", r.EpochSecondsPer1k)
	if r.FineTuneSecondsPer1k, err = benchFineTune(ctx, e, eng, h, heng); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "fine-tuning: %.0f s per epoch per 1,000 images\n", r.FineTuneSecondsPer1k)
	r.PeakRSSBytes = peakRSS()

	if *format == "json" {
		return writeJSON(e.stdout, r)
	}
	fmt.Fprintf(e.stdout, "Backbone %s on %s, %d CPUs\n", r.Backbone, r.Device, r.CPUs)
	for _, b := range []string{"1", "8", "32"} {
		fmt.Fprintf(e.stdout, "  inference, batch %-2s         %7.1f images/s\n", b, r.InferencePerSec[b])
	}
	if r.EndToEndImages > 0 {
		fmt.Fprintf(e.stdout, "  end to end (%d photos)   %7.1f images/s\n", r.EndToEndImages, r.EndToEndPerSec)
	}
	fmt.Fprintf(e.stdout, "  head training               %7.2f s per epoch per 1,000 images\n", r.EpochSecondsPer1k)
	fmt.Fprintf(e.stdout, "  fine-tuning (2 blocks)      %7.0f s per epoch per 1,000 images\n", r.FineTuneSecondsPer1k)
	if r.PeakRSSBytes > 0 {
		fmt.Fprintf(e.stdout, "  peak memory                 %7s\n", formatBytes(r.PeakRSSBytes))
	}
	return nil
}

// benchFineTune times fine-tuning steps (mixed9, mixed10 and the head h, a
// batch of 32 random activations each) and returns the seconds one epoch
// over 1,000 photos takes at that rate.
func benchFineTune(ctx context.Context, e *env, eng *app.Engine, h *head.Head, heng head.Engine) (float64, error) {
	w, err := e.app.Backbones.Weights(eng.Backbone)
	if err != nil {
		return 0, err
	}
	mean, scale := make([]float32, features.Dim), make([]float32, features.Dim)
	for i := range scale {
		scale[i] = 1
	}
	tr, err := finetune.NewTrainer(w, h, mean, scale, finetune.DefaultConfig(), heng)
	if err != nil {
		return 0, err
	}
	defer tr.Close()
	const n = 96 // 3 steps of 32
	acts := make([]float32, finetune.Dim)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range acts {
		acts[i] = rng.Float32()
	}
	load := func(_ context.Context, idx []int, dst []float32) error {
		for k := range idx {
			copy(dst[k*finetune.Dim:], acts)
		}
		return nil
	}
	y := make([]int, n)
	for i := range y {
		y[i] = i % h.Classes()
	}
	start := time.Now()
	if _, err := tr.Epoch(ctx, load, y, nil); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds() / n * 1000, nil
}
