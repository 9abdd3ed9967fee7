package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/filelock"
)

// Undo in the list of decisions forgets the decision off the UI
// goroutine: while another Clasifica holds the record (its lock), the
// window stays usable and the button waits, disabled; then it is undone.
func TestDecisionUndoWaitsOffTheUIGoroutine(t *testing.T) {
	core := emptyApp(t)
	w := newTestWindow(t, core, false)
	openDamaged(t, w)
	d := w.doc.data
	p, err := app.FindPhoto(d, d.Items[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	file, err := core.LeaveOut(d, p, true)
	if err != nil {
		t.Fatal(err)
	}
	w.data.showDecisions()
	mustShow(t, w.overlay(), "left out of training", "Undo")

	other, err := filelock.TryLock(file + ".lock") // another Clasifica, changing the record
	if err != nil {
		t.Fatal(err)
	}
	undo := button(t, w.overlay(), "Undo")
	test.Tap(undo) // returns: the wait is a job's
	if !undo.Disabled() || undo.Text != "Undo" {
		t.Errorf("while the record is held: button %q, disabled %v; want Undo, disabled", undo.Text, undo.Disabled())
	}
	if err := other.Unlock(); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if undo.Text != "Undone" {
		t.Errorf("after the other let go: button %q, want Undone", undo.Text)
	}
	s, err := core.LoadDecisions(d.Root)
	if err != nil || !s.Empty() {
		t.Errorf("the record after the undo: %d decisions, %v; want none", s.Len(), err)
	}
}
