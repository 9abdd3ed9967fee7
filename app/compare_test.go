package app

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/train"
)

// A retraining is compared with the model it continued on the same
// photos: the old model's accuracy there is its own evaluation's, the new
// one's the training's, and every photo that changed answer is listed
// once, fixed before broken, with what each model said.
func TestCompareRetraining(t *testing.T) {
	a, eng, first, _ := setup(t)
	o := train.DefaultOptions()
	o.Epochs = 3
	res, err := a.Train(context.Background(), eng, TrainRequest{
		Data: mltest.Photos(t, "flowers"), DataOptions: dataset.Options{Validation: 0.2, Test: 0.2},
		Options: o, Base: first.Model,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !CanCompare(first.Model, eng) {
		t.Fatal("a head-only model of the same image model cannot be compared")
	}
	c, err := NewClassifier(first.Model, eng)
	if err != nil {
		t.Fatal(err)
	}
	cmp, err := c.Compare(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Evaluated != "test" || cmp.N != len(res.Samples) || cmp.N != len(first.Samples) {
		t.Fatalf("compared on %d %s photos; the models were tested on %d and %d", cmp.N, cmp.Evaluated, len(first.Samples), len(res.Samples))
	}
	if math.Abs(cmp.Before-first.Report.Accuracy) > 1e-9 || math.Abs(cmp.After-res.Report.Accuracy) > 1e-9 {
		t.Errorf("before %.3f (its evaluation %.3f), after %.3f (%.3f)", cmp.Before, first.Report.Accuracy, cmp.After, res.Report.Accuracy)
	}
	if len(cmp.Changed) != len(cmp.Fixed)+len(cmp.Broken) {
		t.Fatalf("%d changed, %d fixed, %d broken", len(cmp.Changed), len(cmp.Fixed), len(cmp.Broken))
	}
	for i, ch := range cmp.Changed {
		fixed := i < len(cmp.Fixed)
		want := cmp.Broken
		if fixed {
			want = cmp.Fixed
		}
		if ch.Fixed != fixed || !slices.Contains(want, ch.Path) ||
			(fixed && (ch.After != ch.Truth || ch.Before == ch.Truth)) || (!fixed && (ch.Before != ch.Truth || ch.After == ch.Truth)) {
			t.Errorf("changed %d: %+v", i, ch)
		}
	}
	photos, right := 0, 0.0
	for _, k := range cmp.Kinds {
		photos += k.Photos
		right += k.After * float64(k.Photos)
	}
	if photos != cmp.N || math.Abs(right/float64(photos)-cmp.After) > 1e-9 {
		t.Errorf("kinds hold %d photos, %.3f right; want %d, %.3f", photos, right/float64(photos), cmp.N, cmp.After)
	}
}
