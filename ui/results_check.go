package ui

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"
)

// tappedCell answers a tap on a cell of the confusion matrix: a cell off
// the diagonal offers the label check filtered to its two kinds (the
// mistakes between two kinds are often photos filed under the wrong one)
// beside the photos of the cell; the diagonal shows its photos.
func (s *resultsScreen) tappedCell(truth, pred string) {
	d := s.w.doc.data
	if truth == pred || d == nil || !slices.Contains(d.Classes, truth) || !slices.Contains(d.Classes, pred) {
		s.showPair(truth, pred)
		return
	}
	text := widgets.Wrapped(fmt.Sprintf("The model called some %s photos %s. Some of them may be filed under the wrong kind: "+
		"the label check looks at the %s and %s photos and lists those that are probably in the wrong folder.", truth, pred, truth, pred))
	dlg := dialog.NewCustomConfirm(fmt.Sprintf("%s called %s", truth, pred), "Check their labels", "See the photos", text, func(check bool) {
		if check {
			s.w.data.labelCheck().open(truth, pred)
		} else {
			s.showPair(truth, pred)
		}
	}, s.w.win)
	s.w.showDialog(dlg)
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
