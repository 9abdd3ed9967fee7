package ui

import (
	"fmt"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ui/widgets"
)

// precisionChoices are Settings' precisions, in words.
var precisionChoices = []struct {
	p     app.Precision
	label string
}{
	{app.PrecisionAuto, "Automatic (8 bits where they are as accurate and faster here)"},
	{app.PrecisionFloat, "Float (32-bit) always"},
	{app.PrecisionInt8, "8 bits where they pass the accuracy check"},
}

// precisionRow is the part of Settings about the image model's
// arithmetic: the choice, which precision is in use and why, and what
// the 8-bit check found on this computer, with a button to check again.
type precisionRow struct {
	w       *window
	choice  *widget.Select
	inUse   *widgets.Subtle
	found   *widgets.Subtle
	check   *widget.Button
	content fyne.CanvasObject
	task    task
}

func newPrecisionRow(w *window) *precisionRow {
	r := &precisionRow{w: w, inUse: widgets.Caption(""), found: widgets.Caption("")}
	r.inUse.Wrapping = fyne.TextWrapWord
	r.found.Wrapping = fyne.TextWrapWord
	var labels []string
	chosen := precisionChoices[0].label
	for _, c := range precisionChoices {
		labels = append(labels, c.label)
		if string(c.p) == w.settings.Precision {
			chosen = c.label
		}
	}
	r.choice = widget.NewSelect(labels, nil)
	r.choice.SetSelected(chosen)
	r.check = widget.NewButtonWithIcon("Check 8 bits", theme.ViewRefreshIcon(), r.runCheck)
	r.content = container.NewVBox(r.choice, r.inUse, container.NewBorder(nil, nil, r.check, nil, r.found))
	r.showInUse()
	opt := w.settings.EngineOptions()
	w.jobs.start(func() {
		c, ok, err := w.core.RememberedPrecisionCheck(opt)
		fyne.Do(func() { r.showCheck(c, ok, err) })
	})
	return r
}

// selected returns the chosen precision.
func (r *precisionRow) selected() app.Precision {
	if i := r.choice.SelectedIndex(); i >= 0 {
		return precisionChoices[i].p
	}
	return app.PrecisionAuto
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
	case e.precision == app.PrecisionInt8:
		r.inUse.SetText("In use: 8 bits. " + capitalise(e.precisionReason))
	default:
		r.inUse.SetText("In use: float. " + capitalise(e.precisionReason))
	}
}

// showCheck shows what the last 8-bit check on this computer found.
func (r *precisionRow) showCheck(c app.PrecisionCheck, ok bool, err error) {
	switch {
	case err != nil:
		r.found.SetText("Cannot check: " + app.PlainError(err))
	case !ok:
		r.found.SetText("8 bits can be 2 to 3 times as fast. The check compares them with float on sample photos and times both: a minute or two, once.")
	default:
		r.found.SetText(fmt.Sprintf("%s Checked %s.", c.Verdict(), c.When.Format("2 Jan 2006 15:04")))
	}
}

// runCheck checks 8 bits again, in the background.
func (r *precisionRow) runCheck() {
	ctx, id := r.task.begin()
	r.check.Disable()
	r.found.SetText("Checking 8 bits on the sample photos (a minute or two)…")
	opt := r.w.settings.EngineOptions()
	r.w.jobs.start(func() {
		c, err := r.w.core.CheckPrecision(ctx, opt, true)
		fyne.Do(func() {
			if !r.task.done(id) {
				return
			}
			r.check.Enable()
			r.showCheck(c, err == nil, err)
		})
	})
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
