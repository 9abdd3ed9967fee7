package model

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/ml/selective"
)

func withThreshold(m *Model) *Model {
	curve, _ := selective.Curve([]float64{0.4, 0.6, 0.7, 0.9, 0.95}, []bool{false, false, true, true, true})
	m.Threshold = &Threshold{Value: 0.7, TargetAccuracy: 0.95, Reached: true, Coverage: 0.6, Accuracy: 1,
		Photos: 5, Answered: 3, Basis: BasisValidation, Curve: curve,
		Test: &selective.Point{Threshold: 0.7, Coverage: 0.5, Accuracy: 0.9, Answered: 10, Photos: 20}}
	return m
}

// A model with a threshold is version 3, with or without fine-tuned
// blocks, and reads back whole; one without stays at 1 or 2.
func TestThresholdVersions(t *testing.T) {
	for _, tc := range []struct {
		m    *Model
		want uint32
	}{
		{testModel(8), 1},
		{withTop(testModel(8)), 2},
		{withThreshold(testModel(8)), 3},
		{withThreshold(withTop(testModel(8))), 3},
	} {
		var b bytes.Buffer
		if err := tc.m.Write(&b); err != nil {
			t.Fatal(err)
		}
		if v := binary.LittleEndian.Uint32(b.Bytes()[len(magic):]); v != tc.want {
			t.Errorf("written as version %d, want %d", v, tc.want)
		}
		got, err := Parse(b.Bytes())
		if err != nil {
			t.Fatalf("version %d: %v", tc.want, err)
		}
		if len(got.Top) != len(tc.m.Top) || (got.Threshold == nil) != (tc.m.Threshold == nil) {
			t.Fatalf("version %d: read %d units, threshold %v", tc.want, len(got.Top), got.Threshold)
		}
		if th := got.Threshold; th != nil {
			w := tc.m.Threshold
			if th.Value != w.Value || th.Basis != w.Basis || len(th.Curve) != len(w.Curve) || *th.Test != *w.Test || th.Point() != w.Point() {
				t.Errorf("threshold changed in the round trip: %+v", th)
			}
		}
	}
}

func TestThresholdValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mangle func(*Threshold)
		want   string
	}{
		{"value above 1", func(th *Threshold) { th.Value = 1.5 }, "out of range"},
		{"NaN", func(th *Threshold) { th.Accuracy = math.NaN() }, "out of range"},
		{"no target", func(th *Threshold) { th.TargetAccuracy = 0 }, "out of range"},
		{"answers more than it has", func(th *Threshold) { th.Answered = 9 }, "answers 9 of 5"},
		{"bad curve point", func(th *Threshold) { th.Curve[1].Coverage = -1 }, "curve point"},
		{"bad test point", func(th *Threshold) { th.Test.Accuracy = 2 }, "curve point"},
	} {
		m := withThreshold(testModel(4))
		tc.mangle(m.Threshold)
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

func TestRetarget(t *testing.T) {
	th := withThreshold(testModel(4)).Threshold
	r, err := th.Retarget(0.7)
	if err != nil {
		t.Fatal(err)
	}
	// 70% is reached answering confidences of 0.6 and above (3 of 4 right).
	if r.Value != 0.6 || r.Answered != 4 || r.TargetAccuracy != 0.7 || !r.Reached || r.Test != nil {
		t.Errorf("Retarget(0.7) = %+v", r)
	}
	if th.Value != 0.7 || th.Test == nil {
		t.Error("Retarget changed the original")
	}
	if _, err := th.Retarget(1.2); err == nil {
		t.Error("Retarget(1.2) gave no error")
	}
	th.Curve = nil
	if _, err := th.Retarget(0.9); err == nil {
		t.Error("Retarget without a curve gave no error")
	}
}

func TestHistory(t *testing.T) {
	base := testModel(4)
	for i := range 25 {
		base.AddRun(base, Run{Photos: 10 + i, Accuracy: 0.5})
	}
	if len(base.History) != maxHistory || base.History[maxHistory-1].Photos != 34 || base.History[0].Photos != 15 {
		t.Fatalf("history of %d runs from %d to %d photos", len(base.History), base.History[0].Photos, base.History[len(base.History)-1].Photos)
	}
	m := testModel(4)
	m.AddRun(base, Run{Photos: 99, Accuracy: 0.75, Evaluated: "test", Continued: true})
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.History); n != maxHistory || got.History[n-1].Photos != 99 || !got.History[n-1].Continued {
		t.Errorf("history read back: %+v", got.History[len(got.History)-1])
	}
	m.History[0].Accuracy = 2
	if err := m.Validate(); err == nil {
		t.Error("a run with accuracy 2 passed")
	}
}
