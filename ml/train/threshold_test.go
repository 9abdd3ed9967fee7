package train

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/clasifica/clasifica/ml/model"
)

// A head-only model's "not sure" threshold is chosen on out-of-fold
// predictions: every training and validation photo exactly once, each
// predicted by one of k heads that never saw it. The recorded promise is
// what those predictions give, the test photos measure it, and the same
// seed gives the same threshold.
func TestNotSureThreshold(t *testing.T) {
	f := setup(t)
	d := flowers(t, 0.3, 0.2)
	o := DefaultOptions()
	o.Epochs, o.TargetAccuracy = 8, 0.9
	run := func(o Options) (*Result, []Calibration) {
		t.Helper()
		var cal []Calibration
		res, err := Run(context.Background(), Job{Data: d, Extractor: f.ext, Backbone: f.ref, Engine: f.eng, Weights: f.w, Options: o}, func(e Event) {
			if c, ok := e.(Calibration); ok {
				cal = append(cal, c)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return res, cal
	}
	res, events := run(o)
	th := res.Model.Threshold
	if th == nil {
		t.Fatal("the model has no threshold")
	}
	tr := res.Model.Training
	if th.Basis != model.BasisOutOfFold || th.Folds != DefaultFolds || th.TargetAccuracy != 0.9 || th.Photos != tr.TrainCount+tr.ValCount || len(res.Calibration) != th.Photos {
		t.Fatalf("threshold %+v on %d training and %d validation photos, %d calibration predictions", th, tr.TrainCount, tr.ValCount, len(res.Calibration))
	}
	// Every training and validation photo once, none of the test photos.
	paths := map[string]bool{}
	for _, p := range res.Calibration {
		if paths[p.Path] {
			t.Fatalf("%s predicted twice", p.Path)
		}
		paths[p.Path] = true
	}
	for _, s := range tr.Test {
		if paths[s.Path] {
			t.Fatalf("test photo %s among the calibration photos", s.Path)
		}
	}
	for _, p := range res.Validation {
		if !paths[p.Path] {
			t.Fatalf("validation photo %s not among the calibration photos", p.Path)
		}
	}
	if len(res.Validation) != tr.ValCount {
		t.Errorf("%d validation predictions of %d validation photos", len(res.Validation), tr.ValCount)
	}
	// Out-of-fold predictions are not the final model's: on its own
	// training photos the final head is surer.
	if slices.EqualFunc(res.Validation, res.Calibration[:len(res.Validation)], func(a, b Prediction) bool { return slices.Equal(a.Probs, b.Probs) }) {
		t.Error("the calibration predictions are the final model's")
	}
	if th.Reached != (th.Accuracy >= 0.9) || th.Answered == 0 || th.Value <= 0 {
		t.Errorf("threshold %+v for a target of 90%%", th)
	}
	got, err := MeasureThreshold(th.Value, res.Calibration)
	if err != nil {
		t.Fatal(err)
	}
	if got != th.Point() {
		t.Errorf("on the calibration photos the threshold gives %+v, the model records %+v", got, th.Point())
	}
	if th.Test == nil || th.Test.Photos != len(tr.Test) {
		t.Fatalf("threshold measured on the test photos: %+v", th.Test)
	}
	if want, err := MeasureThreshold(th.Value, res.Samples); err != nil || *th.Test != want {
		t.Errorf("test measure %+v, the test photos give %+v (%v)", th.Test, want, err)
	}
	// The curve starts answering every photo at the overall accuracy.
	first := th.Curve[0]
	all, err := MeasureThreshold(0, res.Calibration)
	if err != nil {
		t.Fatal(err)
	}
	if first.Coverage != 1 || math.Abs(first.Accuracy-all.Accuracy) > 1e-12 {
		t.Errorf("curve starts at %+v, all photos give %+v", first, all)
	}
	// Progress: each fold's epochs in order, ending with all done.
	epochs := tr.BestEpoch
	if len(events) != DefaultFolds*epochs+1 {
		t.Fatalf("%d calibration events for %d folds of %d epochs", len(events), DefaultFolds, epochs)
	}
	for i, e := range events {
		if e.Done != i || e.Total != DefaultFolds*epochs || e.Folds != DefaultFolds || i > 0 && e.Fold != (i-1)/epochs+1 {
			t.Fatalf("calibration event %d: %+v", i, e)
		}
	}
	// The same seed gives the same threshold, to the bit.
	again, _ := run(o)
	if a := again.Model.Threshold; a.Value != th.Value || !slices.Equal(a.Curve, th.Curve) || *a.Test != *th.Test {
		t.Errorf("second run's threshold %+v, first %+v", a, th)
	}
	// One fold is none: the validation photos choose, optimistically.
	o.Folds = 1
	res, _ = run(o)
	if th := res.Model.Threshold; th.Basis != model.BasisValidation || th.Folds != 0 || th.Photos != tr.ValCount || !th.Optimistic() {
		t.Errorf("without folds: threshold %+v on %d validation photos", th, tr.ValCount)
	}
	// A target of 0 makes no threshold.
	o.TargetAccuracy = 0
	res, _ = run(o)
	if res.Model.Threshold != nil || res.Calibration != nil {
		t.Errorf("target 0 made threshold %+v", res.Model.Threshold)
	}
}

// Without a test split (the app's default) a head-only model's threshold
// is a cross-validated estimate on every photo of the folder; without
// validation photos too it still gets one (the last epoch is kept, and
// each fold head trains as long).
func TestNotSureWithoutTestPhotos(t *testing.T) {
	f := setup(t)
	for _, val := range []float64{0.2, 0} {
		d := flowers(t, val, 0)
		o := DefaultOptions()
		o.Epochs = 4
		res, err := Run(context.Background(), Job{Data: d, Extractor: f.ext, Backbone: f.ref, Engine: f.eng, Weights: f.w, Options: o}, nil)
		if err != nil {
			t.Fatal(err)
		}
		th, tr := res.Model.Threshold, res.Model.Training
		if th == nil || th.Basis != model.BasisOutOfFold || th.Folds != DefaultFolds || th.Photos != len(d.Items) || len(res.Calibration) != len(d.Items) || th.Test != nil || th.Optimistic() {
			t.Fatalf("validation %v: threshold %+v on %d photos", val, th, len(d.Items))
		}
		if val == 0 && (tr.BestEpoch != 4 || res.Evaluated != "") {
			t.Errorf("without validation photos: best epoch %d, evaluated %q", tr.BestEpoch, res.Evaluated)
		}
		if val > 0 && (res.Evaluated != "validation" || len(res.Validation) != tr.ValCount || tr.ValCount == 0) {
			t.Errorf("evaluated %q, %d validation predictions of %d", res.Evaluated, len(res.Validation), tr.ValCount)
		}
		t.Logf("validation %v: threshold %.3f answers %d of %d out-of-fold predictions, right on %.1f%%", val, th.Value, th.Answered, th.Photos, 100*th.Accuracy)
	}
}

// A run that fine-tunes sets half of the validation photos aside before
// training: the other half chooses the epoch, this one the threshold of
// a fine-tuned model. (When the fine-tuned blocks do not beat the head
// alone, the model is head-only and out-of-fold predictions choose.)
// With too few validation photos to halve, they choose both and the
// promise is marked optimistic.
func TestNotSureFineTuned(t *testing.T) {
	f := setup(t)
	o := DefaultOptions()
	o.Epochs, o.FineTune, o.FineTuneEpochs = 2, 1, 1
	run := func(val float64) *Result {
		t.Helper()
		res, err := Run(context.Background(), Job{Data: flowers(t, val, 0.2), Extractor: f.ext, Backbone: f.ref, Engine: f.eng, Weights: f.w, Options: o}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// 22 validation photos: too few to halve.
	res := run(0.15)
	t.Logf("22 validation photos: fine-tuned %v, threshold on %d photos (%s)", res.FineTuned, res.Model.Threshold.Photos, res.Model.Threshold.Basis)
	if th, n := res.Model.Threshold, res.Model.Training.ValCount; n >= 2*minHalf || res.FineTuned && (th.Basis != model.BasisValidation || !th.Optimistic() || th.Photos != n) {
		t.Errorf("fine-tuned %v: threshold %+v on %d validation photos", res.FineTuned, th, n)
	}
	res = run(0.3)
	th, tr := res.Model.Threshold, res.Model.Training
	t.Logf("fine-tuned %v, threshold %.3f on %d photos (%s)", res.FineTuned, th.Value, th.Photos, th.Basis)
	if tr.ValCount != len(res.Validation) || tr.ValCount < 2*minHalf {
		t.Fatalf("%d validation photos recorded, %d predicted", tr.ValCount, len(res.Validation))
	}
	if !res.FineTuned {
		if th.Basis != model.BasisOutOfFold {
			t.Errorf("head-only model's threshold %+v", th)
		}
		return
	}
	half := tr.ValCount / 2
	if th.Basis != model.BasisValidationHalf || th.Folds != 0 || th.Optimistic() || th.Photos < half || th.Photos > half+1 || len(res.Calibration) != th.Photos {
		t.Fatalf("fine-tuned model's threshold %+v on %d validation photos", th, tr.ValCount)
	}
	// The half is validation photos, predicted by the final model.
	for i, p := range res.Calibration {
		v := res.Validation[len(res.Validation)-len(res.Calibration)+i]
		if p.Path != v.Path || !slices.Equal(p.Probs, v.Probs) {
			t.Fatalf("calibration photo %d: %s, validation %s", i, p.Path, v.Path)
		}
	}
}

// A continued head's out-of-fold heads start afresh (the base saw the
// photos they hold out) and train as long as the continued head did in
// all: its base's kept epochs and this run's.
func TestNotSureContinued(t *testing.T) {
	f := setup(t)
	d := flowers(t, 0.2, 0.2)
	o := DefaultOptions()
	o.Epochs = 3
	job := Job{Data: d, Extractor: f.ext, Backbone: f.ref, Engine: f.eng, Weights: f.w, Options: o}
	base, err := Run(context.Background(), job, nil)
	if err != nil {
		t.Fatal(err)
	}
	job.Base, job.Options.Epochs = base.Model, 2
	var last Calibration
	res, err := Run(context.Background(), job, func(e Event) {
		if c, ok := e.(Calibration); ok {
			last = c
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := base.Model.Training.BestEpoch + res.Model.Training.BestEpoch
	if th := res.Model.Threshold; th == nil || th.Basis != model.BasisOutOfFold || last.Total != DefaultFolds*want || last.Done != last.Total {
		t.Errorf("continued: threshold %+v, fold heads' progress %+v, want %d heads of %d epochs", th, last, DefaultFolds, want)
	}
}
