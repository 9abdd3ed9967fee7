package model

import (
	"fmt"

	"github.com/clasifica/clasifica/ml/selective"
)

// maxCurve bounds the stored accuracy–coverage curve; Clasifica stores
// about a hundred points.
const maxCurve = 1000

// Threshold is the confidence below which a model answers "not sure",
// chosen on photos with known labels for a target accuracy, and the
// promise it makes.
type Threshold struct {
	// Value is the lowest top-class probability the model answers.
	Value float64 `json:"value"`
	// TargetAccuracy is the accuracy the user asked of answered photos.
	TargetAccuracy float64 `json:"target_accuracy"`
	// Reached is false when no threshold reached the target on the
	// calibration photos: Value is then the most accurate one.
	Reached bool `json:"reached"`
	// Coverage and Accuracy are what Value gives on the calibration
	// photos: the share answered and the accuracy of those answered.
	Coverage float64 `json:"coverage"`
	Accuracy float64 `json:"accuracy"`
	// Photos counts the calibration photos, Answered those answered.
	Photos   int `json:"photos"`
	Answered int `json:"answered"`
	// Basis says which photos the threshold was chosen on (one of the
	// Basis constants).
	Basis string `json:"basis"`
	// Folds is k for BasisOutOfFold: how many heads, each trained without
	// one fold of the photos, made the predictions; 0 otherwise.
	Folds int `json:"folds,omitempty"`
	// Curve is the accuracy–coverage curve on the calibration photos,
	// thinned to about a hundred points, by rising threshold; choosing
	// another target picks from it without the photos.
	Curve []selective.Point `json:"curve,omitempty"`
	// Test is what Value gives on the test photos, which took no part in
	// training or in choosing it; nil without a test split.
	Test *selective.Point `json:"test,omitempty"`
}

// Where a threshold's calibration photos come from.
const (
	// BasisValidation: the validation photos, which also chose the
	// training epoch, so the promise is somewhat optimistic. Training
	// falls back to it only where the other bases have too few photos;
	// models of format version 3 before the other bases all have it.
	BasisValidation = "validation"
	// BasisOutOfFold: out-of-fold predictions of a k-fold over the
	// training and validation photos, each predicted by a head of the
	// model's kind that never saw it: a cross-validated estimate, for
	// head-only models.
	BasisOutOfFold = "out-of-fold"
	// BasisValidationHalf: half of the validation photos, set aside
	// before training so that they chose neither the epoch nor anything
	// else; for fine-tuned models, whose blocks k-fold training would
	// make k times slower.
	BasisValidationHalf = "validation half"
)

// Optimistic reports whether the threshold's promise comes from photos
// that also chose the training epoch (or from an unknown basis), so that
// new photos will likely do somewhat worse.
func (t *Threshold) Optimistic() bool {
	return t.Basis != BasisOutOfFold && t.Basis != BasisValidationHalf
}

// Point returns the threshold's promise as a curve point.
func (t *Threshold) Point() selective.Point {
	return selective.Point{Threshold: t.Value, Coverage: t.Coverage, Accuracy: t.Accuracy, Answered: t.Answered, Photos: t.Photos}
}

// Retarget returns a copy of t for another target accuracy, chosen from
// its stored curve.
func (t *Threshold) Retarget(target float64) (*Threshold, error) {
	if target <= 0 || target > 1 {
		return nil, fmt.Errorf("target accuracy %v is not in (0, 1]", target)
	}
	if len(t.Curve) == 0 {
		return nil, fmt.Errorf("the model stores no accuracy–coverage curve to choose another threshold from")
	}
	p, ok := selective.Choose(t.Curve, target)
	c := *t
	c.Value, c.TargetAccuracy, c.Reached = p.Threshold, target, ok
	c.Coverage, c.Accuracy, c.Answered = p.Coverage, p.Accuracy, p.Answered
	// The test measure belonged to the old threshold.
	c.Test = nil
	return &c, nil
}

func (t *Threshold) validate() error {
	if t == nil {
		return nil
	}
	in01 := func(v float64) bool { return v >= 0 && v <= 1 }
	if !in01(t.Value) || !in01(t.Coverage) || !in01(t.Accuracy) || t.TargetAccuracy <= 0 || t.TargetAccuracy > 1 {
		return fmt.Errorf("model threshold %v (target %v, coverage %v, accuracy %v) is out of range", t.Value, t.TargetAccuracy, t.Coverage, t.Accuracy)
	}
	if t.Folds < 0 || t.Folds > 0 && t.Basis != BasisOutOfFold {
		return fmt.Errorf("model threshold has %d folds on basis %q", t.Folds, t.Basis)
	}
	if t.Photos < 0 || t.Answered < 0 || t.Answered > t.Photos {
		return fmt.Errorf("model threshold answers %d of %d photos", t.Answered, t.Photos)
	}
	if len(t.Curve) > maxCurve {
		return fmt.Errorf("model threshold curve has %d points, more than %d", len(t.Curve), maxCurve)
	}
	pts := t.Curve
	if t.Test != nil {
		pts = append(pts[:len(pts):len(pts)], *t.Test)
	}
	for _, p := range pts {
		if !in01(p.Threshold) || !in01(p.Coverage) || !in01(p.Accuracy) {
			return fmt.Errorf("model threshold curve point %+v is out of range", p)
		}
	}
	return nil
}
