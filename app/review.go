package app

import (
	"github.com/clasifica/clasifica/ml/train"
)

// Reviewed is an evaluated photo as the desktop app's results gallery
// shows it: what it is, what the model said, and whether that was right.
type Reviewed struct {
	Path string
	// Truth is the photo's class.
	Truth string
	// Top holds every label with its probability, most probable first.
	Top []Scored
	// Correct reports that the most probable label is the truth.
	Correct bool
}

// Label returns the predicted label.
func (r Reviewed) Label() string { return r.Top[0].Label }

// Confidence returns the predicted label's probability.
func (r Reviewed) Confidence() float64 { return r.Top[0].Probability }

// Review ranks the predictions of evaluated photos for display. labels
// names the classes the predictions' probabilities and truths index.
// Samples whose probabilities do not match the labels are left out.
func Review(labels []string, samples []train.Prediction) []Reviewed {
	out := make([]Reviewed, 0, len(samples))
	for _, s := range samples {
		if len(s.Probs) != len(labels) || len(labels) == 0 || s.Truth < 0 || s.Truth >= len(labels) {
			continue
		}
		top := Rank(labels, s.Probs)
		out = append(out, Reviewed{Path: s.Path, Truth: labels[s.Truth], Top: top, Correct: top[0].Label == labels[s.Truth]})
	}
	return out
}
