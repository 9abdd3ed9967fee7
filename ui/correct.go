package ui

import (
	"errors"
	"fmt"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"
)

// newKindChoice is the last entry of "It's a…".
const newKindChoice = "New kind…"

// teach is the part of a classified photo's large view that teaches the
// model: "Right" or "It's a…" copy the photo into the training folder,
// in the kind's folder, to be learnt at the next training. nil when there
// is no training folder (a model opened from a file) or the photo is
// already one of the training photos.
func (w *window) teach(p photoDetail) fyne.CanvasObject {
	root := w.doc.folder
	m := w.doc.model
	if root == "" || m == nil || p.truth != "" || p.err != nil || len(p.top) == 0 {
		return nil
	}
	if rel, err := filepath.Rel(root, p.path); err == nil && filepath.IsLocal(rel) {
		return nil
	}
	note := widgets.Caption("")
	note.Wrapping = fyne.TextWrapWord
	note.Hide()
	var right *widget.Button
	var kinds *widget.Select
	add := func(kind string) {
		// Copying is quick, but the check that the photo is no copy of a
		// validation or test photo reads the folder: off the UI goroutine.
		right.Disable()
		kinds.Disable()
		note.SetText("Checking the training photos…")
		note.Show()
		w.jobs.start(func() {
			c, err := w.core.AddCorrection(root, p.path, kind)
			fyne.Do(func() {
				if err != nil {
					right.Enable()
					kinds.Enable()
					note.SetText(correctionError(root, err))
					return
				}
				w.corrections++
				msg := fmt.Sprintf("Copied into the training photos as %s (%s). ", kind, displayPath(filepath.Dir(c.To)))
				if c.NewKind {
					msg += "A new kind needs 10 photos or more before the model learns it reliably. "
				}
				note.SetText(msg + "Train again to teach the model.")
				w.classify.refresh()
				// The training photos changed: scan them again (with the
				// decision that puts the copy in the training split).
				if !w.busy() {
					w.data.scan(root, w.doc.dataOpt, nil)
				}
			})
		})
	}
	right = widget.NewButtonWithIcon("Right", theme.ConfirmIcon(), func() { add(p.top[0].Label) })
	options := append(append([]string(nil), m.Labels...), newKindChoice)
	kinds = widget.NewSelect(options, func(kind string) {
		if kind != newKindChoice {
			add(kind)
			return
		}
		entry := widget.NewEntry()
		entry.SetPlaceHolder("name of the kind")
		d := dialog.NewForm("A new kind", "Add", "Cancel", []*widget.FormItem{widget.NewFormItem("Kind", entry)}, func(ok bool) {
			if ok && entry.Text != "" {
				add(entry.Text)
			}
		}, w.win)
		d.Show()
	})
	kinds.PlaceHolder = "It's a…"
	return container.NewVBox(widgets.Bold("Teach it"), container.NewGridWithColumns(2, right, kinds), note)
}

// correctionsText says how many photos corrections added since the last
// training, for the Classify screen.
func (w *window) correctionsText() string {
	if w.corrections == 0 {
		return ""
	}
	return fmt.Sprintf(" %s added to the training photos: train again to teach the model.", words.Plural(w.corrections, "photo", "photos"))
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
