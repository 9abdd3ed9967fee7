package app

import (
	"fmt"

	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/selective"
	"github.com/clasifica/clasifica/ml/train"
)

// ModelThreshold returns the confidence below which m answers "not sure",
// 0 when it has no threshold (it answers every photo).
func ModelThreshold(m *model.Model) float64 {
	if m.Threshold == nil {
		return 0
	}
	return m.Threshold.Value
}

// ThresholdResult is what a model's "not sure" threshold gives on
// evaluated photos: the share it answers and how many of those it gets
// right, beside what it was chosen for.
type ThresholdResult struct {
	Value          float64 `json:"value"`
	TargetAccuracy float64 `json:"target_accuracy"`
	// Coverage is the share of the evaluated photos answered, Accuracy
	// the share of those that were right.
	Coverage float64 `json:"coverage"`
	Accuracy float64 `json:"accuracy"`
	Answered int     `json:"answered"`
	Photos   int     `json:"photos"`
	// Promised is the accuracy the threshold gave on the photos it was
	// chosen on, and Basis where those came from (model.Basis...):
	// PromisePhotos of them, predicted by Folds heads each trained
	// without the photos it predicted (out-of-fold) or by the model.
	// Optimistic says those photos also chose the training epoch.
	Promised      float64 `json:"promised_accuracy"`
	Basis         string  `json:"basis"`
	PromisePhotos int     `json:"promise_photos"`
	Folds         int     `json:"folds,omitempty"`
	Optimistic    bool    `json:"optimistic"`
	// TestAtTraining is what the threshold gave on the model's test
	// photos when it was trained (they chose nothing); absent without a
	// test split.
	TestAtTraining *selective.Point `json:"test_at_training,omitempty"`
}

// MeasureThreshold measures th on predictions of photos with known
// labels; nil when th is.
func MeasureThreshold(th *model.Threshold, preds []train.Prediction) (*ThresholdResult, error) {
	if th == nil {
		return nil, nil
	}
	p, err := train.MeasureThreshold(th.Value, preds)
	if err != nil {
		return nil, err
	}
	return &ThresholdResult{Value: th.Value, TargetAccuracy: th.TargetAccuracy, Coverage: p.Coverage, Accuracy: p.Accuracy,
		Answered: p.Answered, Photos: p.Photos, Promised: th.Accuracy, Basis: th.Basis, PromisePhotos: th.Photos,
		Folds: th.Folds, Optimistic: th.Optimistic(), TestAtTraining: th.Test}, nil
}

// Promise describes th for people: what it answers, how often right, on
// which photos that was measured, and how far to trust it. The test
// photos' measure comes first where there is one (they chose nothing);
// otherwise it says what the promise rests on.
func Promise(th *model.Threshold) string {
	if th == nil {
		return "This model answers every photo: it was trained without a \"not sure\" threshold."
	}
	cal := th.Point()
	s := fmt.Sprintf("Below %s confidence the model says \"not sure\".", confidence(th.Value))
	switch t := th.Test; {
	case t == nil:
	case t.Answered == 0:
		s += fmt.Sprintf(" On %d test photos it had never seen, it answered none.", t.Photos)
	default:
		s += fmt.Sprintf(" On %d test photos it had never seen, it answered %.0f%% and was right on %.0f%% of those.", t.Photos, 100*t.Coverage, 100*t.Accuracy)
	}
	on := basisWords(th)
	if th.Reached {
		s += fmt.Sprintf(" It was chosen to be right %.0f%% of the time: %s, it answered %.0f%% and was right on %.0f%% of those.",
			100*th.TargetAccuracy, on, 100*th.Coverage, 100*th.Accuracy)
	} else {
		s += fmt.Sprintf(" No threshold reached the %.0f%% asked for: at its best, %s, it answered %.0f%% and was right on %.0f%% of those.",
			100*th.TargetAccuracy, on, 100*th.Coverage, 100*th.Accuracy)
	}
	switch {
	case th.Optimistic():
		s += " Those photos also chose when training stopped, so this is somewhat optimistic."
	case th.Test == nil && th.Basis == model.BasisOutOfFold:
		s += fmt.Sprintf(" There are no test photos: this is a cross-validated estimate resting on %d photos.", th.Photos)
	case th.Test == nil:
		s += fmt.Sprintf(" There are no test photos: this estimate rests on %d photos that took no part in training.", th.Photos)
	}
	if lb := cal.LowerBound(); cal.Answered > 0 && lb < th.Accuracy-0.02 {
		photos := "photos"
		if cal.Answered == 1 {
			photos = "photo"
		}
		s += fmt.Sprintf(" With %d %s answered, expect at least %.0f%% on new photos like them (95%% confidence).", cal.Answered, photos, 100*lb)
	}
	return s
}

// PromiseAt returns what a threshold of v would have given on the photos
// th was chosen on, read from its stored curve: the curve's point with
// the lowest threshold at least v (the stored curve is thinned, so this
// is close, not exact). False when th has no curve or v is above its
// every point.
func PromiseAt(th *model.Threshold, v float64) (selective.Point, bool) {
	if th == nil {
		return selective.Point{}, false
	}
	if v == th.Value {
		return th.Point(), true
	}
	for _, p := range th.Curve {
		if p.Threshold >= v {
			return p, true
		}
	}
	return selective.Point{}, false
}

// basisWords says on which photos a threshold was chosen, as a clause.
func basisWords(th *model.Threshold) string {
	n := th.Photos
	switch th.Basis {
	case model.BasisOutOfFold:
		return fmt.Sprintf("on its %d training and validation photos, each judged by one of %d practice models that never saw it", n, th.Folds)
	case model.BasisValidationHalf:
		return fmt.Sprintf("on %d validation photos kept aside (the other half chose when training stopped)", n)
	}
	return fmt.Sprintf("on the %d validation photos", n)
}

// confidence writes a threshold as a percentage, with a decimal near 100%
// where rounding would say 100%.
func confidence(v float64) string {
	if v >= 0.995 && v < 1 {
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}

// Retarget chooses m's threshold again for another target accuracy, from
// the curve it stores, and records the target as a training option.
func Retarget(m *model.Model, target float64) error {
	if m.Threshold == nil {
		return fmt.Errorf("the model has no accuracy–coverage curve: train it again to choose a target accuracy")
	}
	th, err := m.Threshold.Retarget(target)
	if err != nil {
		return err
	}
	m.Threshold = th
	if m.Training != nil {
		m.Training.Options.TargetAccuracy = target
	}
	return nil
}
