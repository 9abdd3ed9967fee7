package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/mltest"
)

// TestSettingsPrecision opens Settings on a computer where 8 bits were
// never checked: the Precision row says what is in use and why, and that
// float is used until a check; choosing float is saved and loaded again,
// and reopens the engine in float.
func TestSettingsPrecision(t *testing.T) {
	w, _ := uncheckedWindow(t)
	if w.engine.precision != app.PrecisionFloat || w.engine.precisionReason == "" {
		t.Fatalf("engine precision %q (%q)", w.engine.precision, w.engine.precisionReason)
	}
	w.showSettings()
	w.settle()
	r := w.settingsForm.precision
	if r.choice.Selected != precisionChoices[0].label {
		t.Errorf("precision chosen: %q, want Automatic", r.choice.Selected)
	}
	mustShow(t, r.content, "In use: float, until 8 bits are checked", "a minute or two, once", "Check 8 bits")
	r.choice.SetSelected(precisionChoices[1].label)
	w.settingsForm.apply(w.window)
	w.settle()
	if s := savedSettings(t, w.core); s.Precision != "float" || s.EngineOptions().Precision != app.PrecisionFloat {
		t.Errorf("loaded %+v", s)
	}
	if w.engine.precision != app.PrecisionFloat || w.engine.precisionReason != "asked for" {
		t.Errorf("after choosing float: %q (%q)", w.engine.precision, w.engine.precisionReason)
	}
}

// TestPrecisionCheckInBackground opens the window on a computer where 8
// bits were never checked: the check starts once the window shows, and
// Settings' Precision row shows how far it has got (count, rate, time
// left) with a Stop button. Stopped, it records nothing and does not
// start again by itself; started from the row, it pauses while a job of
// the user's holds the image model, runs to the end, and the row and the
// engine then follow what it found.
func TestPrecisionCheckInBackground(t *testing.T) {
	w, core := uncheckedWindow(t)
	if w.precisionCheck.task.running() || w.engine.precisionReason != app.NotChecked {
		t.Fatalf("before the window shows: check running %v, engine %q", w.precisionCheck.task.running(), w.engine.precisionReason)
	}
	w.showSettings()
	w.settle() // the device list's probe, which redraws the form
	r := w.settingsForm.precision
	mustShow(t, r.content, "In use: float, until 8 bits are checked", "in the background", "Check 8 bits")
	if r.bar.Visible() {
		t.Error("a progress bar shows while nothing is checked")
	}

	w.Show()
	waitFor(t, "the check's progress", func() bool { return strings.Contains(r.found.Text(), " a second") })
	mustShow(t, r.content, "Checking 8 bits in the background", "of 522 passes over sample photos", "left", "Stop check")
	if !r.bar.Visible() || r.bar.Value <= 0 {
		t.Errorf("progress bar shown %v at %.3f", r.bar.Visible(), r.bar.Value)
	}
	test.Tap(button(t, r.content, "Stop check"))
	w.settle()
	mustShow(t, r.content, "Check stopped: nothing was recorded", "Check 8 bits")
	opt := w.settings.EngineOptions()
	if _, ok, _ := core.RememberedPrecisionCheck(opt); ok {
		t.Fatal("a stopped check was recorded")
	}
	w.prepareEngine()
	w.settle()
	if w.precisionCheck.task.running() {
		t.Fatal("the stopped check started again by itself")
	}

	// The user's job holds the image model: the check waits for it.
	_, release, err := w.engines.Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	test.Tap(button(t, r.content, "Check 8 bits"))
	waitFor(t, "the check to pause", func() bool { return strings.Contains(r.found.Text(), "paused") })
	release()
	waitFor(t, "the check to go on", func() bool { return !strings.Contains(r.found.Text(), "paused") })
	w.settle()
	c, ok, err := core.RememberedPrecisionCheck(opt)
	if !ok || err != nil {
		t.Fatalf("the check was not recorded: %v", err)
	}
	t.Logf("%s; %s", c.Guard, c.Verdict())
	mustShow(t, r.content, c.Verdict(), "Checked ", "Check 8 bits")
	if r.bar.Visible() {
		t.Error("the progress bar stays after the check")
	}
	want, inUse := app.PrecisionFloat, "In use: float, as the check below found."
	if c.Use() {
		want, inUse = app.PrecisionInt8, "In use: 8 bits, as the check below found."
	}
	if w.engine.precision != want || w.engine.precisionReason != c.Verdict() {
		t.Errorf("after the check the engine runs %s (%q)", w.engine.precision, w.engine.precisionReason)
	}
	mustShow(t, r.content, inUse)
}

// uncheckedWindow opens a window, with the image model prepared, on a
// fresh computer where 8 bits were never checked.
func uncheckedWindow(t *testing.T) (*testWindow, *app.App) {
	t.Helper()
	core := emptyApp(t)
	if _, err := core.Backbones.Import(context.Background(), mltest.Backbone(t)); err != nil {
		t.Fatal(err)
	}
	w := newTestWindow(t, core, true)
	w.settle()
	return w, core
}

// waitFor waits, with a generous deadline, until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 minutes for %s", what)
		}
		loop.let()
		time.Sleep(20 * time.Millisecond)
		loop.hold()
	}
}

// TestQuitStopsPrecisionCheck: the app quitting without the window's
// close (SIGTERM, the session ending) stops the background check at once
// and records nothing; it used to keep the process alive until the check
// was done.
func TestQuitStopsPrecisionCheck(t *testing.T) {
	w, core := uncheckedWindow(t)
	w.Show()
	waitFor(t, "the check to start", func() bool { return w.precisionCheck.task.running() })
	done := make(chan struct{})
	go func() {
		w.shutdown()
		close(done)
	}()
	// The test keeps the UI goroutine: after quitting, the event loop
	// runs nothing more.
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("shutdown is still waiting for the 8-bit check")
	}
	if _, ok, _ := core.RememberedPrecisionCheck(w.settings.EngineOptions()); ok {
		t.Error("the check stopped by quitting was recorded")
	}
}
