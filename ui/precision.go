package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"
)

// precisionChoices are Settings' precisions, in words.
var precisionChoices = []choice[app.Precision]{
	{app.PrecisionAuto, "Automatic (8 bits where they are as accurate and faster here)"},
	{app.PrecisionFloat, "Float (32-bit) always"},
	{app.PrecisionInt8, "8 bits where they pass the accuracy check"},
}

// precisionCheck is the window's 8-bit check: run by itself in the
// background once the window shows, where auto precision waits for one
// (app.NotChecked), or asked for in Settings. status says what the
// check found or how far it has got, progress (0 to 1) fills Settings'
// bar while it runs, and checking is true meanwhile: Settings' Precision
// row shows them while it is open.
type precisionCheck struct {
	task     task
	status   binding.String
	progress binding.Float
	checking binding.Bool
	// stopped is set when the user stopped the check: it is not started
	// by itself again until the next start of Clasifica.
	stopped bool
	// verdict is what the last check found, in words (Verdict), once
	// known: the row does not repeat it as the reason of what is in use.
	verdict string
}

func newPrecisionCheck() precisionCheck {
	return precisionCheck{status: binding.NewString(), progress: binding.NewFloat(), checking: binding.NewBool()}
}

// loadPrecisionCheck shows what the last 8-bit check on this computer
// found, unless a check runs.
func (w *window) loadPrecisionCheck() {
	opt := w.settings.EngineOptions()
	w.jobs.start(func() {
		c, ok, err := w.core.RememberedPrecisionCheck(opt)
		fyne.Do(func() {
			if !w.precisionCheck.task.running() {
				w.precisionCheck.verdict = ""
				if ok {
					w.precisionCheck.verdict = c.Verdict()
				}
				_ = w.precisionCheck.status.Set(checkText(c, ok, err))
			}
		})
	})
}

// maybeCheckPrecision starts the 8-bit check in the background where the
// engine runs float only because 8 bits were never checked here, once
// the window shows: it pays for itself on the first few hundred photos
// the user works on, and gives way to their work meanwhile.
func (w *window) maybeCheckPrecision() {
	c := &w.precisionCheck
	if !w.shown || w.closing || c.stopped || c.task.running() || w.engine.preparing || w.engine.precisionReason != app.NotChecked {
		return
	}
	w.checkPrecision(false)
}

// checkPrecision runs the 8-bit check (again, when refresh) in the
// background: at low priority, pausing while a job of the user's uses
// the image model, its progress and then its result in status. Once it
// is made, the engine is opened again to follow it.
func (w *window) checkPrecision(refresh bool) {
	c := &w.precisionCheck
	ctx, id := c.task.begin()
	_ = c.checking.Set(true)
	_ = c.progress.Set(0)
	_ = c.status.Set("Checking 8 bits on the sample photos, in the background…")
	opt := w.settings.EngineOptions()
	w.jobs.start(func() {
		res, err := w.core.CheckPrecision(ctx, opt, app.PrecisionCheckRequest{
			Refresh: refresh, Background: true, Busy: w.engines.Busy,
			Progress: func(p app.PrecisionProgress) {
				fyne.Do(func() {
					if c.task.current(id) {
						_ = c.progress.Set(p.Fraction())
						_ = c.status.Set(progressText(p))
					}
				})
			},
		})
		fyne.Do(func() {
			if !c.task.done(id) {
				return
			}
			_ = c.checking.Set(false)
			switch {
			case errors.Is(err, context.Canceled):
				_ = c.status.Set("Check stopped: nothing was recorded. Auto uses float until 8 bits are checked: at Clasifica's next start, or with Check 8 bits.")
				return
			case err != nil:
				// Not tried again by itself before the next start:
				// what failed would most likely fail again.
				c.stopped = true
				_ = c.status.Set(checkText(res, false, err))
				return
			}
			c.verdict = res.Verdict()
			_ = c.status.Set(checkText(res, true, nil))
			w.prepareEngine()
		})
	})
}

// stopPrecisionCheck stops a running check for this session.
func (w *window) stopPrecisionCheck() {
	w.precisionCheck.stopped = true
	w.precisionCheck.task.stop()
}

// progressText says how far a running check has got.
func progressText(p app.PrecisionProgress) string {
	if p.Paused {
		return fmt.Sprintf("Checking 8 bits: paused while the image model works for you (%s of %s passes over sample photos done).", words.Thousands(p.Done), words.Thousands(p.Total))
	}
	text := fmt.Sprintf("Checking 8 bits in the background: %s of %s passes over sample photos", words.Thousands(p.Done), words.Thousands(p.Total))
	if r := p.Rate(); r > 0 && p.Done < p.Total {
		text += fmt.Sprintf(" · %.1f a second", r) + timeLeft(p.Progress)
	}
	return text + "."
}

// checkText says what the last 8-bit check found.
func checkText(c app.PrecisionCheck, ok bool, err error) string {
	switch {
	case err != nil:
		return "Cannot check: " + app.PlainError(err)
	case !ok:
		return "8 bits can be 2 to 3 times as fast. The check compares them with float on sample photos and times both: a minute or two, once, in the background."
	}
	return fmt.Sprintf("%s Checked %s.", c.Verdict(), c.When.Format("2 Jan 2006 15:04"))
}

// precisionRow is the part of Settings about the image model's
// arithmetic: the choice, which precision is in use and why, and what
// the 8-bit check found on this computer or how far it has got, with a
// button to check again or stop the check.
type precisionRow struct {
	w         *window
	choice    *widget.Select
	inUse     *widgets.Subtle
	found     *widgets.Subtle
	bar       *widget.ProgressBar
	check     *widget.Button
	content   fyne.CanvasObject
	listeners []func()
}

func newPrecisionRow(w *window) *precisionRow {
	r := &precisionRow{w: w, inUse: widgets.Caption(""), found: widgets.Caption("")}
	r.inUse.Wrapping = fyne.TextWrapWord
	r.found.Wrapping = fyne.TextWrapWord
	r.choice = newChoiceSelect(precisionChoices, app.Precision(w.settings.Precision))
	c := &w.precisionCheck
	r.check = widget.NewButtonWithIcon("Check 8 bits", theme.ViewRefreshIcon(), func() {
		if c.task.running() {
			w.stopPrecisionCheck()
		} else {
			w.checkPrecision(true)
		}
	})
	r.bar = widget.NewProgressBarWithData(c.progress)
	r.content = container.NewVBox(r.choice, r.inUse, container.NewBorder(nil, nil, r.check, nil, r.found), r.bar)
	r.showInUse()
	r.listen(c.status, func() {
		s, _ := c.status.Get()
		r.found.SetText(s)
	})
	r.listen(c.checking, func() {
		if on, _ := c.checking.Get(); on {
			r.check.SetText("Stop check")
			r.check.SetIcon(theme.MediaStopIcon())
			r.bar.Show()
		} else {
			r.check.SetText("Check 8 bits")
			r.check.SetIcon(theme.ViewRefreshIcon())
			r.bar.Hide()
		}
	})
	return r
}

// listen calls show now and whenever d changes, until close.
func (r *precisionRow) listen(d binding.DataItem, show func()) {
	l := binding.NewDataListener(show)
	d.AddListener(l)
	r.listeners = append(r.listeners, func() { d.RemoveListener(l) })
}

// close stops following the window's check: Settings has closed.
func (r *precisionRow) close() {
	for _, f := range r.listeners {
		f()
	}
	r.listeners = nil
}

// selected returns the chosen precision.
func (r *precisionRow) selected() app.Precision {
	return chosenValue(r.choice, precisionChoices, app.PrecisionAuto)
}

// showInUse says which precision the prepared engine runs, and why.
func (r *precisionRow) showInUse() {
	e := r.w.engine
	switch {
	case e.preparing:
		r.inUse.SetText("In use: being decided while the image model opens.")
	case e.precision == "":
		r.inUse.SetText("In use: decided when the image model opens.")
	case e.precisionReason == app.NotChecked:
		r.inUse.SetText("In use: float, until 8 bits are checked on this computer.")
	case e.precisionReason == r.w.precisionCheck.verdict && e.precision == app.PrecisionInt8:
		r.inUse.SetText("In use: 8 bits, as the check below found.")
	case e.precisionReason == r.w.precisionCheck.verdict:
		r.inUse.SetText("In use: float, as the check below found.")
	case e.precision == app.PrecisionInt8:
		r.inUse.SetText("In use: 8 bits. " + capitalise(e.precisionReason))
	default:
		r.inUse.SetText("In use: float. " + capitalise(e.precisionReason))
	}
}

// capitalise makes a reason a sentence: a capital first letter and a
// full stop.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	if !strings.HasSuffix(s, ".") {
		r = append(r, '.')
	}
	return string(r)
}
