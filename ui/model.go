package ui

import (
	"fmt"
	"path/filepath"

	"fyne.io/fyne/v2"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// setData makes a scanned folder the training photos. opt keeps only the
// choices (shares, granularity, limits): the decisions a scan applied are
// read again by the next one, and a scan's Options carry those it read,
// which corrections made since would make stale.
func (w *window) setData(dir string, d *dataset.Dataset, opt dataset.Options) {
	opt.Decisions, opt.Progress = nil, nil
	w.doc.folder, w.doc.data, w.doc.dataOpt = dir, d, opt
	w.data.err = nil
	w.rememberFolder(dir)
	w.data.refresh()
	w.train.refresh()
	w.refresh()
}

// setTrained makes a training's model the document's: changed, not yet
// saved (under its earlier name, if it had one). A retraining (base, the
// model it continued, is the document's model) keeps the previous model
// in memory, to compare with and go back to; cmp compares them, nil when
// they cannot be compared.
func (w *window) setTrained(res *train.Result, base *model.Model, cmp *app.Comparison) {
	d := &w.doc
	d.forgetPrevious()
	if base != nil && base == d.model {
		prev := d.current()
		d.previous, d.comparison = &prev, cmp
	}
	d.model, d.dirty, d.trained = res.Model, true, true
	w.corrections, w.relabelled = 0, 0
	d.setEvaluation(res.Report, res.Samples, res.Evaluated)
	w.results.refresh()
	if d.previous != nil {
		w.results.showComparison()
	}
	w.classify.modelChanged()
	w.refresh()
}

// newModel starts over: no photos, no model.
func (w *window) newModel() {
	if w.busy() {
		w.inform("Training is running", "Stop the training first.")
		return
	}
	w.whenSaved("New", func() {
		w.data.task.stop()
		w.results.task.stop()
		opts := w.doc.dataOpt
		w.doc = newDocument()
		w.doc.dataOpt.Validation, w.doc.dataOpt.Test = opts.Validation, opts.Test
		w.data.err = nil
		w.data.refresh()
		w.train.resetProgress()
		w.train.refresh()
		w.results.refresh()
		w.classify.modelChanged()
		w.refresh()
		w.show(stepData)
	})
}

// openModel asks for a model file and opens it.
func (w *window) openModel() {
	if w.busy() {
		w.inform("Training is running", "Stop the training before opening another model.")
		return
	}
	w.whenSaved("Open", func() {
		w.openFile("Open a model", []string{model.Ext}, w.loadModel)
	})
}

// loadModel reads a model file in the background and makes it the
// document's; its recorded test photos are then checked for Results.
func (w *window) loadModel(path string) {
	w.jobs.start(func() {
		m, err := app.OpenModel(path)
		fyne.Do(func() {
			if err != nil {
				w.showError("The model could not be opened", err)
				return
			}
			d := &w.doc
			d.forgetPrevious()
			d.model, d.path, d.dirty, d.trained = m, path, false, false
			d.savedAs(path, m)
			d.setEvaluation(nil, nil, "")
			w.rememberModel(path)
			w.train.modelOpened(m, path)
			w.results.evaluateRecorded()
			w.classify.modelChanged()
			w.refresh()
			if w.current == stepData && d.data == nil {
				w.show(stepClassify)
			}
		})
	})
}

// save writes the model where it was saved before, or asks where; then
// runs once it is saved.
func (w *window) save(then func()) {
	if w.doc.model == nil {
		return
	}
	if w.doc.path == "" {
		w.saveAs(then)
		return
	}
	w.writeModel(w.doc.path, then)
}

// saveAs asks where to save the model.
func (w *window) saveAs(then func()) {
	if w.doc.model == nil {
		return
	}
	w.pick.save("Save the model", w.doc.name()+model.Ext, []string{model.Ext}, func(path string) {
		w.writeModel(app.ModelPath(path), then)
	})
}

// writeModel saves the model at path in the background.
func (w *window) writeModel(path string, then func()) {
	m := w.doc.model
	w.jobs.start(func() {
		err := app.SaveModel(m, path)
		fyne.Do(func() {
			if err != nil {
				w.showError("The model could not be saved", err)
				return
			}
			if w.doc.model == m {
				w.doc.path, w.doc.dirty = path, false
			}
			w.doc.savedAs(path, m)
			w.rememberModel(path)
			w.refresh()
			if then != nil {
				then()
			}
		})
	})
}

// exportONNX writes the model as a standalone ONNX file, with its labels.
func (w *window) exportONNX() {
	m := w.doc.model
	if m == nil {
		return
	}
	w.pick.save("Export the model as ONNX", w.doc.name()+".onnx", []string{".onnx"}, func(path string) {
		w.jobs.start(func() {
			labels, err := w.core.ExportModel(m, path)
			fyne.Do(func() {
				if err != nil {
					w.showError("The model could not be exported", err)
					return
				}
				w.inform("Exported", fmt.Sprintf("Saved %s, a standalone ONNX model any ONNX runtime can run, "+
					"and %s, its labels in output order, in %s.", filepath.Base(path), filepath.Base(labels), displayPath(filepath.Dir(path))))
			})
		})
	})
}
