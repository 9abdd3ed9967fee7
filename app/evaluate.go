package app

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/eval"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/train"
)

// Evaluation is a model's evaluation on labelled photos.
type Evaluation struct {
	Report  *eval.Report
	Samples []train.Prediction
	// Skipped lists photos left out, with the reason.
	Skipped []string
	// Threshold is what the model's "not sure" threshold gives on these
	// photos; nil when the model has none.
	Threshold *ThresholdResult
	// Strangers is how many photos were answered "not one of its kinds";
	// nil when the model keeps nothing to judge it.
	Strangers *StrangersResult
}

// StrangersResult is what "not one of its kinds" did on evaluated photos:
// each of them is of one of the model's kinds, so every photo answered
// that way is a false alarm.
type StrangersResult struct {
	Judged bool `json:"judged"`
	// Reason says why not, when not judged.
	Reason string `json:"reason,omitempty"`
	// Answered of Photos were answered "not one of its kinds"; Paths
	// lists them, strangest first.
	Answered int      `json:"answered"`
	Photos   int      `json:"photos"`
	Paths    []string `json:"paths,omitempty"`
}

// EvaluateFolder evaluates the classifier on every photo of a folder laid
// out like training data (whatever split the layout assigns them). Its
// class names must be among the model's labels.
func (c *Classifier) EvaluateFolder(ctx context.Context, dir string, opt dataset.Options, progress func(features.Progress)) (*Evaluation, error) {
	opt.Validation, opt.Test = 0, 0
	d, err := ScanFolder(ctx, dir, opt)
	if err != nil {
		return nil, err
	}
	labelOf := map[string]int{}
	for i, l := range c.Model.Labels {
		labelOf[l] = i
	}
	var items []features.Item
	var truth []int
	for _, it := range d.Items {
		items = append(items, features.Item{Path: it.Path, Hash: it.Hash})
		name := d.Classes[it.Label]
		l, ok := labelOf[name]
		if !ok {
			return nil, fmt.Errorf("evaluate %s: class %q is not one the model knows (%s)", dir, name, strings.Join(c.Model.Labels, ", "))
		}
		truth = append(truth, l)
	}
	ev := &Evaluation{}
	for _, p := range d.Problems {
		ev.Skipped = append(ev.Skipped, p.String())
	}
	return c.evaluate(ctx, items, truth, ev, progress)
}

// EvaluateRecorded evaluates the classifier on the test split recorded in
// its model at training time. Photos since deleted or changed are skipped.
func (c *Classifier) EvaluateRecorded(ctx context.Context, progress func(features.Progress)) (*Evaluation, error) {
	t := c.Model.Training
	if t == nil || len(t.Test) == 0 {
		return nil, fmt.Errorf("the model records no test split: evaluate it on a folder of labelled photos (eval --data DIR), or train with a test share (--test)")
	}
	ev := &Evaluation{}
	var items []features.Item
	var truth []int
	for _, s := range t.Test {
		var h [32]byte
		if b, err := hex.DecodeString(s.SHA256); err == nil && len(b) == 32 {
			copy(h[:], b)
		}
		items = append(items, features.Item{Path: s.Path, Hash: h})
		truth = append(truth, s.Label)
	}
	return c.evaluate(ctx, items, truth, ev, progress)
}

// sortByScore orders paths by their scores, highest first.
func sortByScore(paths []string, scores []float64) {
	idx := make([]int, len(paths))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	sorted := make([]string, len(paths))
	for i, j := range idx {
		sorted[i] = paths[j]
	}
	copy(paths, sorted)
}

func (c *Classifier) evaluate(ctx context.Context, items []features.Item, truth []int, ev *Evaluation, progress func(features.Progress)) (*Evaluation, error) {
	res, err := c.Engine.Extractor(true).Extract(ctx, items, progress)
	if err != nil {
		return nil, err
	}
	// Classifying answers close calls of 8 bits in float: so does the
	// evaluation, so that a photo gets the same answer in both.
	if _, err := c.settle(ctx, items, res, 0, len(items)); err != nil {
		return nil, err
	}
	var x []float32
	var y []int
	var kept []int
	for i := range items {
		if res.Errs[i] != nil {
			ev.Skipped = append(ev.Skipped, res.Errs[i].Error())
			continue
		}
		x = append(x, res.Row(i)...)
		y = append(y, truth[i])
		kept = append(kept, i)
	}
	if len(y) == 0 {
		return nil, fmt.Errorf("evaluate: none of the %d photos could be read", len(items))
	}
	probs, err := c.head.Predict(x)
	if err != nil {
		return nil, err
	}
	if ev.Report, err = eval.Compute(slices.Clone(c.Model.Labels), y, probs, 3); err != nil {
		return nil, err
	}
	n := len(c.Model.Labels)
	for k, i := range kept {
		ev.Samples = append(ev.Samples, train.Prediction{Path: items[i].Path, Truth: y[k], Probs: probs[k*n : (k+1)*n]})
	}
	if ev.Threshold, err = MeasureThreshold(c.Model.Threshold, ev.Samples); err != nil {
		return nil, err
	}
	if c.Model.Strangers != nil {
		judged, reason := c.JudgesStrangers()
		sr := &StrangersResult{Judged: judged, Reason: reason, Photos: len(kept)}
		var scores []float64
		for k := range kept {
			if is, score := c.stranger(x[k*features.Dim : (k+1)*features.Dim]); is {
				sr.Paths = append(sr.Paths, ev.Samples[k].Path)
				scores = append(scores, score)
			}
		}
		sr.Answered = len(sr.Paths)
		sortByScore(sr.Paths, scores)
		ev.Strangers = sr
	}
	return ev, nil
}
