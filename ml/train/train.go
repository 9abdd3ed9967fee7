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
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/eval"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/finetune"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/onnxrt"
	"github.com/clasifica/clasifica/ml/probes"
)

// Options are the training options. DefaultOptions gives good results
// without tuning on small photo collections.
type Options struct {
	model.Hyperparameters
	// TopK is the k of the top-k accuracy in the report.
	TopK int
	// Folds is how many heads, each trained without one fold of the
	// training and validation photos, choose a head-only model's "not
	// sure" threshold from their out-of-fold predictions; 0 means
	// DefaultFolds, 1 turns them off (the validation photos choose it).
	Folds int
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
			// "Right 95% of the time when it answers", the issue's
			// example; users pick another on Results or with
			// --target-accuracy.
			TargetAccuracy: 0.95,
			Seed:           1,
			// Fine-tuning is off by default: on a CPU it multiplies the
			// training time many times over (see the README's rule). Its
			// learning rate is 10× the Keras recipe's SGD(1e-4, 0.9),
			// which is meant for thousands of steps: on photo folders of
			// a few hundred (a few steps an epoch) 1e-4 left the model
			// unchanged while 1e-3 gained 8 points on the pet sample.
			FineTuneEpochs:       10,
			FineTuneLearningRate: 1e-3,
		},
		TopK:  3,
		Folds: DefaultFolds,
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
	if o.TargetAccuracy < 0 || o.TargetAccuracy > 1 || o.TargetAccuracy != o.TargetAccuracy {
		return fmt.Errorf("target accuracy is %v, want 0 (no \"not sure\") to 1", o.TargetAccuracy)
	}
	if o.Folds < 0 || o.Folds > 20 {
		return fmt.Errorf("folds is %d, want 1 (no out-of-fold threshold) to 20", o.Folds)
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
	// Engine runs every session of the run (the training steps, the
	// mixed8 pass and the fine-tuned blocks' features): the runtime and the
	// options the user chose, as the inference session has them.
	Engine onnxrt.Engine
	// Weights are the backbone's weights, needed to fine-tune
	// (Options.FineTune > 0) or to continue a fine-tuned Base.
	Weights *inception.Weights
	// ReleaseExtractor, if set, is called when fine-tuning starts: the run
	// reads no photo after it, so the caller may close the extractor's
	// session and give its memory (several hundred MB) to the fine-tuning
	// steps.
	ReleaseExtractor func()
	// Regroup, if set, is called once the photos' features are extracted
	// (the extraction's decode is where the caller can fingerprint them,
	// see features.Extractor.Decoded). It may return another division of
	// the same photos, classes and labels (near-copy pairs kept on one
	// side of the training/test divide, see dataset.WithNearCopies), or
	// nil to keep Data. The run then trains on it with the rows already
	// extracted: nothing is extracted again, and a photo that joins the
	// training split this way has no augmented views in this run.
	Regroup func(ctx context.Context) (*dataset.Dataset, error)
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

// run is a training run as its steps. Each step is a method of runner,
// which carries what the steps hand on to each other.
func run(ctx context.Context, job Job, emit func(Event)) (*Result, error) {
	start := time.Now()
	r, err := newRunner(ctx, job, emit)
	if err != nil {
		return nil, err
	}
	defer r.close()
	r.listSamples()
	if err := r.addProbes(); err != nil {
		return nil, err
	}
	if err := r.extract(); err != nil {
		return nil, err
	}
	if err := r.regroup(); err != nil {
		return nil, err
	}
	if err := r.dropFailures(); err != nil {
		return nil, err
	}
	r.setAsideHalf()
	if err := r.standardize(); err != nil {
		return nil, err
	}
	if err := r.weighSamples(); err != nil {
		return nil, err
	}
	h, err := r.trainHead()
	if err != nil {
		return nil, err
	}
	tuned, err := r.fineTune(h)
	if err != nil {
		return nil, err
	}
	if tuned != nil {
		h, r.weights = tuned.head, tuned.weights
	}
	m := r.buildModel(h, tuned)
	res, err := r.evaluate(h, tuned != nil)
	if err != nil {
		return nil, err
	}
	res.Model, res.FineTuned = m, tuned != nil
	if err := r.calibrate(res, h, tuned != nil); err != nil {
		return nil, err
	}
	if err := r.strangers(m, tuned != nil); err != nil {
		return nil, err
	}
	m.Training.Duration = time.Since(start).Seconds()
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return res, nil
}

// runner holds a run's state between its steps.
type runner struct {
	ctx  context.Context
	job  Job
	o    Options
	d    *dataset.Dataset
	emit func(Event)

	// items are the rows to extract: every photo once, then each training
	// photo's augmented views; samples are the photos, by split, with
	// their rows.
	items   []features.Item
	samples [3][]sample
	// calib is the validation half set aside to choose a fine-tuned
	// model's threshold (setAsideHalf); it is not in samples.
	calib   []sample
	feats   *features.Result
	skipped int

	std *standardizer
	// acts are the mixed8 activations, for fine-tuning or continuing a
	// fine-tuned base (baseTop); weights the backbone's, with the base's
	// blocks applied when it is continued.
	acts    *activations
	weights *inception.Weights
	baseTop bool

	// Sample weights of the training and validation photos (nil without
	// class weights), and the gathered validation rows.
	trainLabels []int
	sw, valW    []float32
	valX        []float32
	valY        []int

	// history is the run's epochs, both stages; best its best epoch
	// across both.
	history      []model.Epoch
	best         *BestEpoch
	stoppedEarly bool
	totalEpochs  int
	rng          *rand.Rand

	// The shipped probe photos (written to probeDir), whose rows start
	// at probeRow.
	probes   []probes.Photo
	probeDir string
	probeRow int
}

// newRunner checks the job.
func newRunner(ctx context.Context, job Job, emit func(Event)) (*runner, error) {
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
	r := &runner{ctx: ctx, job: job, o: o, d: d, emit: emit, weights: job.Weights,
		best: NewBestEpoch(), totalEpochs: o.Epochs, rng: rand.New(rand.NewPCG(o.Seed, 0xC1A5))}
	if o.FineTune > 0 {
		r.totalEpochs += o.FineTuneEpochs
	}
	b := job.Base
	r.baseTop = b != nil && len(b.Top) > 0 && b.Backbone.SHA256 == job.Backbone.SHA256 && slices.Equal(b.Labels, d.Classes)
	return r, nil
}

func (r *runner) close() {
	if r.acts != nil {
		r.acts.close()
	}
	if r.probeDir != "" {
		os.RemoveAll(r.probeDir)
	}
}

// listSamples lists every photo once, and each training photo's augmented
// views.
func (r *runner) listSamples() {
	for i, it := range r.d.Items {
		s := sample{item: i, label: it.Label, rows: []int{len(r.items)}}
		r.items = append(r.items, features.Item{Path: it.Path, Hash: it.Hash})
		if it.Split == dataset.Train {
			for v := 1; v <= r.o.Augment; v++ {
				s.rows = append(s.rows, len(r.items))
				r.items = append(r.items, features.Item{Path: it.Path, Hash: it.Hash, View: v})
			}
		}
		r.samples[it.Split] = append(r.samples[it.Split], s)
	}
}

// extract computes (or reads from the cache) every row's features. Its
// progress counts the user's photos: the few probe photos go through in
// the same pass but are not the user's, so the count stops at the
// folder's (a moment early).
func (r *runner) extract() error {
	emit := func(e Event) {
		if x, ok := e.(Extraction); ok {
			x.Total = max(0, x.Total-len(r.probes))
			x.Done = min(x.Done, x.Total)
			x.FromCache = min(x.FromCache, x.Done)
			x.Failed = min(x.Failed, x.Done)
			e = x
		}
		r.emit(e)
	}
	if r.o.FineTune > 0 || r.baseTop {
		if r.weights == nil {
			return errors.New("train: fine-tuning needs the backbone's weights")
		}
		r.emit(PhaseStarted{Phase: Caching})
		var err error
		r.feats, r.acts, err = extractWithActivations(r.ctx, r.job, r.items, emit)
		return err
	}
	r.emit(PhaseStarted{Phase: Extracting})
	var err error
	r.feats, err = r.job.Extractor.Extract(r.ctx, r.items, func(p features.Progress) { emit(Extraction{Progress: p}) })
	return err
}

// regroup lets the job divide the photos again once they are extracted,
// and lists the samples of the new division with the rows extracted for
// the old one.
func (r *runner) regroup() error {
	if r.job.Regroup == nil {
		return nil
	}
	d, err := r.job.Regroup(r.ctx)
	if err != nil || d == nil {
		return err
	}
	if !slices.Equal(d.Classes, r.d.Classes) {
		return fmt.Errorf("train: the photos of %s were divided again with other classes", r.d.Root)
	}
	rows := map[string][]int{}
	for split := range r.samples {
		for _, s := range r.samples[split] {
			rows[r.d.Items[s.item].Path] = s.rows
		}
	}
	var samples [3][]sample
	for i, it := range d.Items {
		got, ok := rows[it.Path]
		if !ok {
			return fmt.Errorf("train: %s was not among the photos extracted", it.Path)
		}
		if it.Split != dataset.Train {
			got = got[:1] // views are for training only
		}
		samples[it.Split] = append(samples[it.Split], sample{item: i, label: it.Label, rows: got})
	}
	r.d, r.samples = d, samples
	return nil
}

// dropFailures reports each photo that failed once and leaves it out of
// every split.
func (r *runner) dropFailures() error {
	for split := range r.samples {
		kept := r.samples[split][:0]
		for _, s := range r.samples[split] {
			var failure error
			for _, row := range s.rows {
				if r.feats.Errs[row] != nil {
					failure = r.feats.Errs[row]
					break
				}
			}
			if failure != nil {
				r.emit(Warning{Path: r.d.Items[s.item].Path, Message: failure.Error()})
				r.skipped++
				continue
			}
			kept = append(kept, s)
		}
		r.samples[split] = kept
	}
	if len(r.samples[dataset.Train]) == 0 {
		return fmt.Errorf("train: no readable training photos in %s", r.d.Root)
	}
	return nil
}

// standardize scales every row with the training rows' statistics (all
// views of the training photos: what the head trains on). Continuing a
// fine-tuned model first recomputes the features its blocks make (from
// the mixed8 activations extract cached), whose statistics are then the
// ones used.
func (r *runner) standardize() error {
	trainRows := func(yield func([]float32) bool) {
		for _, s := range r.samples[dataset.Train] {
			for _, row := range s.rows {
				if !yield(r.feats.Row(row)) {
					return
				}
			}
		}
	}
	if r.baseTop {
		var err error
		if r.weights, err = r.job.Base.Apply(r.weights); err != nil {
			return fmt.Errorf("train: continue: %w", err)
		}
		if err := r.acts.features(r.ctx, r.job.Engine, r.weights, r.o.BatchSize, r.feats); err != nil {
			return err
		}
	}
	r.std = newStandardizer(trainRows, features.Dim)
	r.std.apply(r.feats.Features)
	return nil
}

// weighSamples gives each training and validation photo its class's
// weight, when classes are weighted, and gathers the validation rows.
func (r *runner) weighSamples() error {
	r.trainLabels = labelsOf(r.samples[dataset.Train])
	r.valX, r.valY = gather(r.feats, r.samples[dataset.Validation])
	if !r.o.ClassWeights {
		return nil
	}
	cw, err := head.BalancedClassWeights(r.trainLabels, len(r.d.Classes))
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if r.sw, err = head.SampleWeights(r.trainLabels, cw); err != nil {
		return fmt.Errorf("train: training photos: %w", err)
	}
	if len(r.valY) > 0 {
		if r.valW, err = head.SampleWeights(r.valY, cw); err != nil {
			return fmt.Errorf("train: validation photos: %w", err)
		}
	}
	return nil
}

// trainHead is stage 1: the loop over the head's epochs, with early
// stopping on the validation set. It returns the best epoch's head.
func (r *runner) trainHead() (*head.Head, error) {
	h, err := startingHead(r.job, r.std, r.emit)
	if err != nil {
		return nil, err
	}
	trainer, err := head.NewTrainer(h, r.o.headConfig(), r.job.Engine)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer trainer.Close()

	r.emit(PhaseStarted{Phase: Training})
	trainSet := r.samples[dataset.Train]
	// Without augmentation every epoch shows the same rows: gather them
	// once; with it, each epoch overwrites them with its choice of views.
	x, _ := gather(r.feats, trainSet)
	bestHead := h.Clone()
	loop := &Loop{Epochs: r.o.Epochs, Stage: 1, History: &r.history}
	loop.Epoch = func(ctx context.Context) (model.Epoch, error) {
		r.pickViews(x, trainSet, r.rng)
		st, err := trainer.Epoch(ctx, x, r.trainLabels, r.sw)
		if err != nil {
			return model.Epoch{}, err
		}
		e := model.Epoch{Loss: st.Loss, Accuracy: st.Accuracy}
		if len(r.valY) > 0 {
			// The trainer's own forward pass: the head's pure-Go one took
			// twice as long as the epoch.
			e.ValLoss, e.ValAccuracy, err = trainer.Evaluate(ctx, r.valX, r.valY, r.valW)
			if err != nil {
				return model.Epoch{}, fmt.Errorf("train: validate: %w", err)
			}
			e.HasValidation = true
		}
		return e, nil
	}
	stop := &EarlyStopping{Patience: r.o.Patience, Best: r.best}
	loop.Add(
		r.best.Hook(func() error { return bestHead.CopyFrom(h) }, nil),
		stop.Hook(loop),
		r.progress(),
	)
	if err := loop.Run(r.ctx); err != nil {
		return nil, err
	}
	r.stoppedEarly = stop.Stopped
	return bestHead, nil
}

// progress is the hook that reports each epoch of either stage.
func (r *runner) progress() Hook {
	return Hook{OnEpoch: func(e *model.Epoch) (bool, error) {
		r.emit(EpochFinished{Epoch: *e, Epochs: r.totalEpochs, Best: r.best.Improved})
		return false, nil
	}}
}

// fineTune is stage 2, when asked for: mixed9, mixed10 and the head h
// together. It returns nil when the fine-tuned blocks did not beat the
// head alone.
func (r *runner) fineTune(h *head.Head) (*fineTuned, error) {
	if r.o.FineTune == 0 {
		return nil, nil
	}
	r.emit(PhaseStarted{Phase: FineTuning})
	if r.job.ReleaseExtractor != nil {
		r.job.ReleaseExtractor()
	}
	st := stage2{job: r.job, acts: r.acts, std: r.std, weights: r.weights,
		trainSet: r.samples[dataset.Train], valSet: r.samples[dataset.Validation],
		trainLabels: r.trainLabels, sw: r.sw, valY: r.valY, valW: r.valW, rng: r.rng, emit: r.emit, totalEpochs: r.totalEpochs}
	lr := r.o.FineTuneLearningRate
	for attempt := 1; ; attempt++ {
		tuned, diverged, err := st.run(r.ctx, h, lr, &r.history, r.best, r.progress())
		if err != nil || !diverged {
			return tuned, err
		}
		// When nothing of an unstable fine-tuning was kept, it starts
		// again from the head, ten times slower, once.
		again := attempt == 1 && tuned == nil
		r.emit(FineTuneStopped{Epoch: len(r.history), LearningRate: lr, Again: again})
		if !again {
			return tuned, nil
		}
		lr /= 10
	}
}

// buildModel makes the model file's content: labels, backbone, the
// training record (with the test split), the head with the
// standardisation folded in, and the fine-tuned blocks if any.
func (r *runner) buildModel(h *head.Head, tuned *fineTuned) *model.Model {
	m := &model.Model{Meta: model.Meta{
		Labels:   slices.Clone(r.d.Classes),
		Backbone: r.job.Backbone,
		Created:  time.Now().UTC(),
		Training: &model.Training{
			Dataset:    r.d.Root,
			Layout:     string(r.d.Layout),
			Options:    r.o.Hyperparameters,
			Epochs:     r.history,
			BestEpoch:  r.best.Epoch,
			TrainCount: len(r.samples[dataset.Train]),
			ValCount:   len(r.samples[dataset.Validation]) + len(r.calib),
		},
	}, Head: r.std.fold(h.Layers())}
	if tuned != nil {
		m.Top = tuned.units
	} else if r.baseTop {
		m.Top = r.job.Base.Top
	}
	for _, s := range r.samples[dataset.Test] {
		it := r.d.Items[s.item]
		m.Training.Test = append(m.Training.Test, model.Sample{Path: it.Path, SHA256: hex.EncodeToString(it.Hash[:]), Label: s.label})
	}
	return m
}

// evaluate is the final evaluation, on the test photos when there are
// some, else on the validation photos (both halves, when a fine-tuning
// run split them).
func (r *runner) evaluate(h *head.Head, tuned bool) (*Result, error) {
	res := &Result{Data: r.d, StoppedEarly: r.stoppedEarly, Skipped: r.skipped}
	evalSet, name := r.validation(), "validation"
	if test := r.samples[dataset.Test]; len(test) > 0 {
		evalSet, name = test, "test"
	}
	if len(evalSet) == 0 {
		return res, nil
	}
	r.emit(PhaseStarted{Phase: Evaluating})
	preds, probs, err := r.predict(h, tuned, evalSet)
	if err != nil {
		return nil, fmt.Errorf("train: evaluate: %w", err)
	}
	if res.Report, err = eval.Compute(r.d.Classes, labelsOf(evalSet), probs, r.o.TopK); err != nil {
		return nil, fmt.Errorf("train: evaluate: %w", err)
	}
	res.Evaluated, res.Samples = name, preds
	return res, nil
}

// validation returns every validation photo: the half that chose the
// epoch, then the half set aside, if any.
func (r *runner) validation() []sample {
	return slices.Concat(r.samples[dataset.Validation], r.calib)
}

// predict returns the final head h's predictions of set, and their
// probabilities as rows; tuned says whether fine-tuned blocks make the
// features (which are then computed from the cached activations).
func (r *runner) predict(h *head.Head, tuned bool, set []sample) ([]Prediction, []float32, error) {
	var x []float32
	if tuned {
		// The fine-tuned blocks make other features than the cached ones.
		var err error
		if x, err = r.acts.splitFeatures(r.ctx, r.job.Engine, r.weights, r.o.BatchSize, set); err != nil {
			return nil, nil, err
		}
		r.std.apply(x)
	} else {
		x, _ = gather(r.feats, set)
	}
	probs, err := h.Predict(x)
	if err != nil {
		return nil, nil, err
	}
	n := len(r.d.Classes)
	preds := make([]Prediction, len(set))
	for i, s := range set {
		preds[i] = Prediction{Path: r.d.Items[s.item].Path, Truth: s.label, Probs: probs[i*n : (i+1)*n]}
	}
	return preds, probs, nil
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
