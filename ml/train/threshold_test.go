package train

import (
	"context"
	"math"
	"testing"

	"github.com/clasifica/clasifica/ml/model"
)

// The model carries a "not sure" threshold chosen on the validation
// photos, whose recorded promise those photos reproduce, measured on the
// test photos.
func TestNotSureThreshold(t *testing.T) {
	f := setup(t)
	d := flowers(t, 0.3, 0.2)
	o := DefaultOptions()
	o.Epochs, o.TargetAccuracy = 8, 0.9
	res, err := Run(context.Background(), Job{Data: d, Extractor: f.ext, Backbone: f.ref, Engine: f.eng, Weights: f.w, Options: o}, nil)
	if err != nil {
		t.Fatal(err)
	}
	th := res.Model.Threshold
	if th == nil {
		t.Fatal("the model has no threshold")
	}
	if th.Basis != model.BasisValidation || th.TargetAccuracy != 0.9 || th.Photos != res.Model.Training.ValCount || len(res.Validation) != th.Photos {
		t.Fatalf("threshold %+v on %d validation photos", th, res.Model.Training.ValCount)
	}
	if th.Reached != (th.Accuracy >= 0.9) || th.Answered == 0 || th.Value <= 0 {
		t.Errorf("threshold %+v for a target of 90%%", th)
	}
	got, err := MeasureThreshold(th.Value, res.Validation)
	if err != nil {
		t.Fatal(err)
	}
	if got != th.Point() {
		t.Errorf("on the validation photos the threshold gives %+v, the model records %+v", got, th.Point())
	}
	if th.Test == nil || th.Test.Photos != len(res.Model.Training.Test) {
		t.Fatalf("threshold measured on the test photos: %+v", th.Test)
	}
	if th.Test.Threshold != th.Value || th.Test.Coverage > 1 || th.Test.Answered > th.Test.Photos {
		t.Errorf("test measure %+v", th.Test)
	}
	// The curve starts answering every photo at the overall accuracy.
	first := th.Curve[0]
	all, err := MeasureThreshold(0, res.Validation)
	if err != nil {
		t.Fatal(err)
	}
	if first.Coverage != 1 || math.Abs(first.Accuracy-all.Accuracy) > 1e-12 {
		t.Errorf("curve starts at %+v, all photos give %+v", first, all)
	}
	// A target of 0 makes no threshold.
	o.TargetAccuracy = 0
	res, err = Run(context.Background(), Job{Data: d, Extractor: f.ext, Backbone: f.ref, Engine: f.eng, Weights: f.w, Options: o}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Model.Threshold != nil {
		t.Errorf("target 0 made threshold %+v", res.Model.Threshold)
	}
}
