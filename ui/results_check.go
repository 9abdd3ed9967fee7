package ui

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"
)

// tappedCell answers a tap on a cell of the confusion matrix: a cell off
// the diagonal offers the label check filtered to its two kinds (the
// mistakes between two kinds are often photos filed under the wrong one)
// beside the photos of the cell; the diagonal, and a cell without photos,
// shows its photos.
func (s *resultsScreen) tappedCell(truth, pred string) {
	d := s.w.doc.data
	n, of := s.cellCount(truth, pred)
	if truth == pred || n == 0 || d == nil || !slices.Contains(d.Classes, truth) || !slices.Contains(d.Classes, pred) {
		s.showPair(truth, pred)
		return
	}
	text := widgets.Wrapped(cellText(truth, pred, n, of))
	var dlg *dialog.CustomDialog
	see := widget.NewButtonWithIcon("See "+words.Plural(n, "photo", "photos"), theme.FileImageIcon(), func() {
		dlg.Hide()
		s.showPair(truth, pred)
	})
	check := widget.NewButtonWithIcon("Check their labels", theme.SearchIcon(), func() {
		dlg.Hide()
		s.w.data.labelCheck().open(truth, pred)
	})
	check.Importance = widget.HighImportance
	dlg = dialog.NewCustomWithoutButtons(fmt.Sprintf("%s called %s", truth, pred), text, s.w.win)
	// "See the photos" is an answer, not a way out: it gets its own icon,
	// and Close dismisses.
	dlg.SetButtons([]fyne.CanvasObject{widget.NewButton("Close", func() { dlg.Hide() }), see, check})
	s.w.showDialog(dlg)
}

// cellText explains a cell off the confusion matrix's diagonal and what
// the label check does about it.
func cellText(truth, pred string, n, of int) string {
	return fmt.Sprintf("The model called %d of the %s in %s “%s”. The model may be wrong, or some of them may be "+
		"filed under the wrong kind: the label check looks at every photo in %s and %s and lists those that are "+
		"probably in the wrong folder.", n, words.Plural(of, "test photo", "test photos"), truth, pred, truth, pred)
}

// cellCount returns the number of test photos of class truth that the
// model called pred, and the number of test photos of truth.
func (s *resultsScreen) cellCount(truth, pred string) (n, of int) {
	r := s.report
	if r == nil {
		return 0, 0
	}
	t, p := slices.Index(r.Labels, truth), slices.Index(r.Labels, pred)
	if t < 0 || p < 0 || t >= len(r.Confusion) || p >= len(r.Confusion[t]) {
		return 0, 0
	}
	for _, c := range r.Confusion[t] {
		of += c
	}
	return r.Confusion[t][p], of
}

// noteDecisions says, under the results, when decisions made since
// training changed the label of some of the model's test photos: the
// results keep the labels the model was tested with.
func (s *resultsScreen) noteDecisions() {
	n := app.ChangedSinceTraining(s.w.doc.model, s.w.doc.data)
	if n == 0 {
		return
	}
	text := fmt.Sprintf("Since this model was trained you relabelled or left out %s of its test photos; these results use the labels it was tested with. Train again to use your decisions.",
		words.Plural(n, "photo", "photos"))
	if !s.caveat.Hidden {
		return // one notice at a time: the other one matters more
	}
	s.caveat.Set(theme.ColorNamePrimary, text)
	s.caveat.Show()
}
