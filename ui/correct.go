package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"
)

// newKindChoice is the last entry of "It's a…".
const newKindChoice = "New kind…"

// teach is the part of a photo's large view that teaches the model. A
// photo from outside the training folder (Classify) is copied into it by
// "Right" or "It's a…", in the kind's folder, to be learnt at the next
// training; a photo already in it (Results) is confirmed or corrected
// where it is (teachInFolder). nil when there is no training folder (a
// model opened from a file).
func (w *window) teach(p photoDetail) fyne.CanvasObject {
	root := w.doc.folder
	m := w.doc.model
	if root == "" || m == nil || p.err != nil || len(p.top) == 0 {
		return nil
	}
	if rel, err := filepath.Rel(root, p.path); err == nil && filepath.IsLocal(rel) {
		return w.teachInFolder(p)
	}
	if p.truth != "" {
		return nil
	}
	note := widgets.Caption("")
	note.Wrapping = fyne.TextWrapWord
	note.Hide()
	var right *widget.Button
	var kinds *widget.Select
	enable := func(on bool) {
		choices := []fyne.Disableable{kinds}
		if right != nil { // a stranger has no "Right"
			choices = append(choices, right)
		}
		for _, b := range choices {
			if on {
				b.Enable()
			} else {
				b.Disable()
			}
		}
	}
	add := func(kind string) {
		// Copying is quick, but the check that the photo is no copy of a
		// validation or test photo reads the folder: off the UI goroutine.
		enable(false)
		note.SetText("Checking the training photos…")
		note.Show()
		w.jobs.start(func() {
			c, err := w.core.AddCorrection(root, p.path, kind)
			fyne.Do(func() {
				if err != nil {
					enable(true)
					note.SetText(correctionError(root, err))
					return
				}
				w.corrections++
				w.classify.refresh()
				msg := fmt.Sprintf("Copied into the training photos as %s (%s). ", kind, displayPath(filepath.Dir(c.To)))
				if c.NewKind {
					msg += "A new kind needs 10 photos or more before the model learns it reliably. "
				}
				note.SetText(msg + "Train again to teach the model.")
				// The training photos changed: scan them again (with the
				// decision that puts the copy in the training split).
				if !w.busy() {
					w.data.scan(root, w.doc.dataOpt, nil)
				}
			})
		})
	}
	kinds = w.kindChoice(w.doc.model.Labels, add)
	if p.stranger {
		// The model's guess is not an answer for a photo unlike all its
		// kinds: there is nothing to confirm, only a kind to name.
		ask := widgets.Caption("If it is one of the kinds, or a new one, say which:")
		ask.Wrapping = fyne.TextWrapWord
		return container.NewVBox(widgets.Bold("Teach it"), ask, kinds, note)
	}
	right = widget.NewButtonWithIcon("Right", theme.ConfirmIcon(), func() { add(p.top[0].Label) })
	return container.NewVBox(widgets.Bold("Teach it"), container.NewGridWithColumns(2, right, kinds), note)
}

// kindChoice is "It's a…": the kinds, then "New kind…", which asks for
// a name; chosen runs with the kind.
func (w *window) kindChoice(kinds []string, chosen func(kind string)) *widget.Select {
	options := append(slices.Clone(kinds), newKindChoice)
	var sel *widget.Select
	sel = widget.NewSelect(options, func(kind string) {
		if kind != newKindChoice {
			chosen(kind)
			return
		}
		entry := widget.NewEntry()
		entry.SetPlaceHolder("name of the kind")
		d := dialog.NewForm("A new kind", "Add", "Cancel", []*widget.FormItem{widget.NewFormItem("Kind", entry)}, func(ok bool) {
			if ok && entry.Text != "" {
				chosen(entry.Text)
			} else {
				sel.ClearSelected()
			}
		}, w.win)
		d.Show()
	})
	sel.PlaceHolder = "It's a…"
	return sel
}

// teachInFolder corrects a photo that is already one of the training
// photos, where it is: "Right" confirms its label (the label check no
// longer suggests it), "It's a…" moves the file into the kind's folder
// (journaled, undoable) or, where a move means nothing (the Oxford-IIIT
// Pet layout) or the user prefers, relabels it in Clasifica only. nil
// when the photo is not among the scanned photos.
func (w *window) teachInFolder(p photoDetail) fyne.CanvasObject {
	d := w.doc.data
	if d == nil {
		return nil
	}
	photo, err := app.FindPhoto(d, p.path)
	if err != nil || photo.Label == "" {
		return nil
	}
	what := widgets.Caption(fmt.Sprintf("Your photos count it as %s.", photo.Label))
	what.Wrapping = fyne.TextWrapWord
	note := widgets.Caption("")
	note.Wrapping = fyne.TextWrapWord
	undo := widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), nil)
	done := container.NewVBox(note, undo)
	done.Hide()
	ask := widgets.Caption("")
	ask.Wrapping = fyne.TextWrapWord
	move := widget.NewButton("Move the file", nil)
	relabel := widget.NewButton("Relabel in Clasifica only", nil)
	how := container.NewVBox(ask, move, relabel)
	how.Hide()
	var right *widget.Button
	var kinds *widget.Select
	enable := func(on bool) {
		for _, b := range []fyne.Disableable{right, kinds, move, relabel} {
			if on {
				b.Enable()
			} else {
				b.Disable()
			}
		}
	}
	apply := func(kind app.FixKind, class string) {
		enable(false)
		how.Hide()
		w.fixTrainingPhoto(kind, p.path, class, func(f app.Fix, err error) {
			if err != nil {
				enable(true)
				note.SetText(app.PlainError(err))
				undo.Hide()
				done.Show()
				return
			}
			if kind != app.FixRight {
				w.relabelled++
				w.classify.refresh()
			}
			msg := "Done: " + f.Describe() + "."
			if f.Note != "" {
				msg = "Done: " + f.Describe() + ": " + f.Note + "."
			}
			if kind != app.FixRight {
				msg += " Train again to use it."
			}
			note.SetText(msg)
			undo.OnTapped = func() {
				undo.Disable()
				w.undoTrainingFix(f, func(err error) {
					var changed *app.DecisionChangedError
					if errors.As(err, &changed) {
						// It can never be undone now: the button
						// stays off.
						note.SetText(app.PlainError(err))
						return
					}
					if err != nil {
						undo.Enable()
						note.SetText(app.PlainError(err))
						return
					}
					if kind != app.FixRight {
						w.relabelled = max(w.relabelled-1, 0)
						w.classify.refresh()
					}
					kinds.ClearSelected()
					enable(true)
					done.Hide()
				})
			}
			undo.Enable()
			undo.Show()
			done.Show()
		})
	}
	right = widget.NewButtonWithIcon("Right", theme.ConfirmIcon(), func() { apply(app.FixRight, "") })
	others := slices.DeleteFunc(slices.Clone(w.doc.model.Labels), func(l string) bool { return l == photo.Label })
	kinds = w.kindChoice(others, func(kind string) {
		if !app.CanMove(d) {
			apply(app.FixMove, kind) // a relabel in this layout
			return
		}
		ask.SetText(fmt.Sprintf("Move the file into the %s folder, or count it as %s in Clasifica only?", kind, kind))
		move.OnTapped = func() { apply(app.FixMove, kind) }
		relabel.OnTapped = func() { apply(app.FixRelabel, kind) }
		how.Show()
	})
	return container.NewVBox(widgets.Bold("Teach it"), what, container.NewGridWithColumns(2, right, kinds), how, done)
}

// fixTrainingPhoto applies one fix to a training photo off the UI
// goroutine (a move or a decision written to disk), updates the scanned
// photos in memory, and calls done on the UI goroutine. FixMove corrects
// the photo with app.CorrectInFolder, which relabels it instead where a
// move means nothing (the Oxford-IIIT Pet layout) or is refused (a
// read-only folder).
func (w *window) fixTrainingPhoto(kind app.FixKind, path, class string, done func(app.Fix, error)) {
	start := w.doc.data
	w.jobs.start(func() {
		var f app.Fix
		var err error
		if kind == app.FixMove {
			// The move where a class is a folder, a relabel where the
			// move means nothing or is refused (f.Note says why).
			f, err = w.core.CorrectInFolder(start, path, class)
		} else {
			var p app.DecidedPhoto
			if p, err = app.FindPhoto(start, path); err == nil {
				f, err = w.core.ApplyFix(start, p, kind, class)
			}
		}
		fyne.Do(func() {
			if err == nil {
				w.changedData(start, f.Change)
			}
			done(f, err)
		})
	})
}

// undoTrainingFix undoes a fix of fixTrainingPhoto.
func (w *window) undoTrainingFix(f app.Fix, done func(error)) {
	start := w.doc.data
	w.jobs.start(func() {
		err := w.core.UndoFix(f)
		fyne.Do(func() {
			if err == nil {
				w.changedData(start, f.Undone)
			}
			done(err)
		})
	})
}

// changedData brings the scanned photos up to date after a fix made on
// the scan start: in memory when it is still the document's, by reading
// the folder again otherwise.
func (w *window) changedData(start *dataset.Dataset, c dataset.Change) {
	switch doc := &w.doc; {
	case start != nil && doc.data == start:
		w.setData(doc.folder, start.WithChanges([]dataset.Change{c}), doc.dataOpt)
	case doc.folder != "" && !w.busy():
		w.data.scan(doc.folder, doc.dataOpt, nil)
	}
}

// retrainText is the Classify screen's counter of the photos added or
// relabelled since the last training, on the button that retrains: "12
// new photos — Retrain". Empty when there are none.
func (w *window) retrainText() string {
	var parts []string
	if w.corrections > 0 {
		parts = append(parts, words.Plural(w.corrections, "new photo", "new photos"))
	}
	if w.relabelled > 0 {
		parts = append(parts, words.Plural(w.relabelled, "photo relabelled", "photos relabelled"))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + " — Retrain"
}

// retrain goes to the Train screen and starts the retraining, which
// continues from the current model.
func (w *window) retrain() {
	if w.busy() {
		w.show(stepTrain)
		return
	}
	w.show(stepTrain)
	w.train.start()
}

// correctionError says why a correction was not added, briefly: the large
// view's side panel is narrow, so a refused copy of a training-folder photo
// names that photo inside the folder rather than by its full path.
func correctionError(root string, err error) string {
	var dup *app.CopyOfPhotoError
	if !errors.As(err, &dup) {
		return app.PlainError(err)
	}
	twin := dup.Twin
	if rel, err := filepath.Rel(root, twin); err == nil && filepath.IsLocal(rel) {
		twin = rel
	}
	what := "the same shot as"
	if dup.Exact {
		what = "the same photo as"
	}
	return fmt.Sprintf("Not added: it is %s %s, already in the training folder, where it may be one of the photos the model is checked on. To change that photo's kind, correct it on Results.", what, twin)
}
