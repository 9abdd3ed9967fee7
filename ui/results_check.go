package ui

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2/dialog"

	"github.com/clasifica/clasifica/ui/widgets"
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
