package ui

import (
	"slices"
	"testing"

	"github.com/clasifica/clasifica/ml/train"
)

// TestTrainWarningsSorted checks that the Train screen counts only photos
// as left out: a warning about the run as a whole is a note.
func TestTrainWarningsSorted(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	s := w.train
	s.resetProgress()
	s.warnings, s.notes = nil, nil
	s.handle(train.Warning{Path: "/photos/cat/broken.jpg", Message: "broken.jpg: not a photo"})
	s.handle(train.Warning{Message: "The classes are unbalanced"})
	s.handle(train.FineTuneStopped{Epoch: 3, LearningRate: 1e-3})
	if !slices.Equal(s.warnings, []string{"broken.jpg: not a photo"}) || !slices.Equal(s.notes, []string{"The classes are unbalanced"}) {
		t.Errorf("photos left out %q, notes %q", s.warnings, s.notes)
	}
	if !s.unstable {
		t.Error("a fine-tuning stopped for good was not noted")
	}
}
