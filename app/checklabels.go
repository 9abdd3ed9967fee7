package app

import (
	"context"
	"errors"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/doctor"
	"github.com/clasifica/clasifica/ml/features"
)

// CheckLabelsRequest describes a label check (the data doctor).
type CheckLabelsRequest struct {
	// Data is the photo folder; Dataset, if set, is its scan and Data is
	// ignored (a scan made with other DataOptions is read again).
	Data    string
	Dataset *dataset.Dataset
	// DataOptions control the scan and the split the near-copies are
	// reported against.
	DataOptions dataset.Options
	// Options tune the doctor (folds, seed); their Progress is set by
	// CheckLabels.
	Options doctor.Options
}

// CheckStage names a step of a label check.
type CheckStage string

// The steps of a label check, in order.
const (
	CheckScanning   CheckStage = "scanning"   // reading the folder
	CheckExtracting CheckStage = "extracting" // features and fingerprints of photos not yet cached
	CheckSuspects   CheckStage = "suspects"   // out-of-fold training and confident learning
	CheckNearCopies CheckStage = "near-copies"
	CheckStrangers  CheckStage = "strangers"
)

// CheckProgress reports how far a label check has come. Progress
// callbacks come from the check's goroutine, in order.
type CheckProgress struct {
	Stage       CheckStage
	Done, Total int
	// Extract is the extraction's progress (rate, time left) during
	// CheckExtracting.
	Extract features.Progress
	// Dataset is the scan, set once with the first progress after it.
	Dataset *dataset.Dataset
}

// CheckLabels finds the photos of a folder that are probably in the wrong
// folder, the near-copies and the strangers (see package doctor). It
// extracts with eng the features and fingerprints not already cached
// (with progress; cancelling ctx stops it and keeps what was cached), then
// runs the doctor on the features. The folder is only read.
func (a *App) CheckLabels(ctx context.Context, eng *Engine, req CheckLabelsRequest, progress func(CheckProgress)) (doctor.Report, error) {
	return doctor.Report{}, errors.New("check labels: not implemented yet")
}
