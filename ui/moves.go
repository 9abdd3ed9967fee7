package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2/dialog"

	"github.com/clasifica/clasifica/internal/safemove"
)

// reportRecovered tells the user about moves of their files that the last
// session left unfinished and this start settled, so that a photo found
// in another folder is no surprise.
func (w *window) reportRecovered(rec []safemove.Recovered, err error) {
	if err != nil {
		w.showError("Unfinished moves", err)
	}
	if len(rec) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Clasifica was stopped while moving photos. No file was lost:\n\n")
	for _, r := range rec {
		switch r.Outcome {
		case safemove.Completed:
			fmt.Fprintf(&b, "• %s is now %s (the move was finished)\n", r.Move.From, r.Move.To)
		case safemove.RolledBack:
			fmt.Fprintf(&b, "• %s stayed where it was\n", r.Move.From)
		case safemove.Separate:
			fmt.Fprintf(&b, "• %s and %s are different files; both were kept\n", r.Move.From, r.Move.To)
		case safemove.Gone:
			fmt.Fprintf(&b, "• %s is no longer there (moved or deleted outside Clasifica)\n", r.Move.From)
		}
	}
	d := dialog.NewInformation("Unfinished moves", b.String(), w.win)
	d.Show()
}
