package app

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"slices"

	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// Comparison is a model before and after a retraining, on the same
// photos: those the new model was evaluated on.
type Comparison struct {
	// Evaluated names the photos ("test" or "validation"); N counts them.
	Evaluated string  `json:"evaluated"`
	N         int     `json:"n"`
	Before    float64 `json:"accuracy_before"`
	After     float64 `json:"accuracy_after"`
	// Kinds holds each kind's share found (recall) before and after.
	Kinds []KindChange `json:"kinds"`
	// Fixed lists the photos the old model got wrong and the new one
	// right; Broken the reverse.
	Fixed  []string `json:"fixed"`
	Broken []string `json:"broken"`
	// Changed says, for each photo of Fixed and Broken (in that order),
	// what it is and what each model answered, for the app's view of
	// them.
	Changed []Changed `json:"changed"`
}

// Changed is a photo whose answer changed in a retraining.
type Changed struct {
	Path  string `json:"path"`
	Truth string `json:"truth"`
	// Before is the previous model's answer; After the new one's.
	Before string `json:"before"`
	After  string `json:"after"`
	// Fixed: right now, wrong before; otherwise the reverse.
	Fixed bool `json:"fixed"`
}

// KindChange is one kind's recall before and after.
type KindChange struct {
	Kind   string  `json:"kind"`
	Photos int     `json:"photos"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
}

// Compare evaluates base, the model a retraining continued, on the photos
// the new model of res was evaluated on, with eng's backbone (features
// come from the cache), and compares the two. A photo of a kind base does
// not know counts as wrong before.
func (c *Classifier) Compare(ctx context.Context, res *train.Result) (*Comparison, error) {
	if res.Report == nil || len(res.Samples) == 0 {
		return nil, fmt.Errorf("the new model has no test or validation photos to compare on")
	}
	items := make([]features.Item, len(res.Samples))
	for i, s := range res.Samples {
		items[i] = features.Item{Path: s.Path}
		// The content hash finds the photo's features in the cache.
		if data, err := os.ReadFile(s.Path); err == nil {
			items[i].Hash = sha256.Sum256(data)
		}
	}
	feats, err := c.Engine.Extractor(true).Extract(ctx, items, nil)
	if err != nil {
		return nil, err
	}
	labels := res.Model.Labels
	cmp := &Comparison{Evaluated: res.Evaluated, N: len(res.Samples)}
	found := make([][2]int, len(labels))
	support := make([]int, len(labels))
	var right [2]int
	var broken []Changed
	for i, s := range res.Samples {
		answer := labels[argmax32(s.Probs)]
		after := answer == labels[s.Truth]
		before, was := false, "" // a photo that cannot be read had no answer
		if feats.Errs[i] == nil {
			p, err := c.head.Predict(feats.Row(i))
			if err != nil {
				return nil, err
			}
			was = c.Model.Labels[argmax32(p)]
			before = was == labels[s.Truth]
		}
		support[s.Truth]++
		for k, ok := range [2]bool{before, after} {
			if ok {
				right[k]++
				found[s.Truth][k]++
			}
		}
		ch := Changed{Path: s.Path, Truth: labels[s.Truth], Before: was, After: answer, Fixed: after}
		switch {
		case after && !before:
			cmp.Fixed = append(cmp.Fixed, s.Path)
			cmp.Changed = append(cmp.Changed, ch)
		case before && !after:
			cmp.Broken = append(cmp.Broken, s.Path)
			broken = append(broken, ch)
		}
	}
	cmp.Changed = append(cmp.Changed, broken...)
	cmp.Before, cmp.After = float64(right[0])/float64(cmp.N), float64(right[1])/float64(cmp.N)
	for k, l := range labels {
		if support[k] == 0 {
			continue
		}
		n := float64(support[k])
		cmp.Kinds = append(cmp.Kinds, KindChange{Kind: l, Photos: support[k], Before: float64(found[k][0]) / n, After: float64(found[k][1]) / n})
	}
	return cmp, nil
}

// CanCompare says whether a retraining of base can be compared with it on
// eng: base must read the features eng makes (same backbone, no
// fine-tuned blocks, whose features differ).
func CanCompare(base *model.Model, eng *Engine) bool {
	return base != nil && len(base.Top) == 0 && base.Backbone.SHA256 == eng.Backbone.SHA256
}

// recordRun adds the finished run to the new model's history, after
// base's when it continued one.
func recordRun(res *train.Result, base *model.Model) {
	r := model.Run{Date: res.Model.Created, Photos: res.Model.Training.TrainCount, Evaluated: res.Evaluated, Continued: base != nil}
	if res.Report != nil {
		r.Accuracy = res.Report.Accuracy
	}
	res.Model.AddRun(base, r)
}

func argmax32(v []float32) int {
	return slices.Index(v, slices.Max(v))
}
