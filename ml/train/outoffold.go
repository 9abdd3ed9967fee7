package train

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/clasifica/clasifica/internal/progress"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/model"
)

// DefaultFolds is how many heads choose a head-only model's "not sure"
// threshold: each is trained without a fifth of the photos and predicts
// that fifth. Five is the usual k of cross-validation, and heads train in
// seconds on cached features.
const DefaultFolds = 5

// minHalf is the fewest validation photos each half may have when a
// fine-tuning run splits them (one half chooses the epoch, the other the
// threshold): with fewer, the run keeps them together and says that the
// promise is optimistic.
const minHalf = 15

// Seeds' streams, so that the folds, the halves and the fold heads draw
// numbers of their own and leave the main run's draws unchanged.
const (
	streamFolds  = 0xF01D
	streamHalves = 0xAA1F
	streamViews  = 0x5EE5
)

// folds returns k, the number of out-of-fold heads.
func (o Options) folds() int {
	if o.Folds == 0 {
		return DefaultFolds
	}
	return o.Folds
}

// deal assigns each sample to one of k groups, class by class, in an
// order shuffled by seed: every group gets about the same share of each
// class, and the same samples and seed give the same groups.
func deal(s []sample, k int, seed, stream uint64) []int {
	rng := rand.New(rand.NewPCG(seed, stream))
	byClass := map[int][]int{}
	var classes []int
	for i, smp := range s {
		if _, ok := byClass[smp.label]; !ok {
			classes = append(classes, smp.label)
		}
		byClass[smp.label] = append(byClass[smp.label], i)
	}
	slices.Sort(classes)
	group := make([]int, len(s))
	next := 0
	for _, c := range classes {
		idx := byClass[c]
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		// The count continues across classes, so that small classes do
		// not all start in group 0.
		for _, i := range idx {
			group[i] = next % k
			next++
		}
	}
	return group
}

// setAsideHalf, in a run that fine-tunes (or continues a fine-tuned
// model), moves half of the validation photos out of the run's sight:
// the other half chooses the epoch (of both stages), this one the "not
// sure" threshold, so that the promise rests on photos that chose
// nothing. With fewer than 2×minHalf validation photos they stay
// together and the promise will say it is optimistic.
func (r *runner) setAsideHalf() {
	if r.o.TargetAccuracy == 0 || r.o.FineTune == 0 && !r.baseTop {
		return
	}
	val := r.samples[dataset.Validation]
	if len(val) < 2*minHalf {
		return
	}
	half := deal(val, 2, r.o.Seed, streamHalves)
	var keep, aside []sample
	for i, s := range val {
		if half[i] == 0 {
			keep = append(keep, s)
		} else {
			aside = append(aside, s)
		}
	}
	r.samples[dataset.Validation], r.calib = keep, aside
}

// foldEpochs is how many epochs each out-of-fold head trains: as many as
// the model's head was trained for (its kept epoch; for a continued head,
// also the epoch its base kept), since a fold head has no validation
// photos of its own to choose on: the held-out fold must choose nothing.
func (r *runner) foldEpochs() int {
	n := r.best.Epoch
	if b := r.job.Base; b != nil && r.continues(b) && b.Training != nil {
		n += b.Training.BestEpoch
	}
	return max(n, 1)
}

// continues reports whether the run's head starts from b's.
func (r *runner) continues(b *model.Model) bool {
	return b.Backbone.SHA256 == r.job.Backbone.SHA256 && slices.Equal(b.Labels, r.d.Classes)
}

// outOfFold returns out-of-fold predictions of every training and
// validation photo (the set-aside half included): the photos are dealt
// into k folds, and for each fold a fresh head of the model's kind (its
// hyper-parameters, its trainer, the same standardised features, its
// epoch count) trains on the other folds and predicts this one. No photo
// is predicted by a head that saw it, and none chose anything about the
// head that predicts it, so the threshold chosen on them promises what
// new photos will get. It returns nil when there are too few photos for
// k folds.
func (r *runner) outOfFold() ([]Prediction, int, error) {
	k := r.o.folds()
	pool := slices.Concat(r.samples[dataset.Train], r.samples[dataset.Validation], r.calib)
	// Each held-out fold needs photos, and each fold head photos to learn.
	if k < 2 || len(pool) < 2*k {
		return nil, 0, nil
	}
	// The samples in the dataset's order, so that the folds do not depend
	// on how the splits were listed.
	slices.SortFunc(pool, func(a, b sample) int { return cmp.Compare(a.item, b.item) })
	group := deal(pool, k, r.o.Seed, streamFolds)
	r.pairFolds(pool, group)
	epochs := r.foldEpochs()
	r.emit(PhaseStarted{Phase: Calibrating})
	clock := progress.Start()
	total := k * epochs
	r.emit(Calibration{Progress: clock.At(0, total), Folds: k})
	preds := make([]Prediction, len(pool))
	n := len(r.d.Classes)
	for f := range k {
		var fit, held []sample
		var heldAt []int
		for i, s := range pool {
			if group[i] == f {
				held, heldAt = append(held, s), append(heldAt, i)
			} else {
				fit = append(fit, s)
			}
		}
		report := func(epoch int) {
			r.emit(Calibration{Progress: clock.At(f*epochs+epoch, total), Fold: f + 1, Folds: k})
		}
		h, err := r.foldHead(fit, epochs, uint64(f+1), report)
		if err != nil {
			return nil, 0, fmt.Errorf("train: not-sure threshold, fold %d of %d: %w", f+1, k, err)
		}
		x, _ := gather(r.feats, held)
		probs, err := h.Predict(x)
		if err != nil {
			return nil, 0, fmt.Errorf("train: not-sure threshold, fold %d of %d: %w", f+1, k, err)
		}
		for j, s := range held {
			preds[heldAt[j]] = Prediction{Path: r.d.Items[s.item].Path, Truth: s.label, Probs: probs[j*n : (j+1)*n]}
		}
	}
	return preds, k, nil
}

// pairFolds puts both photos of each near-copy pair the dataset keeps
// together (found by training's fingerprints or the user's label check)
// into one fold, the fold of the one with the smaller content hash, as
// the split keeps them on one side of the training/test divide: a
// held-out photo whose copy trained its head would be judged too kindly.
// Pairs are applied one by one, never chained into groups.
func (r *runner) pairFolds(pool []sample, group []int) {
	pairs := r.d.NearCopyPairs()
	if len(pairs) == 0 {
		return
	}
	at := make(map[[32]byte]int, len(pool))
	for i, s := range pool {
		at[r.d.Items[s.item].Hash] = i
	}
	for _, p := range pairs {
		a, okA := at[p[0]]
		b, okB := at[p[1]]
		if !okA || !okB {
			continue
		}
		if bytes.Compare(p[1][:], p[0][:]) < 0 {
			a, b = b, a
		}
		group[b] = group[a]
	}
}

// foldHead trains a fresh head on set for epochs epochs as trainHead
// trains the model's (without validation: it keeps the last epoch), with
// a seed of its own derived from the run's and fold. report is called
// after each epoch with its number.
func (r *runner) foldHead(set []sample, epochs int, fold uint64, report func(int)) (*head.Head, error) {
	cfg := r.o.headConfig()
	// A golden-ratio step keeps the folds' seeds apart from each other
	// and from the run's.
	cfg.Seed = r.o.Seed + fold*0x9E3779B97F4A7C15
	h, err := head.New(features.Dim, len(r.d.Classes), cfg)
	if err != nil {
		return nil, err
	}
	trainer, err := head.NewTrainer(h, cfg, r.job.Engine)
	if err != nil {
		return nil, err
	}
	defer trainer.Close()
	x, y := gather(r.feats, set)
	var sw []float32
	if r.o.ClassWeights {
		cw, err := head.BalancedClassWeights(y, len(r.d.Classes))
		if err != nil {
			return nil, err
		}
		if sw, err = head.SampleWeights(y, cw); err != nil {
			return nil, err
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, streamViews))
	loop := &Loop{Epochs: epochs, Stage: 1}
	loop.Epoch = func(ctx context.Context) (model.Epoch, error) {
		r.pickViews(x, set, rng)
		st, err := trainer.Epoch(ctx, x, y, sw)
		if err != nil {
			return model.Epoch{}, err
		}
		return model.Epoch{Loss: st.Loss, Accuracy: st.Accuracy}, nil
	}
	loop.Add(Hook{OnEpoch: func(e *model.Epoch) (bool, error) {
		report(e.Epoch)
		return false, nil
	}})
	if err := loop.Run(r.ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// pickViews fills x with one view of each sample of set, drawn by rng,
// when the run augments: each epoch shows every training photo once, as
// one of its views. Without augmentation x keeps the photos themselves.
func (r *runner) pickViews(x []float32, set []sample, rng *rand.Rand) {
	if r.o.Augment == 0 {
		return
	}
	for i, s := range set {
		row := s.rows[rng.IntN(len(s.rows))]
		copy(x[i*features.Dim:(i+1)*features.Dim], r.feats.Row(row))
	}
}
