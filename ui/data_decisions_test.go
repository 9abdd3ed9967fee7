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
	// Only the disabling, done by the tap on this goroutine, is looked at
	// before the job ends: the job's wait ends through the kernel's lock,
	// which the race detector does not see as an order.
	if !undo.Disabled() {
		t.Error("while the record is held, Undo can be tapped again")
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
