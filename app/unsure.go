package app

import (
	"fmt"

	"github.com/clasifica/clasifica/ml/model"
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
	// chosen on, and Basis where those came from (model.Basis...).
	Promised float64 `json:"promised_accuracy"`
	Basis    string  `json:"basis"`
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
		Answered: p.Answered, Photos: p.Photos, Promised: th.Accuracy, Basis: th.Basis}, nil
}

// Promise describes th for people: what it answers, how often right, on
// which photos that was measured, and how far to trust it.
func Promise(th *model.Threshold) string {
	if th == nil {
		return "This model answers every photo: it was trained without a \"not sure\" threshold."
	}
	cal := th.Point()
	var s string
	if th.Reached {
		s = fmt.Sprintf("Below %s confidence the model says \"not sure\". On the %d validation photos it then answered %.0f%% and was right on %.0f%% of those (the target was %.0f%%).",
			confidence(th.Value), th.Photos, 100*th.Coverage, 100*th.Accuracy, 100*th.TargetAccuracy)
	} else {
		s = fmt.Sprintf("No threshold reached %.0f%% on the %d validation photos; at its best (below %s confidence \"not sure\") the model answered %.0f%% and was right on %.0f%% of those.",
			100*th.TargetAccuracy, th.Photos, confidence(th.Value), 100*th.Coverage, 100*th.Accuracy)
	}
	if th.Basis == model.BasisOutOfFold {
		s += " These are cross-validated predictions: each photo judged by a model that never saw it."
	} else {
		s += " Those photos also chose when training stopped, so this is somewhat optimistic."
	}
	if lb := cal.LowerBound(); cal.Answered > 0 && lb < th.Accuracy-0.02 {
		photos := "photos"
		if cal.Answered == 1 {
			photos = "photo"
		}
		s += fmt.Sprintf(" With %d %s answered, expect at least %.0f%% on new photos like them (95%% confidence).", cal.Answered, photos, 100*lb)
	}
	switch t := th.Test; {
	case t == nil:
	case t.Answered == 0:
		s += fmt.Sprintf(" On %d test photos it had never seen, it answered none.", t.Photos)
	default:
		s += fmt.Sprintf(" On %d test photos it had never seen, it answered %.0f%% and was right on %.0f%% of those.", t.Photos, 100*t.Coverage, 100*t.Accuracy)
	}
	return s
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
