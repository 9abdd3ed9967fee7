// Package train runs a training: it extracts (or takes from the cache) the
// backbone features of a dataset's photos, trains the head with early
// stopping, evaluates it and produces a model. Progress is reported as a
// typed stream of events; nothing here prints.
package train

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/eval"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/finetune"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
)

// Options are the training options. DefaultOptions gives good results
// without tuning on small photo collections.
type Options struct {
	model.Hyperparameters
	// TopK is the k of the top-k accuracy in the report.
	TopK int
}

// DefaultOptions returns the defaults: the seed tutorial's head
// (Dense(1024, relu), dropout 0.5, Adam at 1e-3, batches of 32), up to 30
// epochs with early stopping after 5 without improvement, balanced class
// weights, no augmentation.
func DefaultOptions() Options {
	return Options{
		Hyperparameters: model.Hyperparameters{
			Epochs:       30,
			BatchSize:    32,
			LearningRate: 1e-3,
			Hidden:       1024,
			Dropout:      0.5,
			Patience:     5,
			ClassWeights: true,
			Validation:   0.2,
			Seed:         1,
			// Fine-tuning is off by default: on a CPU it multiplies the
			// training time many times over (see the README's rule). Its
			// learning rate is 10× the Keras recipe's SGD(1e-4, 0.9),
			// which is meant for thousands of steps: on photo folders of
			// a few hundred (a few steps an epoch) 1e-4 left the model
			// unchanged while 1e-3 gained 8 points on the pet sample.
			FineTuneEpochs:       10,
			FineTuneLearningRate: 1e-3,
		},
		TopK: 3,
	}
}

// Validate reports the first unusable option.
func (o Options) Validate() error {
	if o.Epochs < 1 {
		return fmt.Errorf("epochs is %d, want at least 1", o.Epochs)
	}
	if o.Patience < 0 {
		return fmt.Errorf("patience is %d, want 0 (off) or more", o.Patience)
	}
	if o.Augment < 0 || o.Augment > 32 {
		return fmt.Errorf("augmentation views is %d, want 0 (off) to 32", o.Augment)
	}
	if o.FineTune < 0 || o.FineTune > finetune.MaxBlocks {
		return fmt.Errorf("fine-tune blocks is %d, want 0 (off), 1 or 2", o.FineTune)
	}
	if o.FineTune > 0 {
		if err := o.fineTuneConfig().Validate(); err != nil {
			return err
		}
		if o.FineTuneEpochs < 1 {
			return fmt.Errorf("fine-tuning epochs is %d, want at least 1", o.FineTuneEpochs)
		}
	}
	return o.headConfig().Validate()
}

func (o Options) headConfig() head.Config {
	c := head.DefaultConfig()
	c.Hidden = o.Hidden
	c.Dropout = o.Dropout
	c.LearningRate = o.LearningRate
	c.BatchSize = o.BatchSize
	c.LabelSmoothing = o.LabelSmoothing
	c.WeightDecay = o.WeightDecay
	c.Seed = o.Seed
	return c
}

func (o Options) fineTuneConfig() finetune.Config {
	c := finetune.DefaultConfig()
	c.Blocks = o.FineTune
	c.LearningRate = o.FineTuneLearningRate
	c.BatchSize = o.BatchSize
	c.Dropout = o.Dropout
	c.LabelSmoothing = o.LabelSmoothing
	c.WeightDecay = o.WeightDecay
	c.Seed = o.Seed
	return c
}

// Job is one training run's inputs.
type Job struct {
	Data      *dataset.Dataset
	Extractor *features.Extractor
	// Backbone identifies the extractor's backbone in the model.
	Backbone model.Backbone
	Options  Options
	// Base, if set, is a model to continue from: with the same labels,
	// training resumes from its weights (and fine-tuned blocks); otherwise
	// the head starts afresh (features of unchanged photos still come from
	// the cache).
	Base *model.Model
	// Engine runs the training steps: ONNX Runtime and its execution
	// provider.
	Engine head.Engine
	// Weights are the backbone's weights, needed to fine-tune
	// (Options.FineTune > 0) or to continue a fine-tuned Base.
	Weights *inception.Weights
}

// Run trains a model. emit (which may be nil) receives the run's events;
// the last is Finished, Failed or Cancelled. Cancelling ctx stops the run
// within a second with ctx.Err().
func Run(ctx context.Context, job Job, emit func(Event)) (*Result, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	res, err := run(ctx, job, emit)
	switch {
	case err != nil && ctx.Err() != nil:
		emit(Cancelled{})
		return nil, ctx.Err()
	case err != nil:
		emit(Failed{Err: err})
		return nil, err
	}
	emit(Finished{Result: res})
	return res, nil
}

// sample is a photo with its row in the feature matrix of each view.
type sample struct {
	item  int   // index in the dataset
	label int   // class
	rows  []int // feature rows: the photo, then its augmented views
}

func run(ctx context.Context, job Job, emit func(Event)) (*Result, error) {
	start := time.Now()
	o := job.Options
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	d := job.Data
	if len(d.Classes) < 2 {
		return nil, fmt.Errorf("train: %s has %d classes; a classifier needs at least 2", d.Root, len(d.Classes))
	}
	if o.Augment > 0 && job.Extractor.Augment == nil {
		return nil, errors.New("train: augmentation views asked for, but the extractor has no augmentation")
	}

	// Every photo once, and each training photo's augmented views.
	var items []features.Item
	var samples [3][]sample // by split
	for i, it := range d.Items {
		s := sample{item: i, label: it.Label, rows: []int{len(items)}}
		items = append(items, features.Item{Path: it.Path, Hash: it.Hash})
		if it.Split == dataset.Train {
			for v := 1; v <= o.Augment; v++ {
				s.rows = append(s.rows, len(items))
				items = append(items, features.Item{Path: it.Path, Hash: it.Hash, View: v})
			}
		}
		samples[it.Split] = append(samples[it.Split], s)
	}
	emit(PhaseStarted{Phase: Extracting})
	feats, err := job.Extractor.Extract(ctx, items, func(p features.Progress) { emit(Extraction{Progress: p}) })
	if err != nil {
		return nil, err
	}
	// Photos that failed are reported once and left out of every split.
	skipped := 0
	for split := range samples {
		kept := samples[split][:0]
		for _, s := range samples[split] {
			var failure error
			for _, r := range s.rows {
				if feats.Errs[r] != nil {
					failure = feats.Errs[r]
					break
				}
			}
			if failure != nil {
				emit(Warning{Path: d.Items[s.item].Path, Message: failure.Error()})
				skipped++
				continue
			}
			kept = append(kept, s)
		}
		samples[split] = kept
	}
	trainSet, valSet, testSet := samples[dataset.Train], samples[dataset.Validation], samples[dataset.Test]
	if len(trainSet) == 0 {
		return nil, fmt.Errorf("train: no readable training photos in %s", d.Root)
	}

	// Standardize every row with the training rows' statistics (all views
	// of the training photos: what the head trains on).
	std := newStandardizer(func(yield func([]float32) bool) {
		for _, s := range trainSet {
			for _, r := range s.rows {
				if !yield(feats.Row(r)) {
					return
				}
			}
		}
	}, features.Dim)

	// Fine-tuning, or continuing a fine-tuned model, reads the mixed8
	// activations, streamed from the cache.
	baseTop := job.Base != nil && len(job.Base.Top) > 0 && job.Base.Backbone.SHA256 == job.Backbone.SHA256 && slices.Equal(job.Base.Labels, d.Classes)
	var acts *activations
	weights := job.Weights
	if o.FineTune > 0 || baseTop {
		if weights == nil {
			return nil, errors.New("train: fine-tuning needs the backbone's weights")
		}
		emit(PhaseStarted{Phase: Caching})
		if acts, err = cacheActivations(ctx, job, items, feats.Errs, emit); err != nil {
			return nil, err
		}
		defer acts.close()
	}
	if baseTop {
		// The base's head reads features of its fine-tuned blocks.
		if weights, err = job.Base.Apply(weights); err != nil {
			return nil, fmt.Errorf("train: continue: %w", err)
		}
		if err := acts.features(ctx, job.Engine, weights, o.BatchSize, feats); err != nil {
			return nil, err
		}
		// The statistics of the features the head reads.
		std = newStandardizer(func(yield func([]float32) bool) {
			for _, s := range trainSet {
				for _, r := range s.rows {
					if !yield(feats.Row(r)) {
						return
					}
				}
			}
		}, features.Dim)
	}
	std.apply(feats.Features)

	var classWeights []float32
	trainLabels := labelsOf(trainSet)
	if o.ClassWeights {
		if classWeights, err = head.BalancedClassWeights(trainLabels, len(d.Classes)); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}

	h, err := startingHead(job, std, emit)
	if err != nil {
		return nil, err
	}
	trainer, err := head.NewTrainer(h, o.headConfig(), job.Engine)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer trainer.Close()

	emit(PhaseStarted{Phase: Training})
	rng := rand.New(rand.NewPCG(o.Seed, 0xC1A5))
	// Without augmentation every epoch shows the same rows: gather them
	// once; with it, each epoch overwrites them with its choice of views.
	x, _ := gather(feats, trainSet)
	var sw []float32
	if classWeights != nil {
		sw, _ = head.SampleWeights(trainLabels, classWeights)
	}
	valX, valY := gather(feats, valSet)
	var valW []float32
	if classWeights != nil && len(valY) > 0 {
		valW, _ = head.SampleWeights(valY, classWeights)
	}

	var history []model.Epoch
	best, bestLoss, since := 0, math.Inf(1), 0
	bestHead := h.Clone()
	stoppedEarly := false
	totalEpochs := o.Epochs
	if o.FineTune > 0 {
		totalEpochs += o.FineTuneEpochs
	}
	for epoch := 1; epoch <= o.Epochs; epoch++ {
		t0 := time.Now()
		// Each epoch shows every training photo once, as one of its views.
		if o.Augment > 0 {
			for i, s := range trainSet {
				r := s.rows[rng.IntN(len(s.rows))]
				copy(x[i*features.Dim:(i+1)*features.Dim], feats.Row(r))
			}
		}
		st, err := trainer.Epoch(ctx, x, trainLabels, sw)
		if err != nil {
			return nil, err
		}
		e := model.Epoch{Epoch: epoch, Loss: st.Loss, Accuracy: st.Accuracy, Stage: 1}
		if len(valY) > 0 {
			e.ValLoss, e.ValAccuracy, err = h.Evaluate(valX, valY, valW)
			if err != nil {
				return nil, fmt.Errorf("train: validate: %w", err)
			}
			e.HasValidation = true
		}
		e.Seconds = time.Since(t0).Seconds()
		history = append(history, e)

		// Without a validation set there is nothing to stop on: the last
		// epoch is the best one.
		improved := !e.HasValidation || e.ValLoss < bestLoss
		if improved {
			best, bestLoss, since = epoch, e.ValLoss, 0
			if err := bestHead.CopyFrom(h); err != nil {
				return nil, err
			}
		} else {
			since++
		}
		emit(EpochFinished{Epoch: e, Epochs: totalEpochs, Best: improved})
		if o.Patience > 0 && since >= o.Patience && epoch < o.Epochs {
			stoppedEarly = true
			break
		}
	}
	h = bestHead

	var tuned *fineTuned
	if o.FineTune > 0 {
		emit(PhaseStarted{Phase: FineTuning})
		st := stage2{job: job, acts: acts, std: std, weights: weights, trainSet: trainSet, valSet: valSet,
			trainLabels: trainLabels, sw: sw, valY: valY, valW: valW, rng: rng, emit: emit, totalEpochs: totalEpochs}
		tuned, err = st.run(ctx, h, &history, &best, &bestLoss)
		if err != nil {
			return nil, err
		}
		if tuned != nil {
			h = tuned.head
			weights = tuned.weights
		}
	}

	res := &Result{StoppedEarly: stoppedEarly, Skipped: skipped, FineTuned: tuned != nil}
	m := &model.Model{Meta: model.Meta{
		Labels:   slices.Clone(d.Classes),
		Backbone: job.Backbone,
		Created:  time.Now().UTC(),
		Training: &model.Training{
			Dataset:    d.Root,
			Layout:     string(d.Layout),
			Options:    o.Hyperparameters,
			Epochs:     history,
			BestEpoch:  best,
			TrainCount: len(trainSet),
			ValCount:   len(valSet),
		},
	}, Head: std.fold(h.Layers())}
	if tuned != nil {
		m.Top = tuned.units
	} else if baseTop {
		m.Top = job.Base.Top
	}
	for _, s := range testSet {
		it := d.Items[s.item]
		m.Training.Test = append(m.Training.Test, model.Sample{Path: it.Path, SHA256: hex.EncodeToString(it.Hash[:]), Label: s.label})
	}

	evalSet, name, ex, ey := valSet, "validation", valX, valY
	if len(testSet) > 0 {
		evalSet, name = testSet, "test"
		ex, ey = gather(feats, testSet)
	}
	if tuned != nil && len(evalSet) > 0 {
		// The fine-tuned blocks make other features than the cached ones.
		if ex, err = acts.splitFeatures(ctx, job.Engine, weights, o.BatchSize, evalSet); err != nil {
			return nil, err
		}
		std.apply(ex)
	}
	if len(evalSet) > 0 {
		emit(PhaseStarted{Phase: Evaluating})
		probs, err := h.Predict(ex)
		if err != nil {
			return nil, fmt.Errorf("train: evaluate: %w", err)
		}
		if res.Report, err = eval.Compute(d.Classes, ey, probs, o.TopK); err != nil {
			return nil, fmt.Errorf("train: evaluate: %w", err)
		}
		res.Evaluated = name
		n := len(d.Classes)
		for i, s := range evalSet {
			res.Samples = append(res.Samples, Prediction{Path: d.Items[s.item].Path, Truth: s.label, Probs: probs[i*n : (i+1)*n]})
		}
	}
	m.Training.Duration = time.Since(start).Seconds()
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	res.Model = m
	return res, nil
}

// startingHead returns the base model's head when it can be continued, or
// a fresh one.
func startingHead(job Job, std *standardizer, emit func(Event)) (*head.Head, error) {
	o, d := job.Options, job.Data
	if b := job.Base; b != nil {
		switch {
		case b.Backbone.SHA256 != job.Backbone.SHA256:
			emit(Warning{Message: fmt.Sprintf("the model was trained on backbone %s, this run uses %s: training a new head", b.Backbone.Name, job.Backbone.Name)})
		case !slices.Equal(b.Labels, d.Classes):
			emit(Warning{Message: "the classes changed since the model was trained: training a new head (cached features are reused)"})
		default:
			h, err := head.FromLayers(std.unfold(b.Head))
			if err != nil {
				return nil, fmt.Errorf("train: continue: %w", err)
			}
			if h.Hidden() != o.Hidden {
				emit(Warning{Message: fmt.Sprintf("continuing the model's head of %d hidden units (the option asks for %d)", h.Hidden(), o.Hidden)})
			}
			return h, nil
		}
	}
	h, err := head.New(features.Dim, len(d.Classes), o.headConfig())
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return h, nil
}

func labelsOf(s []sample) []int {
	y := make([]int, len(s))
	for i := range s {
		y[i] = s[i].label
	}
	return y
}

// gather copies the original-view features of samples into one matrix.
func gather(f *features.Result, s []sample) ([]float32, []int) {
	x := make([]float32, 0, len(s)*features.Dim)
	for _, smp := range s {
		x = append(x, f.Row(smp.rows[0])...)
	}
	return x, labelsOf(s)
}
