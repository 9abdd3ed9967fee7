package train

import (
	"fmt"

	"github.com/clasifica/clasifica/ml/head"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/selective"
)

// curvePoints is how many points of the accuracy–coverage curve a model
// stores: enough to draw it and to choose another target from it.
const curvePoints = 100

// NewThreshold chooses the confidence threshold for target accuracy from
// calibration predictions (rows of class probabilities and the true
// classes), recording basis (a model.Basis constant) as where they come
// from.
func NewThreshold(probs [][]float64, truths []int, target float64, basis string) (*model.Threshold, error) {
	conf, right, err := selective.Scores(probs, truths)
	if err != nil {
		return nil, err
	}
	curve, err := selective.Curve(conf, right)
	if err != nil {
		return nil, err
	}
	p, ok := selective.Choose(curve, target)
	return &model.Threshold{Value: p.Threshold, TargetAccuracy: target, Reached: ok,
		Coverage: p.Coverage, Accuracy: p.Accuracy, Photos: p.Photos, Answered: p.Answered,
		Basis: basis, Curve: selective.Thin(curve, curvePoints, p.Threshold)}, nil
}

// MeasureThreshold returns what threshold gives on predictions of photos
// with known labels: the share answered and their accuracy.
func MeasureThreshold(threshold float64, preds []Prediction) (selective.Point, error) {
	probs, truths := Probabilities(preds)
	conf, right, err := selective.Scores(probs, truths)
	if err != nil {
		return selective.Point{}, err
	}
	return selective.Measure(conf, right, threshold), nil
}

// Probabilities returns predictions' probabilities as float64 rows with
// their true classes, the input of NewThreshold.
func Probabilities(preds []Prediction) ([][]float64, []int) {
	probs := make([][]float64, len(preds))
	truths := make([]int, len(preds))
	for i, p := range preds {
		probs[i] = make([]float64, len(p.Probs))
		for c, v := range p.Probs {
			probs[i][c] = float64(v)
		}
		truths[i] = p.Truth
	}
	return probs, truths
}

// calibrate chooses the model's "not sure" threshold and measures it on
// the test photos when there are some. It chooses on photos that chose
// nothing else about the model where it can: for a head-only model, the
// out-of-fold predictions of k heads of its kind over the training and
// validation photos; for a fine-tuned one, the validation half set aside
// before training. Where those are too few it chooses on the validation
// photos, which also chose the epoch, and the model's Basis says the
// promise is optimistic. h is the final head, reading standardised
// features; tuned says whether this run's fine-tuned blocks make the
// features.
func (r *runner) calibrate(res *Result, h *head.Head, tuned bool) error {
	if r.o.TargetAccuracy == 0 {
		return nil
	}
	val := r.validation()
	if len(val) > 0 {
		res.Validation = res.Samples
		if res.Evaluated != "validation" {
			var err error
			if res.Validation, _, err = r.predict(h, tuned, val); err != nil {
				return fmt.Errorf("train: not-sure threshold: %w", err)
			}
		}
	}
	cal, basis, folds := res.Validation, model.BasisValidation, 0
	switch {
	case !tuned && !r.baseTop:
		oof, k, err := r.outOfFold()
		if err != nil {
			return err
		}
		if oof != nil {
			cal, basis, folds = oof, model.BasisOutOfFold, k
		}
	case len(r.calib) > 0:
		// validation() lists the set-aside half last.
		cal, basis = res.Validation[len(val)-len(r.calib):], model.BasisValidationHalf
	}
	if len(cal) == 0 {
		r.emit(Warning{Message: "no validation photos: the model cannot say \"not sure\" (it answers every photo)"})
		return nil
	}
	probs, truths := Probabilities(cal)
	th, err := NewThreshold(probs, truths, r.o.TargetAccuracy, basis)
	if err != nil {
		return fmt.Errorf("train: not-sure threshold: %w", err)
	}
	th.Folds = folds
	if res.Evaluated == "test" {
		p, err := MeasureThreshold(th.Value, res.Samples)
		if err != nil {
			return fmt.Errorf("train: not-sure threshold on the test photos: %w", err)
		}
		th.Test = &p
	}
	res.Calibration = cal
	res.Model.Threshold = th
	return nil
}
