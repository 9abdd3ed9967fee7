package app

import (
	"testing"

	"github.com/clasifica/clasifica/ml/eval"
	"github.com/clasifica/clasifica/ml/train"
)

func TestReview(t *testing.T) {
	labels := []string{"cat", "dog", "fox"}
	samples := []train.Prediction{
		{Path: "a.jpg", Truth: 0, Probs: []float32{0.7, 0.2, 0.1}},
		{Path: "b.jpg", Truth: 1, Probs: []float32{0.5, 0.4, 0.1}},
		// A tie goes to the first class, as in eval.
		{Path: "c.jpg", Truth: 2, Probs: []float32{0.4, 0.2, 0.4}},
		{Path: "bad.jpg", Truth: 5, Probs: []float32{1, 0, 0}},
	}
	got := Review(labels, samples)
	if len(got) != 3 {
		t.Fatalf("got %d photos, want 3 (the sample with an unknown truth left out)", len(got))
	}
	if !got[0].Correct || got[0].Label() != "cat" || got[0].Confidence() < 0.69 {
		t.Errorf("first photo: %+v", got[0])
	}
	if got[1].Correct || got[1].Label() != "cat" || got[1].Truth != "dog" {
		t.Errorf("second photo: %+v", got[1])
	}
	if got[2].Correct || got[2].Label() != "cat" {
		t.Errorf("a tie must go to the first class: %+v", got[2])
	}
	if len(got[0].Top) != 3 || got[0].Top[2].Label != "fox" {
		t.Errorf("top labels: %+v", got[0].Top)
	}

	// The gallery agrees with the report on what is a mistake.
	var truth []int
	var probs []float32
	for _, s := range samples[:3] {
		truth = append(truth, s.Truth)
		probs = append(probs, s.Probs...)
	}
	r, err := eval.Compute(labels, truth, probs, 2)
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for _, g := range got {
		if !g.Correct {
			wrong++
		}
	}
	if wrong != len(r.Mistakes) {
		t.Errorf("%d mistakes in the gallery, %d in the report", wrong, len(r.Mistakes))
	}
}
