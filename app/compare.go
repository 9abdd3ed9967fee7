package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// Comparison is a model before and after a retraining, on the same
// photos: those the new model was evaluated on.
type Comparison struct {
	// Evaluated names the photos ("test" or "validation"); N counts them.
	Evaluated string `json:"evaluated"`
	N         int    `json:"n"`
	// LeftOut counts the new model's test photos that were not the old
	// model's test photos (the split moved them: a photo kept with its
	// near-copy, say): the old model may have learnt from them, so they
	// are left out of the comparison. LeftOutPhotos names each, with why
	// it was not a test photo before.
	LeftOut       int            `json:"left_out,omitempty"`
	LeftOutPhotos []LeftOutPhoto `json:"left_out_photos,omitempty"`
	Before        float64        `json:"accuracy_before"`
	After         float64        `json:"accuracy_after"`
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

// LeftOutPhoto is a test photo of the retrained model that was not one of
// the model it continued, and why.
type LeftOutPhoto struct {
	Path string `json:"path"`
	// Why it was not a test photo before, for people: put among the
	// test photos with a near-copy, put there by the user, the test
	// share changed, or new since the previous training.
	Why string `json:"why"`
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
// come from the cache), and compares the two. When both were tested on
// test photos, only the photos that were test photos for both count (see
// Comparison.LeftOut). A photo of a kind base does not know counts as
// wrong before.
func (c *Classifier) Compare(ctx context.Context, res *train.Result) (*Comparison, error) {
	if res.Report == nil || len(res.Samples) == 0 {
		return nil, fmt.Errorf("the new model has no test or validation photos to compare on")
	}
	var tested map[string]bool
	if t := c.Model.Training; res.Evaluated == "test" && t != nil && len(t.Test) > 0 {
		tested = make(map[string]bool, len(t.Test))
		for _, s := range t.Test {
			tested[s.SHA256] = true
		}
	}
	var samples []train.Prediction
	var items []features.Item
	var left []LeftOutPhoto
	for _, s := range res.Samples {
		it := features.Item{Path: s.Path}
		// The content hash finds the photo's features in the cache.
		if data, err := os.ReadFile(s.Path); err == nil {
			it.Hash = sha256.Sum256(data)
		}
		if tested != nil && !tested[hex.EncodeToString(it.Hash[:])] {
			left = append(left, LeftOutPhoto{Path: s.Path, Why: whyNewTestPhoto(c.Model, res, it.Hash)})
			continue
		}
		samples, items = append(samples, s), append(items, it)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("none of the new model's %d test photos was a test photo of the model it continued", len(res.Samples))
	}
	feats, err := c.Engine.Extractor(true).Extract(ctx, items, nil)
	if err != nil {
		return nil, err
	}
	// The model before answers as it would in Classify: its close calls
	// in float.
	if _, err := c.settle(ctx, items, feats, 0, len(items)); err != nil {
		return nil, err
	}
	labels := res.Model.Labels
	cmp := &Comparison{Evaluated: res.Evaluated, N: len(samples), LeftOut: len(left), LeftOutPhotos: left}
	found := make([][2]int, len(labels))
	support := make([]int, len(labels))
	var right [2]int
	var broken []Changed
	for i, s := range samples {
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

// whyNewTestPhoto says why the photo with content hash h, a test photo of
// res's model, was not one of base's. A photo's split is a function of
// its content, the shares, the user's forced splits and the near-copy
// pairs (dataset.Scan), so one of those changed, or the photo is new.
func whyNewTestPhoto(base *model.Model, res *train.Result, h [32]byte) string {
	if d := res.Data; d != nil {
		for _, it := range d.Items {
			if it.Hash == h && it.KeptWith != "" {
				twin := it.KeptWith
				if rel, err := filepath.Rel(d.Root, twin); err == nil && filepath.IsLocal(rel) {
					twin = rel
				}
				return fmt.Sprintf("put among the test photos with its near-copy %s (the same shot), so that the model is not tested on a photo it learnt", twin)
			}
		}
		for _, dec := range d.Decided {
			if dec.Hash == h && dec.Forced && dec.Split == dataset.Test {
				return "you put it among the test photos"
			}
		}
	}
	if was, now := base.Training.Options.Test, res.Model.Training.Options.Test; was != now {
		return fmt.Sprintf("the test share changed from %.0f%% to %.0f%%", 100*was, 100*now)
	}
	return "new since the previous training"
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
