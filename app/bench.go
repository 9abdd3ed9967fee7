package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/finetune"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/train"
)

// BenchOptions configure a speed test.
type BenchOptions struct {
	// Engine chooses the runtime, backbone, threads and, without
	// Providers, the provider to measure.
	Engine EngineOptions
	// Providers, when set, measures each of these providers in turn, each
	// required to run the whole model (no fallback to the CPU), and
	// reports those that cannot with their reason.
	Providers []onnxrt.Provider
	// Batches are the batch sizes to measure; nil means 1, 8 and 32.
	Batches []int
	// Seconds is how long to measure each batch size on each provider
	// (at least one run), and the end-to-end rate (at least one pass over
	// Data's photos), in all: each is measured in benchRounds slices,
	// taken in turn; 0 means 5.
	Seconds float64
	// Data is a photo folder for the end-to-end measurement (decoding,
	// resizing and inference from files); empty skips it.
	Data string
	// Head measures training the classifier head on 1,000 feature
	// vectors.
	Head bool
	// FineTune measures fine-tuning steps (mixed9, mixed10 and the head),
	// with Head.
	FineTune bool
	// FineTuneSteps says where the fine-tuning steps' update runs
	// (finetune.Config.Steps: auto, device or host); empty means auto.
	FineTuneSteps string
}

// BenchProgress reports a speed test's progress.
type BenchProgress struct {
	// Provider is being measured, at batch size Batch (0 while it opens).
	Provider onnxrt.Provider
	Batch    int
	// Done of Total measurements are finished.
	Done, Total int
	// Fraction is how far the current measurement is, from 0 to 1, and
	// Rate its images per second so far (0 before the first timed run).
	Fraction, Rate float64
	// Row is the measurement just finished, or nil.
	Row *BenchRow
}

// BenchRow is one provider's inference speed.
type BenchRow struct {
	// Provider is the provider asked for.
	Provider onnxrt.Provider `json:"provider"`
	// RunsOn says what really ran; nil when the session could not open.
	RunsOn *RunsOn `json:"runs_on,omitempty"`
	// Error says why the provider could not be measured.
	Error string `json:"error,omitempty"`
	// ImagesPerSec maps a batch size ("8") to backbone images per second
	// on ready tensors.
	ImagesPerSec map[string]float64 `json:"inference_images_per_second,omitempty"`
	// EndToEndPerSec is images per second from photo files, with Data
	// (passes over them for BenchOptions.Seconds).
	EndToEndPerSec float64 `json:"end_to_end_images_per_second,omitempty"`
	// CPUMsPerImage maps a batch size to the process's CPU time per image
	// of the inference alone, and EndToEndCPUMs is the CPU time per photo
	// from the files. On a shared machine they are steadier than the
	// rates: on a CPU provider, the end-to-end rate of an otherwise idle
	// machine is about the model alone's times their ratio.
	CPUMsPerImage map[string]float64 `json:"inference_cpu_ms_per_image,omitempty"`
	EndToEndCPUMs float64            `json:"end_to_end_cpu_ms_per_photo,omitempty"`
}

// Best returns the row's highest images/s over batch sizes, or 0.
func (r BenchRow) Best() float64 {
	best := 0.0
	for _, v := range r.ImagesPerSec {
		best = max(best, v)
	}
	return best
}

// BenchResult is a speed test's outcome.
type BenchResult struct {
	Backbone string `json:"backbone"`
	// Precision is the image model's arithmetic (float or int8) and
	// PrecisionReason why it was chosen.
	Precision       Precision `json:"precision"`
	PrecisionReason string    `json:"precision_reason,omitempty"`
	CPUs            int       `json:"cpus"`
	Batches         []int     `json:"batch_sizes"`
	// Rows has one row per provider measured, in order.
	Rows []BenchRow `json:"providers"`
	// EndToEndImages is the number of photo files in Data.
	EndToEndImages int `json:"end_to_end_images,omitempty"`
	// EpochSecondsPer1k is the time one training epoch of the head takes
	// per 1,000 images, with Head.
	EpochSecondsPer1k float64 `json:"head_epoch_seconds_per_1000_images,omitempty"`
	// FineTuneSecondsPer1k is one fine-tuning epoch (mixed9, mixed10 and
	// the head) per 1,000 photos, from the measured step rate, with
	// FineTune.
	FineTuneSecondsPer1k float64 `json:"fine_tune_epoch_seconds_per_1000_images,omitempty"`
	// FineTuneCPUSecondsPer1k is the process's CPU time (every thread,
	// user and system) over the same steps, per 1,000 photos: on a
	// machine shared with other work it moves less than the wall clock.
	// Zero where the system does not report it.
	FineTuneCPUSecondsPer1k float64 `json:"fine_tune_cpu_seconds_per_1000_images,omitempty"`
	// FineTuneOnDevice says that the fine-tuning steps kept the weights
	// and the optimiser's state in the provider's memory (updated inside
	// the graph) rather than copying them through Go each step.
	FineTuneOnDevice bool `json:"fine_tune_weights_on_device,omitempty"`
	// FineTuneDeviceNote says why the weights were not kept on the device
	// where they were meant to be.
	FineTuneDeviceNote string `json:"fine_tune_device_note,omitempty"`
	// Decode is the CPU side's speed on Data's photos, one row per JPEG
	// decoder this build has: reading, decoding and shrinking to the
	// backbone's input, per core.
	Decode []DecodeRow `json:"decode,omitempty"`
}

// Bench measures how fast the backbone runs on the providers opt names
// (or on the engine's provider), and optionally the whole pipeline from
// photo files and the head's training. A provider that cannot run is a
// row with its Error, not a failure of the benchmark; cancelling ctx is.
func (a *App) Bench(ctx context.Context, opt BenchOptions, progress func(BenchProgress)) (*BenchResult, error) {
	if progress == nil {
		progress = func(BenchProgress) {}
	}
	if opt.Batches == nil {
		opt.Batches = []int{1, 8, 32}
	}
	if opt.Seconds <= 0 {
		opt.Seconds = 5
	}
	in, err := a.ResolveBackbone(ctx, opt.Engine.Backbone)
	if err != nil {
		return nil, err
	}
	rt, err := LoadRuntime(opt.Engine.Runtime, a.Dirs)
	if err != nil {
		return nil, err
	}
	prec, why, err := a.choosePrecision(ctx, in, opt.Engine, onnxrt.Engine{Runtime: rt, Options: opt.Engine.sessionOptions()}, false)
	if err != nil {
		return nil, err
	}
	var onnx []byte
	if prec == PrecisionInt8 {
		onnx, err = a.Backbones.Int8FeatureModel(ctx, in, onnxrt.Engine{Runtime: rt, Options: opt.Engine.sessionOptions()})
	} else {
		onnx, err = a.Backbones.FeatureModel(ctx, in)
	}
	if err != nil {
		return nil, err
	}
	var photos []features.Item
	if opt.Data != "" {
		paths, _, err := ListPhotos(ctx, []string{opt.Data})
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			photos = append(photos, features.Item{Path: p})
		}
	}
	provs := opt.Providers
	strict := true
	if len(provs) == 0 {
		provs, strict = []onnxrt.Provider{opt.Engine.Provider}, opt.Engine.Strict
	}
	res := &BenchResult{Backbone: in.ID, CPUs: runtime.NumCPU(), Batches: opt.Batches, Precision: prec, PrecisionReason: why}
	// Each measurement is taken in benchRounds slices, in turn with the
	// others, so that the inference alone and end to end see the same
	// machine: measured one after the other, their ratio moved by a tenth
	// between runs on a shared machine as its load came and went.
	per := len(opt.Batches)
	if len(photos) > 0 {
		per++
	}
	per *= benchRounds
	total, done := len(provs)*per, 0
	if opt.Head {
		total++
		if opt.FineTune {
			total++
		}
	}
	if len(photos) > 0 {
		if res.Decode, err = measureDecode(ctx, photos, opt.Seconds); err != nil {
			return nil, err
		}
	}
	var feats []float32
	for _, p := range provs {
		progress(BenchProgress{Provider: p, Done: done, Total: total})
		eo := opt.Engine
		eo.Provider, eo.Strict = p, strict
		row := BenchRow{Provider: p, ImagesPerSec: map[string]float64{}, CPUMsPerImage: map[string]float64{}}
		so := eo.sessionOptions()
		so.Spin = onnxrt.SpinNever // as the engine's backbone session (openEngine)
		s, err := rt.NewSession(onnx, inception.InputName, inception.OutputName, so)
		if err != nil {
			row.Error = PlainError(err)
			var u onnxrt.Unavailable
			if errors.As(err, &u) {
				row.Error = u.Reason
			}
			done += per
			res.Rows = append(res.Rows, row)
			progress(BenchProgress{Provider: p, Done: done, Total: total, Row: &row})
			continue
		}
		ro := runsOn(s.Placement())
		row.RunsOn = &ro
		infs := make([]*inference, len(opt.Batches))
		for i, batch := range opt.Batches {
			infs[i] = newInference(s, batch)
		}
		var e2e *endToEnd
		if len(photos) > 0 {
			x := (&Engine{Backbone: in, Session: s, jpeg: opt.Engine.JPEG}).Extractor(false)
			e2e = &endToEnd{x: x, photos: photos}
		}
		slice := opt.Seconds / benchRounds
	rounds:
		for range benchRounds {
			for _, m := range infs {
				progress(BenchProgress{Provider: p, Batch: m.batch, Done: done, Total: total})
				err := m.measure(ctx, slice, func(frac, rate float64) {
					progress(BenchProgress{Provider: p, Batch: m.batch, Done: done, Total: total, Fraction: frac, Rate: rate})
				})
				if err != nil {
					if IsCancel(err) {
						s.Close()
						return nil, err
					}
					row.Error = PlainError(err)
					break rounds
				}
				done++
			}
			if e2e != nil {
				if err := e2e.measure(ctx, slice); err != nil {
					s.Close()
					return nil, err
				}
				done++
			}
		}
		if row.Error == "" {
			for _, m := range infs {
				ips, cpuMs := m.t.rates()
				row.ImagesPerSec[fmt.Sprint(m.batch)] = ips
				if cpuMs > 0 {
					row.CPUMsPerImage[fmt.Sprint(m.batch)] = cpuMs
				}
			}
			if e2e != nil {
				row.EndToEndPerSec, row.EndToEndCPUMs = e2e.t.rates()
				res.EndToEndImages = len(photos)
				if feats == nil {
					for i := range photos {
						if e2e.first.Errs[i] == nil {
							feats = append(feats, e2e.first.Row(i)...)
						}
					}
				}
			}
		}
		s.Close()
		res.Rows = append(res.Rows, row)
		progress(BenchProgress{Provider: p, Done: done, Total: total, Row: &row})
	}
	if opt.Head {
		// Training runs where the backbone ran: on the first provider
		// that worked,
		// with the threads and GPU of opt.Engine.
		heng := onnxrt.Engine{Runtime: rt, Options: opt.Engine.sessionOptions()}
		heng.Options.Provider, heng.Options.Strict = onnxrt.CPU, false
		device := "CPU"
		for _, r := range res.Rows {
			if r.RunsOn != nil {
				heng.Options.Provider, device = r.RunsOn.Provider, r.RunsOn.Name
				break
			}
		}
		h, sec, err := measureHeadTraining(ctx, heng, feats)
		if err != nil {
			return nil, err
		}
		res.EpochSecondsPer1k = sec
		done++
		progress(BenchProgress{Done: done, Total: total})
		if opt.FineTune {
			w, err := a.Backbones.Weights(in)
			if err != nil {
				return nil, err
			}
			if res.FineTuneSecondsPer1k, res.FineTuneCPUSecondsPer1k, res.FineTuneOnDevice, res.FineTuneDeviceNote, err = measureFineTune(ctx, heng, w, h, opt.FineTuneSteps); err != nil {
				return nil, err
			}
			a.speeds.put(fineTuneKey(device, finetune.MaxBlocks), speed{SecondsPerPhoto: res.FineTuneSecondsPer1k / 1000, When: time.Now()})
			done++
			progress(BenchProgress{Done: done, Total: total})
		}
	}
	return res, nil
}

// benchRounds is how many slices each measurement of Bench is taken in.
const benchRounds = 3

// tally adds up a measurement's slices: images (or photos), wall time
// and the process's CPU time.
type tally struct {
	n         int
	wall, cpu time.Duration
}

// timed runs f, which returns how many images it did, and adds its time.
func (t *tally) timed(f func() (int, error)) error {
	start, cpu0 := time.Now(), cpuTime()
	n, err := f()
	t.n += n
	t.wall += time.Since(start)
	if used := cpuTime() - cpu0; used > 0 {
		t.cpu += used
	}
	return err
}

// rates returns images per second and CPU milliseconds per image (0
// where the system does not report CPU time).
func (t tally) rates() (perSec, cpuMs float64) {
	if t.n == 0 || t.wall <= 0 {
		return 0, 0
	}
	perSec = float64(t.n) / t.wall.Seconds()
	if t.cpu > 0 {
		cpuMs = float64(t.cpu.Microseconds()) / 1000 / float64(t.n)
	}
	return perSec, cpuMs
}

// inference measures the backbone on random images of one batch size.
type inference struct {
	s      *onnxrt.Session
	batch  int
	in     []float32
	shape  []int64
	warmed bool
	t      tally
}

func newInference(s *onnxrt.Session, batch int) *inference {
	in := make([]float32, batch*inception.Size*inception.Size*3)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range in {
		in[i] = float32(rng.IntN(256))
	}
	return &inference{s: s, batch: batch, in: in, shape: []int64{int64(batch), inception.Size, inception.Size, 3}}
}

// measure runs the backbone for about seconds (at least one run; a
// warm-up run first, the first time) and adds it to the tally; tick gets
// the fraction done and the rate so far after each run.
func (m *inference) measure(ctx context.Context, seconds float64, tick func(frac, rate float64)) error {
	if !m.warmed { // kernels compile, memory is allocated
		if _, err := m.s.Run(ctx, m.in, m.shape...); err != nil {
			return err
		}
		m.warmed = true
	}
	tick(0, 0)
	return m.t.timed(func() (int, error) {
		n, start := 0, time.Now()
		for time.Since(start).Seconds() < seconds || n == 0 {
			if _, err := m.s.Run(ctx, m.in, m.shape...); err != nil {
				return n, err
			}
			n += m.batch
			el := time.Since(start).Seconds()
			tick(min(el/seconds, 1), float64(n)/el)
		}
		return n, nil
	})
}

// endToEnd measures feature extraction from photo files, in passes over
// them, as the inference alone is measured: one pass over 20 photos takes
// a second and varied by a tenth from run to run on a quiet machine. A
// pass is rounded up to whole batches, the next one going on round the
// folder where it ended: the inference alone is measured at full batches,
// and so is a large folder's extraction but for its last batch, while a
// small folder's pass would end with a short batch every time (20 photos
// in batches of 8: a batch of 4, which costs 5% more a photo on a 2-core
// CPU).
type endToEnd struct {
	x      *features.Extractor
	photos []features.Item
	next   int // where the next pass starts
	// first is the first pass's result for the photos, in their order.
	first *features.Result
	t     tally
}

// measure extracts passes for about seconds (at least one) and adds them
// to the tally.
func (m *endToEnd) measure(ctx context.Context, seconds float64) error {
	if len(m.photos) == 0 {
		return errors.New("measure end to end: no photos")
	}
	batch := m.x.BatchSize()
	pass := make([]features.Item, (len(m.photos)+batch-1)/batch*batch)
	return m.t.timed(func() (int, error) {
		n, start := 0, time.Now()
		for n == 0 || time.Since(start).Seconds() < seconds {
			for i := range pass {
				pass[i] = m.photos[(m.next+i)%len(m.photos)]
			}
			r, err := m.x.Extract(ctx, pass, nil)
			if err != nil {
				return n, err
			}
			if m.first == nil {
				// The first pass starts at the first photo.
				r.Errs = r.Errs[:len(m.photos)]
				r.Features = r.Features[:len(m.photos)*len(r.Row(0))]
				m.first = r
			}
			n += len(pass)
			m.next = (m.next + len(pass)) % len(m.photos)
		}
		return n, nil
	})
}

// measureHeadTraining times epochs of training the default head on 1,000
// feature vectors in 10 classes: feats repeated, or random ones when nil.
// It returns the trained head and seconds per epoch per 1,000 images.
func measureHeadTraining(ctx context.Context, heng onnxrt.Engine, feats []float32) (*head.Head, float64, error) {
	const n, classes, epochs = 1000, 10, 3
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
	cfg := head.DefaultConfig()
	cfg.Hidden, cfg.Seed = train.DefaultOptions().Hidden, 1
	h, err := head.New(features.Dim, classes, cfg)
	if err != nil {
		return nil, 0, err
	}
	tr, err := head.NewTrainer(h, cfg, heng)
	if err != nil {
		return nil, 0, err
	}
	defer tr.Close()
	start := time.Now()
	for range epochs {
		if _, err := tr.Epoch(ctx, x, y, nil); err != nil {
			return nil, 0, err
		}
	}
	return h, time.Since(start).Seconds() / epochs, nil
}

// measureFineTune times fine-tuning steps of mixed9, mixed10 and the head
// h (three batches of 32 random mixed8 activations, after one that is not
// timed: memory planning, and on a GPU the kernels' compilation) and
// returns the seconds one epoch over 1,000 photos takes at that rate, the
// process's CPU seconds for the same, and whether the weights stayed on
// the device (steps: finetune.Config.Steps) or why not.
func measureFineTune(ctx context.Context, heng onnxrt.Engine, w *inception.Weights, h *head.Head, steps string) (sec, cpu float64, onDevice bool, note string, err error) {
	mean, scale := make([]float32, features.Dim), make([]float32, features.Dim)
	for i := range scale {
		scale[i] = 1
	}
	cfg := finetune.DefaultConfig()
	cfg.Steps = steps
	tr, err := finetune.NewTrainer(w, h, mean, scale, cfg, heng)
	if err != nil {
		return 0, 0, false, "", err
	}
	defer tr.Close()
	if err := tr.DeviceUnavailable(); err != nil {
		note = err.Error()
	}
	const n = 96
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
	// A real epoch is tens of steps, of which only the first maps its
	// values afresh (finetune.Trainer.Epoch holds the memory steps free
	// for the next): the untimed step and the timed ones run as one
	// epoch's would, on one thread with the memory held between them,
	// not as three steps of which one starts from nothing.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer onnxrt.HoldMemory()()
	if _, err := tr.Epoch(ctx, load, y[:cfg.BatchSize], nil); err != nil {
		return 0, 0, false, note, err
	}
	start, cpu0 := time.Now(), cpuTime()
	if _, err := tr.Epoch(ctx, load, y, nil); err != nil {
		return 0, 0, false, note, err
	}
	sec = time.Since(start).Seconds() / n * 1000
	cpu = (cpuTime() - cpu0).Seconds() / n * 1000
	return sec, cpu, tr.OnDevice(), note, nil
}
