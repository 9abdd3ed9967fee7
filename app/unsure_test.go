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
		{&model.Threshold{Value: 0.998, TargetAccuracy: 0.95, Reached: true, Coverage: 0.03, Accuracy: 1, Photos: 36, Answered: 1, Basis: model.BasisOutOfFold,
			Test: &selective.Point{Photos: 20}},
			[]string{"Below 99.8% confidence", "cross-validated", "With 1 photo answered", "it answered none"}},
		{&model.Threshold{Value: 0.6, TargetAccuracy: 0.99, Coverage: 0.2, Accuracy: 0.9, Photos: 50, Answered: 10},
			[]string{"No threshold reached 99%", "below 60% confidence"}},
	} {
		got := Promise(tc.th)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("promise %q lacks %q", got, w)
			}
		}
	}
}
