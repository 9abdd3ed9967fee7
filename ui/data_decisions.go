package ui

import (
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/decisions"
	"github.com/clasifica/clasifica/ui/widgets"
)

// The Data screen's part in the user's decisions: the "Check labels"
// button, the line saying how many decisions are in effect, and their list,
// each with Undo. Kept apart from data.go, which lays out the screen.

// labelCheck returns the screen's label-check view, made on first use.
func (s *dataScreen) labelCheck() *labelCheck {
	if s.labels == nil {
		s.labels = newLabelCheck(s.w)
	}
	return s.labels
}

// newDecisionsRow makes the line about decisions in effect, hidden while
// there are none.
func (s *dataScreen) newDecisionsRow() *fyne.Container {
	s.decidedText = widget.NewLabel("")
	s.decidedText.Truncation = fyne.TextTruncateEllipsis
	list := widget.NewButton("Your decisions…", s.showDecisions)
	list.Importance = widget.LowImportance
	row := container.NewBorder(nil, nil, widget.NewIcon(theme.DocumentIcon()), list, s.decidedText)
	row.Hide()
	return row
}

// newCheckButton makes the header's "Check labels" button.
func (s *dataScreen) newCheckButton() *widget.Button {
	b := widget.NewButtonWithIcon("Check labels…", theme.SearchIcon(), func() { s.labelCheck().open() })
	return b
}

// showDecided says how many of the user's decisions the scan applied.
func (s *dataScreen) showDecided(d *dataset.Dataset) {
	c := dataset.Count(d.Decided)
	if c.Total == 0 {
		s.decisionsRow.Hide()
		return
	}
	var parts []string
	if c.Relabelled > 0 {
		parts = append(parts, fmt.Sprintf("%d counted in another kind than their folder's", c.Relabelled))
	}
	if c.LeftOut > 0 {
		parts = append(parts, fmt.Sprintf("%d left out", c.LeftOut))
	}
	if c.NearCopies > 0 {
		parts = append(parts, fmt.Sprintf("%d left out of training because a near-copy is held out for testing", c.NearCopies))
	}
	if c.ForcedSplit > 0 {
		parts = append(parts, fmt.Sprintf("%d kept in a chosen split", c.ForcedSplit))
	}
	text := fmt.Sprintf("Your decisions: %d photos", c.Total)
	if len(parts) > 0 {
		text += " — " + strings.Join(parts, ", ")
	}
	s.decidedText.SetText(text + ".")
	s.decisionsRow.Show()
}

// showDecisions lists every decision about the folder's photos, each with
// an Undo that forgets it.
func (s *dataScreen) showDecisions() {
	doc := &s.w.doc
	if doc.data == nil {
		return
	}
	file, views, err := s.w.core.Decisions(doc.data)
	if err != nil {
		s.w.showError("Your decisions cannot be read", err)
		return
	}
	box := container.NewVBox()
	var dlg dialog.Dialog
	undone := false
	for _, v := range views {
		h, _ := decisions.ParseHash(v.SHA256)
		name := widgets.Bold(filepath.Base(v.Path))
		name.Truncation = fyne.TextTruncateEllipsis
		detail := widgets.Caption(fmt.Sprintf("In %s · %s", v.Label, v.Describe()))
		detail.Wrapping = fyne.TextWrapWord
		undo := widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), nil)
		undo.OnTapped = func() {
			// Off the UI goroutine: the record may be another
			// Clasifica's to change for a moment (its lock).
			undo.Disable()
			root := doc.data.Root
			s.w.jobs.start(func() {
				_, _, err := s.w.core.Forget(root, h)
				fyne.Do(func() {
					if err != nil {
						undo.Enable()
						s.w.showError("The decision could not be undone", err)
						return
					}
					undone = true
					undo.SetText("Undone")
				})
			})
		}
		thumb := widgets.NewThumb(s.w.thumbs, fyne.NewSize(48, 48))
		thumb.SetPath(v.Path)
		box.Add(container.NewBorder(nil, nil, thumb, container.NewCenter(undo),
			container.New(widgets.TightVBox{Gap: -2 * theme.Padding()}, name, detail)))
	}
	if len(views) == 0 {
		box.Add(widgets.Wrapped("You have not decided anything about these photos in Clasifica."))
	}
	where := widgets.Caption("Kept in " + displayPath(file) + ", never in your photo folder.")
	where.Wrapping = fyne.TextWrapWord
	scroll := container.NewVScroll(box)
	content := container.NewBorder(nil, where, nil, nil, scroll)
	dlg = dialog.NewCustom("Your decisions", "Close", content, s.w.win)
	dlg.SetOnClosed(func() {
		// Undone decisions change the counts: read the folder again.
		if undone && doc.data != nil && !s.w.busy() {
			s.scan(doc.folder, doc.dataOpt, nil)
		}
	})
	size := s.w.win.Canvas().Size()
	dlg.Resize(fyne.NewSize(min(720, size.Width-40), min(520, size.Height-40)))
	s.w.showDialog(dlg)
}

// canCheckLabels reports whether the label check can start.
func canCheckLabels(d *dataset.Dataset) bool { return d != nil && len(d.Items) > 0 }
