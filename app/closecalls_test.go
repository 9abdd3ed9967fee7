package app

import (
	"math"
	"testing"

	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

func TestTopGap(t *testing.T) {
	for _, c := range []struct {
		probs []float32
		want  float64
	}{
		{[]float32{0.5, 0.5}, 0},
		{[]float32{0.2, 0.6, 0.2}, math.Log(3)},
		{[]float32{0.1, 0.2, 0.7}, math.Log(3.5)},
		{[]float32{0.7, 0.2, 0.1}, math.Log(3.5)},
		{[]float32{1, 0}, math.Inf(1)},
		{[]float32{1}, math.Inf(1)},
	} {
		if got := topGap(c.probs); math.Abs(got-c.want) > 1e-6 && got != c.want {
			t.Errorf("topGap(%v) = %v, want %v", c.probs, got, c.want)
		}
	}
}

func TestRecheckGap(t *testing.T) {
	int8 := func(gap float64, top int) *model.Model {
		m := &model.Model{Meta: model.Meta{Backbone: model.Backbone{Precision: "int8", RecheckGap: gap}}}
		for range top {
			m.Top = append(m.Top, model.Unit{})
		}
		return m
	}
	for _, c := range []struct {
		name string
		m    *model.Model
		want float64
	}{
		{"float", &model.Model{}, 0},
		{"8 bits, measured", int8(0.4, 0), 0.4},
		{"8 bits, before the gap was recorded", int8(0, 0), defaultRecheckGap},
		{"fine-tuned", int8(0.4, 1), 0},
	} {
		if got := recheckGap(c.m); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestMeasureRecheckGap: the gap is the spread of the log-probability
// gaps of the photos, the share those below it, and too few photos leave
// both unmeasured.
func TestMeasureRecheckGap(t *testing.T) {
	var preds []train.Prediction
	// Gaps log(1), log(4) alternating: mean log 2, spread log 2.
	for i := range 2 * minSpreadPhotos {
		p := []float32{0.5, 0.5}
		if i%2 == 1 {
			p = []float32{0.8, 0.2}
		}
		preds = append(preds, train.Prediction{Probs: p})
	}
	m := &model.Model{}
	measureRecheckGap(m, preds)
	if want := recheckSpread * math.Log(2); math.Abs(m.Backbone.RecheckGap-want) > 1e-6 || m.Backbone.CloseShare != 0.5 {
		t.Errorf("gap %v, want %v; close calls %v, want half", m.Backbone.RecheckGap, want, m.Backbone.CloseShare)
	}
	m = &model.Model{}
	measureRecheckGap(m, preds[:minSpreadPhotos-1])
	if m.Backbone.RecheckGap != 0 {
		t.Errorf("measured on %d photos: %v", minSpreadPhotos-1, m.Backbone.RecheckGap)
	}
}
