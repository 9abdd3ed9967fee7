package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/progress"
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

// TestTrainCalibrationProgress checks that the out-of-fold heads show as
// the last step, with their progress.
func TestTrainCalibrationProgress(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	s := w.train
	s.resetProgress()
	s.handle(train.PhaseStarted{Phase: train.Calibrating})
	if s.phase.Text != calibratingPhase || s.bar.Value != 0 {
		t.Errorf("phase %q at %v", s.phase.Text, s.bar.Value)
	}
	s.handle(train.Calibration{Progress: progress.Progress{Done: 3, Total: 10, Elapsed: 3 * time.Second}, Fold: 1, Folds: 5})
	if s.phase.Text != calibratingPhase || s.bar.Value != 0.3 || !strings.Contains(s.detail.Text(), "Practice model 1 of 5") || !strings.Contains(s.detail.Text(), "left") {
		t.Errorf("phase %q at %v: %q", s.phase.Text, s.bar.Value, s.detail.Text())
	}
}
