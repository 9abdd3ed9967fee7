package train

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/finetune"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// activations are the mixed8 activations of a run's feature rows, kept in
// the cache as float16 and read back batch by batch, so that memory does not
// grow with the number of photos.
type activations struct {
	cache *features.Cache
	keys  []features.Key
	errs  []error // per row: the photo failed (its activations are zeros)
	temp  string  // a temporary cache folder to remove, if any
}

// extractWithActivations computes every row's features as the job's
// extractor does and, in the same pass through the backbone, caches its
// mixed8 activations (float16, in the job's cache or a temporary one):
// running the photos through the features model and then the mixed8 one
// would decode them twice and compute the layers up to mixed8 twice.
func extractWithActivations(ctx context.Context, job Job, items []features.Item, emit func(Event)) (*features.Result, *activations, error) {
	a := &activations{cache: job.Extractor.Cache}
	if a.cache == nil {
		dir, err := os.MkdirTemp("", "clasifica-activations-")
		if err != nil {
			return nil, nil, fmt.Errorf("train: activation cache: %w", err)
		}
		a.temp = dir
		if a.cache, err = features.OpenCache(dir); err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
	}
	onnx, err := proto.Marshal(job.Weights.Mixed8FeaturesModel(job.Backbone.Preprocess, nil, nil))
	if err != nil {
		a.close()
		return nil, nil, fmt.Errorf("train: features and mixed8 graph: %w", err)
	}
	// Used once per run, its memory must not stay through fine-tuning.
	eng := job.Engine
	eng.Options.ReleaseMemory = true
	s, err := eng.NewMultiSession(onnx, []string{inception.InputName}, []string{inception.OutputName, inception.Mixed8Output})
	if err != nil {
		a.close()
		return nil, nil, fmt.Errorf("train: features and mixed8 session: %w", err)
	}
	defer s.Close()
	x := *job.Extractor
	x.Mixed8 = &features.Mixed8{Session: s, Backbone: job.Backbone.SHA256 + "-mixed8", Cache: a.cache}
	res, err := x.Extract(ctx, items, func(p features.Progress) { emit(Extraction{Progress: p}) })
	if err != nil {
		a.close()
		return nil, nil, err
	}
	for _, it := range items {
		a.keys = append(a.keys, x.Mixed8Key(it))
	}
	// A photo that failed has neither its features nor its activations.
	a.errs = res.Errs
	return res, a, nil
}

func (a *activations) close() {
	if a.temp != "" {
		os.RemoveAll(a.temp)
		a.temp = ""
	}
}

// loader returns a finetune.Loader over the given feature rows.
func (a *activations) loader(rows func(i int) int) finetune.Loader {
	return func(ctx context.Context, idx []int, dst []float32) error {
		for k, i := range idx {
			r := rows(i)
			out := dst[k*finetune.Dim : (k+1)*finetune.Dim]
			if a.errs[r] != nil {
				clear(out)
				continue
			}
			v, ok := a.cache.GetHalf(a.keys[r], out)
			if !ok || len(v) != finetune.Dim {
				return fmt.Errorf("train: the mixed8 activations of a photo are missing from the cache %s (was it cleared during training?)", a.cache.Dir())
			}
		}
		return nil
	}
}

// features replaces every row of f by the features of the top blocks of w.
func (a *activations) features(ctx context.Context, eng onnxrt.Engine, w *inception.Weights, batch int, f *features.Result) error {
	fz, err := finetune.NewFeaturizer(w, batch, eng)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	defer fz.Close()
	out, err := fz.Features(ctx, a.loader(func(i int) int { return i }), len(a.keys))
	if err != nil {
		return err
	}
	copy(f.Features, out)
	return nil
}

// splitFeatures returns the features of the samples' original views by the
// top blocks of w.
func (a *activations) splitFeatures(ctx context.Context, eng onnxrt.Engine, w *inception.Weights, batch int, s []sample) ([]float32, error) {
	fz, err := finetune.NewFeaturizer(w, batch, eng)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer fz.Close()
	return fz.Features(ctx, a.loader(func(i int) int { return s[i].rows[0] }), len(s))
}

// fineTuned is what a fine-tuning stage that improved on the head keeps.
type fineTuned struct {
	head    *head.Head // reading standardised features
	weights *inception.Weights
	units   []model.Unit
}

// stage2 is the fine-tuning stage of a run.
type stage2 struct {
	job              Job
	acts             *activations
	std              *standardizer
	weights          *inception.Weights
	trainSet, valSet []sample
	trainLabels      []int
	sw               []float32
	valY             []int
	valW             []float32
	rng              *rand.Rand
	emit             func(Event)
	totalEpochs      int
}

// run fine-tunes from the head h (the first stage's best), appending its
// epochs to history, with best watching across both stages and progress
// reporting each epoch. It returns nil when no epoch improved on the first
// stage's best: the model then stays head-only.
//
// A fine-tuning that becomes unstable (its loss no longer finite) stops
// with diverged set, keeping what it had.
func (s *stage2) run(ctx context.Context, h *head.Head, lr float64, history *[]model.Epoch, best *BestEpoch, progress Hook) (_ *fineTuned, diverged bool, _ error) {
	o := s.job.Options
	cfg := o.fineTuneConfig()
	cfg.LearningRate = lr
	tr, err := finetune.NewTrainer(s.weights, h, s.std.mean, s.std.scale, cfg, s.job.Engine)
	if err != nil {
		return nil, false, fmt.Errorf("train: %w", err)
	}
	defer tr.Close()
	// Building the trainer left the training graph's bytes (more than
	// 100 MB) and what extraction decoded as garbage; until the collector
	// runs and gives the pages back, they add to the peak that the
	// fine-tuning steps reach. Give them back now, once.
	debug.FreeOSMemory()
	view := make([]int, len(s.trainSet)) // the row each training sample shows this epoch
	trainLoad := s.acts.loader(func(i int) int { return view[i] })
	valLoad := s.acts.loader(func(i int) int { return s.valSet[i].rows[0] })
	var snap *finetune.Snapshot
	loop := &Loop{Epochs: o.FineTuneEpochs, Stage: 2, History: history}
	loop.Epoch = func(ctx context.Context) (model.Epoch, error) {
		for i, smp := range s.trainSet {
			view[i] = smp.rows[0]
			if o.Augment > 0 {
				view[i] = smp.rows[s.rng.IntN(len(smp.rows))]
			}
		}
		st, err := tr.Epoch(ctx, trainLoad, s.trainLabels, s.sw)
		if errors.Is(err, finetune.ErrDiverged) {
			// An unstable fine-tuning must not cost the run: the model
			// keeps its best epoch, from either stage.
			diverged = true
			return model.Epoch{}, ErrStop
		}
		if err != nil {
			return model.Epoch{}, err
		}
		e := model.Epoch{Loss: st.Loss, Accuracy: st.Accuracy}
		if len(s.valY) > 0 {
			vf, err := tr.Features(ctx, valLoad, len(s.valSet))
			if err != nil {
				return model.Epoch{}, err
			}
			s.std.apply(vf)
			th, err := tr.Head()
			if err != nil {
				return model.Epoch{}, fmt.Errorf("train: fine-tune: %w", err)
			}
			if e.ValLoss, e.ValAccuracy, err = th.Evaluate(vf, s.valY, s.valW); err != nil {
				return model.Epoch{}, fmt.Errorf("train: fine-tune: validate: %w", err)
			}
			e.HasValidation = true
		}
		return e, nil
	}
	stop := &EarlyStopping{Patience: o.Patience, Best: best}
	loop.Add(
		best.Hook(func() error { snap = tr.Snapshot(); return nil }, func() error { tr.Restore(snap); return nil }),
		stop.Hook(loop),
		progress,
	)
	if err := loop.Run(ctx); err != nil {
		return nil, false, err
	}
	if snap == nil {
		return nil, diverged, nil
	}
	th, err := tr.Head()
	if err != nil {
		return nil, false, fmt.Errorf("train: fine-tune: %w", err)
	}
	ft := &fineTuned{head: th, weights: tr.Weights()}
	units := tr.Units()
	idx := make([]int, 0, len(units))
	for i := range units {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	for _, i := range idx {
		u := units[i]
		ft.units = append(ft.units, model.Unit{Conv: u.Conv, BN: u.BN, Kernel: u.Kernel, Beta: u.Beta})
	}
	return ft, diverged, nil
}
