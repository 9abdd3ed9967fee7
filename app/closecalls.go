package app

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/clasifica/clasifica/ml/eval"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// Close calls of 8 bits.
//
// A head trained on the 8-bit image model's features classifies with
// them, which is faster, and its labels are those of its training. But
// 8 bits' rounding moves each class's score a little (the features keep
// a cosine of 0.99 with the float ones), and where the two best classes
// are nearly tied it can swap them: the float image model, which an
// exported model runs and any other runtime would, then gives the other
// label. So a photo whose two best classes are closer than the model's
// RecheckGap is a close call: its features are computed again with the
// float image model and its answer is the float one. Clear-cut photos
// keep 8 bits' speed, and rounding that cannot swap their labels leaves
// them as float gives them.
//
// The gap is measured as the difference of the two best classes'
// log-probabilities (the head's logits' difference, which softmax keeps).
// How far 8 bits move it scales with the head. Measured on the offline
// test backbone between 8-bit and float features of the same photos
// (three models, 446 photos, 19 labels swapped), the changes were at
// most 0.79 (37 pet breeds), 0.82 (cats and dogs) and 0.87 (five
// flowers) times the spread (standard deviation) of the model's gaps,
// spreads that differed 8-fold (0.20, 1.56, 0.59); more than half a
// spread on 1.4%, 1.4% and 3.3% of the photos, and every swapped label
// was a gap under half a spread. A model trained on 8-bit features
// therefore records the spread of its gaps on its validation and test
// photos, times recheckSpread, as its RecheckGap.

// recheckSpread is the model's RecheckGap in spreads of its gaps: half,
// which held every swap measured (see above) and computes about half as
// many photos again as a whole spread, the largest change measured
// (flowers 71 instead of 112 of 150, cats and dogs 12 instead of 28 of
// 148). A label can still differ from float's where 8 bits move a
// photo's gap by more than its size, and it lies above half a spread:
// rare on both counts.
const recheckSpread = 0.5

// defaultRecheckGap is the gap of 8-bit models trained before they
// recorded one, or on too few photos to measure its spread: above the
// largest change measured (1.27).
const defaultRecheckGap = 1.5

// minSpreadPhotos is the fewest photos the spread of a model's gaps is
// measured on.
const minSpreadPhotos = 10

// recheckGap returns the gap below which m's 8-bit answers are computed
// again in float, 0 for a model that classifies in float.
func recheckGap(m *model.Model) float64 {
	if modelPrecision(m) != PrecisionInt8 || len(m.Top) > 0 {
		return 0
	}
	if m.Backbone.RecheckGap > 0 {
		return m.Backbone.RecheckGap
	}
	return defaultRecheckGap
}

// topGap returns the difference of the two largest log-probabilities of
// probs (+Inf for a single class).
func topGap(probs []float32) float64 {
	p1, p2 := float32(-1), float32(-1)
	for _, p := range probs {
		switch {
		case p > p1:
			p1, p2 = p, p1
		case p > p2:
			p2 = p
		}
	}
	if p2 < 0 {
		return math.Inf(1)
	}
	// Probabilities of 0 (underflow) make an infinite gap: clear-cut.
	return math.Log(float64(p1)) - math.Log(float64(p2))
}

// measureRecheckGap sets the RecheckGap of a model trained on 8-bit
// features from the spread of its gaps on the photos it was not trained
// on (preds), and the share of those that are close calls; too few
// photos leave the default gap and no share.
func measureRecheckGap(m *model.Model, preds []train.Prediction) {
	var gaps []float64
	for _, p := range preds {
		if g := topGap(p.Probs); !math.IsInf(g, 0) {
			gaps = append(gaps, g)
		}
	}
	if len(gaps) < minSpreadPhotos {
		return
	}
	mean := 0.0
	for _, g := range gaps {
		mean += g
	}
	mean /= float64(len(gaps))
	v := 0.0
	for _, g := range gaps {
		v += (g - mean) * (g - mean)
	}
	sd := math.Sqrt(v / float64(len(gaps)))
	if sd == 0 {
		return
	}
	m.Backbone.RecheckGap = recheckSpread * sd
	calls := 0
	for _, g := range gaps {
		if g < m.Backbone.RecheckGap {
			calls++
		}
	}
	m.Backbone.CloseShare = float64(calls) / float64(len(gaps))
}

// floatPays reports whether classifying in float throughout costs less
// than 8 bits with a share of close calls computed again in float: each
// photo in 8 bits costs int8/float of a float photo's time (the speeds
// the 8-bit check measured on this computer; half, where none is known),
// each close call a float photo more.
func floatPays(closeShare float64, c PrecisionCheck, checked bool) bool {
	cost := 0.5
	if checked && c.FloatRate > 0 && c.Int8Rate > 0 {
		cost = c.FloatRate / c.Int8Rate
	}
	return closeShare > 0 && cost+closeShare >= 1
}

// settle computes again in float the features of the photos [from, to)
// of items whose 8-bit answer is a close call, replacing their rows (and
// errors) in res, and returns which of them it computed again, by index.
// The float features of items with a Hash are kept in and taken from the
// feature cache, under the float key. A classifier that runs in float
// settles nothing.
func (c *Classifier) settle(ctx context.Context, items []features.Item, res *features.Result, from, to int) ([]int, error) {
	if c.recheckGap == 0 || c.Engine.float == nil || from == to {
		return nil, nil
	}
	probs, err := c.head.Predict(res.Features[from*features.Dim : to*features.Dim])
	if err != nil {
		return nil, err
	}
	calls := c.closeCalls(probs, func(k int) bool { return res.Errs[from+k] == nil })
	for k := range calls {
		calls[k] += from
	}
	fr, err := c.inFloat(ctx, items, calls)
	if err != nil || fr == nil {
		return nil, err
	}
	for k, i := range calls {
		copy(res.Row(i), fr.Row(k))
		res.Errs[i] = fr.Errs[k]
	}
	return calls, nil
}

// closeCalls returns the indices of the rows of probs (one row of
// probabilities per photo) that are close calls, among those ok accepts.
func (c *Classifier) closeCalls(probs []float32, ok func(int) bool) []int {
	n := len(c.Model.Labels)
	var calls []int
	for k := range len(probs) / n {
		if ok(k) && topGap(probs[k*n:(k+1)*n]) < c.recheckGap {
			calls = append(calls, k)
		}
	}
	return calls
}

// inFloat extracts the features of items[i] for each i of calls with the
// engine's float twin (nil for no calls), through the feature cache, and
// counts them as rechecked.
func (c *Classifier) inFloat(ctx context.Context, items []features.Item, calls []int) (*features.Result, error) {
	if len(calls) == 0 {
		return nil, nil
	}
	f, release, err := c.Engine.floatTwin(ctx)
	defer release()
	if err != nil {
		return nil, err
	}
	sub := make([]features.Item, len(calls))
	for k, i := range calls {
		sub[k] = items[i]
	}
	x := f.Extractor(true)
	// One photo a run keeps the float model's arena to one photo's
	// activations: classifying 150 flowers (58 close calls) peaked at
	// 500 MB instead of 615, in the same CPU time (10.7–11.1 s against
	// 10.6–11.4; 8 bits run on the CPU only, where batches of 8 are no
	// faster).
	x.Batch = 1
	fr, err := x.Extract(ctx, sub, nil)
	if err != nil {
		return nil, fmt.Errorf("close calls in float: %w", err)
	}
	c.rechecked.Add(int64(len(calls)))
	return fr, nil
}

// Rechecked returns how many photos the classifier has computed again in
// float, as close calls of 8 bits (see recheckGap).
func (c *Classifier) Rechecked() int { return int(c.rechecked.Load()) }

// settleTraining makes a model just trained on 8-bit features answer its
// evaluated photos as classifying will: it records the model's
// RecheckGap, computes its close calls among res.Samples again in float
// (their features kept in the cache), and measures the report and the
// threshold's test figures again on those answers. Results then shows,
// for each test photo, the answer Classify gives it.
func (a *App) settleTraining(ctx context.Context, eng *Engine, res *train.Result, topK int) error {
	m := res.Model
	if eng.Precision != PrecisionInt8 || modelPrecision(m) != PrecisionInt8 || len(m.Top) > 0 {
		return nil
	}
	unseen := res.Validation
	if res.Evaluated == "test" || len(unseen) == 0 {
		unseen = append(slices.Clip(unseen), res.Samples...)
	}
	measureRecheckGap(m, unseen)
	if len(res.Samples) == 0 || res.Data == nil {
		return nil
	}
	c, err := NewClassifier(m, eng)
	if err != nil {
		return err
	}
	hashes := make(map[string][32]byte, len(res.Data.Items))
	for _, it := range res.Data.Items {
		hashes[it.Path] = it.Hash
	}
	items := make([]features.Item, len(res.Samples))
	n := len(m.Labels)
	probs := make([]float32, 0, len(items)*n)
	for i, s := range res.Samples {
		items[i] = features.Item{Path: s.Path, Hash: hashes[s.Path]}
		probs = append(probs, s.Probs...)
	}
	// The samples' features are not at hand: their close calls are
	// found from their 8-bit probabilities.
	calls := c.closeCalls(probs, func(int) bool { return true })
	fr, err := c.inFloat(ctx, items, calls)
	if err != nil || fr == nil {
		return err
	}
	fp, err := c.head.Predict(fr.Features)
	if err != nil {
		return err
	}
	for k, i := range calls {
		if fr.Errs[k] != nil {
			// Read at training, unreadable now: its 8-bit answer stays.
			continue
		}
		res.Samples[i].Probs = slices.Clone(fp[k*n : (k+1)*n])
		copy(probs[i*n:(i+1)*n], res.Samples[i].Probs)
	}
	truth := make([]int, len(res.Samples))
	for i, s := range res.Samples {
		truth[i] = s.Truth
	}
	if res.Report, err = eval.Compute(res.Report.Labels, truth, probs, topK); err != nil {
		return err
	}
	if th := m.Threshold; th != nil && th.Test != nil && res.Evaluated == "test" {
		p, err := train.MeasureThreshold(th.Value, res.Samples)
		if err != nil {
			return err
		}
		th.Test = &p
	}
	return nil
}
