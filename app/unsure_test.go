package app

import (
	"strings"
	"testing"

	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/selective"
)

func TestPromise(t *testing.T) {
	for _, tc := range []struct {
		th   *model.Threshold
		want []string
	}{
		{nil, []string{"answers every photo"}},
		{&model.Threshold{Value: 0.8, TargetAccuracy: 0.9, Reached: true, Coverage: 0.5, Accuracy: 0.92, Photos: 200, Answered: 100, Basis: model.BasisValidation,
			Test: &selective.Point{Photos: 50, Answered: 20, Coverage: 0.4, Accuracy: 0.9}},
			[]string{"Below 80% confidence", "200 validation photos", "answered 50%", "right on 92%", "somewhat optimistic", "expect at least 85%", "On 50 test photos", "right on 90%"}},
		{&model.Threshold{Value: 0.998, TargetAccuracy: 0.95, Reached: true, Coverage: 0.03, Accuracy: 1, Photos: 36, Answered: 1, Basis: model.BasisOutOfFold, Folds: 5,
			Test: &selective.Point{Photos: 20}},
			[]string{"Below 99.8% confidence", "36 training and validation photos", "one of 5 practice models that never saw it", "With 1 photo answered", "it answered none"}},
		// Without test photos: what the promise rests on.
		{&model.Threshold{Value: 0.7, TargetAccuracy: 0.9, Reached: true, Coverage: 0.6, Accuracy: 0.9, Photos: 150, Answered: 90, Basis: model.BasisOutOfFold, Folds: 5},
			[]string{"no test photos: this is a cross-validated estimate resting on 150 photos"}},
		{&model.Threshold{Value: 0.7, TargetAccuracy: 0.9, Reached: true, Coverage: 0.6, Accuracy: 0.9, Photos: 23, Answered: 14, Basis: model.BasisValidationHalf},
			[]string{"23 validation photos kept aside", "rests on 23 photos that took no part in training"}},
		{&model.Threshold{Value: 0.6, TargetAccuracy: 0.99, Coverage: 0.2, Accuracy: 0.9, Photos: 50, Answered: 10},
			[]string{"No threshold reached the 99% asked for", "Below 60% confidence"}},
	} {
		got := Promise(tc.th)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("promise %q lacks %q", got, w)
			}
		}
	}
}

// PromiseAt reads another confidence's promise from the stored curve: the
// threshold itself gives its own point, others the curve's next point up.
func TestPromiseAt(t *testing.T) {
	curve := []selective.Point{
		{Threshold: 0.3, Coverage: 1, Accuracy: 0.6, Answered: 10, Photos: 10},
		{Threshold: 0.5, Coverage: 0.6, Accuracy: 0.8, Answered: 6, Photos: 10},
		{Threshold: 0.9, Coverage: 0.2, Accuracy: 1, Answered: 2, Photos: 10},
	}
	th := &model.Threshold{Value: 0.5, TargetAccuracy: 0.8, Reached: true, Coverage: 0.6, Accuracy: 0.8, Answered: 6, Photos: 10, Curve: curve}
	for _, tc := range []struct {
		v    float64
		want selective.Point
		ok   bool
	}{
		{0.5, curve[1], true},
		{0, curve[0], true},
		{0.31, curve[1], true},
		{0.6, curve[2], true},
		{0.95, selective.Point{}, false},
	} {
		if got, ok := PromiseAt(th, tc.v); got != tc.want || ok != tc.ok {
			t.Errorf("PromiseAt(%v) = %+v, %v; want %+v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := PromiseAt(nil, 0.5); ok {
		t.Error("a model without a threshold promised something")
	}
}
