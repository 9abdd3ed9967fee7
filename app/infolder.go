package app

import (
	"errors"
	"fmt"

	"github.com/clasifica/clasifica/internal/safemove"
	"github.com/clasifica/clasifica/ml/dataset"
)

// CorrectInFolder corrects the label of a photo that is already one of
// the photos of d (a test photo Results shows, say) so that it counts as
// kind: by the data doctor's safe move into kind's class folder (journaled,
// undoable, never over a file) where a class is a folder, and otherwise by
// a label override in Clasifica's decision record ("Relabel in Clasifica
// only"): in the Oxford-IIIT Pet layout, where the class is in the file's
// name and the annotation lists, and where the move is refused and changes
// nothing (a read-only folder, say), in which case the Fix's Note says why.
// The photo keeps its split: a move stays inside its split folder, and the
// split follows the content, not the folder. Update the scanned dataset
// with d.WithChanges([]dataset.Change{f.Change}); undo with UndoFix.
func (a *App) CorrectInFolder(d *dataset.Dataset, path, kind string) (Fix, error) {
	if d == nil {
		return Fix{}, fmt.Errorf("correct %s: no photo folder is open", path)
	}
	p, err := FindPhoto(d, path)
	if err != nil {
		return Fix{}, fmt.Errorf("correct %s: %w", path, err)
	}
	if p.Label == "" {
		return Fix{}, fmt.Errorf("correct %s: it is left out of training; let it back in first", path)
	}
	if kind == p.Label {
		return Fix{}, fmt.Errorf("correct %s: it already counts as %s", path, kind)
	}
	if err := checkClassName(kind); err != nil {
		return Fix{}, fmt.Errorf("correct %s: %w", path, err)
	}
	if !CanMove(d) {
		f, err := a.ApplyFix(d, p, FixRelabel, kind)
		f.Note = "in the Oxford-IIIT Pet layout a photo's kind is in its name and the annotation lists, so Clasifica counts it as " + kind + " without touching the file"
		return f, err
	}
	if p.Label != p.Folder {
		// Already counted in another class than its folder's: the
		// override is changed (or, back to its folder's class, withdrawn)
		// rather than a file moved whose label would still be the
		// override's.
		return a.ApplyFix(d, p, FixRelabel, kind)
	}
	f, err := a.ApplyFix(d, p, FixMove, kind)
	var refused *safemove.Error
	if errors.As(err, &refused) {
		// Nothing moved: the label override does the same for Clasifica.
		f, err = a.ApplyFix(d, p, FixRelabel, kind)
		f.Note = fmt.Sprintf("the file was not moved (%s), so Clasifica counts it as %s without touching it", refused.Reason, kind)
	}
	return f, err
}
