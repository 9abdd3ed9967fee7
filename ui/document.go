package ui

import (
	"path/filepath"
	"strings"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/eval"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// document is what the window works on: the training photos, the choices
// for training, the model and where it is saved, and how well it did. It
// is only read and changed on the UI goroutine; jobs hand their results
// back through fyne.Do.
type document struct {
	// folder is the training photos' folder and data its scan, made with
	// dataOpt; data is nil until a scan succeeds.
	folder  string
	data    *dataset.Dataset
	dataOpt dataset.Options
	// opts are the training choices; their validation and test shares are
	// dataOpt's.
	opts train.Options

	model *model.Model
	// path is where the model is saved; empty until it is.
	path  string
	dirty bool

	// report and reviewed are the model's evaluation, on the split named
	// by evaluated ("test" or "validation"); nil until there is one.
	report    *eval.Report
	reviewed  []app.Reviewed
	evaluated string
	// trained reports that the model comes from training in this window
	// (its curve is then live), rather than from a file.
	trained bool

	// previous is the model before the last retraining in this window,
	// kept in memory so that one click brings it back (ui/compare.go);
	// comparison compares the two on the same photos (nil when they
	// cannot be compared). wentBack says that the previous model is in
	// use again, and previous then holds the retrained one.
	previous   *modelState
	comparison *app.Comparison
	wentBack   bool
	// saved records which model each file holds as far as this window
	// knows (opened from it or saved to it), so that a model brought back
	// knows whether its file still holds it.
	saved map[string]*model.Model
}

// modelState is a model with where it is saved and its evaluation: what
// going back to the previous model restores.
type modelState struct {
	model     *model.Model
	path      string
	dirty     bool
	trained   bool
	report    *eval.Report
	reviewed  []app.Reviewed
	evaluated string
}

// current returns the document's model as a modelState.
func (d *document) current() modelState {
	return modelState{model: d.model, path: d.path, dirty: d.dirty, trained: d.trained,
		report: d.report, reviewed: d.reviewed, evaluated: d.evaluated}
}

// use makes v the document's model. It has changes to save unless its
// file, as far as this window knows, still holds it: saving the other
// model over that file since makes it unsaved again.
func (d *document) use(v modelState) {
	d.model, d.path, d.trained = v.model, v.path, v.trained
	d.report, d.reviewed, d.evaluated = v.report, v.reviewed, v.evaluated
	d.dirty = v.dirty || v.path == "" || d.saved[v.path] != v.model
}

// forgetPrevious drops the model before a retraining and its comparison.
func (d *document) forgetPrevious() {
	d.previous, d.comparison, d.wentBack = nil, nil, false
}

// savedAs records that the file at path holds m.
func (d *document) savedAs(path string, m *model.Model) {
	if d.saved == nil {
		d.saved = map[string]*model.Model{}
	}
	d.saved[path] = m
}

// newDocument returns an empty document with the default choices: a
// fifth of the photos for validation and, unless the folder has its own,
// a sixth for testing, so that Results always has photos the model never
// saw.
func newDocument() document {
	d := document{dataOpt: dataset.DefaultOptions(), opts: train.DefaultOptions()}
	d.dataOpt.Test = 0.15
	return d
}

// name is the model's name for the title bar and save dialogs: its file
// name, or the photo folder's name before it is saved.
func (d *document) name() string {
	switch {
	case d.path != "":
		return strings.TrimSuffix(filepath.Base(d.path), model.Ext)
	case d.folder != "":
		return filepath.Base(d.folder)
	}
	return "Untitled"
}

// setEvaluation records a model's evaluation.
func (d *document) setEvaluation(r *eval.Report, samples []train.Prediction, split string) {
	d.report, d.evaluated = r, split
	d.reviewed = nil
	if r != nil {
		d.reviewed = app.Review(r.Labels, samples)
	}
}
