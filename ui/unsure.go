package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/selective"
)

// targetChoices are the accuracies offered for the "not sure" threshold.
var targetChoices = []string{"80%", "85%", "90%", "95%", "98%", "99%"}

// unsurePanel is the Results tab about "not sure": the accuracy–coverage
// curve with the chosen threshold, the promise in words, what the
// threshold gives on the photos Results shows, and the target accuracy,
// which the user can change.
type unsurePanel struct {
	w        *window
	curve    *widgets.CoverageCurve
	promise  *widget.Label
	measured *widget.Label
	target   *widget.Select
	content  fyne.CanvasObject
	// setting is true while the panel fills the target choice itself.
	setting bool
}

func newUnsurePanel(w *window) *unsurePanel {
	p := &unsurePanel{w: w, curve: widgets.NewCoverageCurve(), promise: widgets.Wrapped(""), measured: widgets.Wrapped("")}
	p.target = widget.NewSelect(targetChoices, p.retarget)
	help := widgets.Caption("When the model is less confident than its threshold, it answers \"Not sure\" (its best guess is still shown, small) " +
		"and sorting puts the photo in " + app.UnsureFolder + ". A higher target makes it right more often but answer fewer photos.")
	help.Wrapping = fyne.TextWrapWord
	choose := container.NewHBox(widget.NewLabel("Right when it answers, at least"), p.target)
	// The words beside the curve scroll when a small screen lacks room;
	// the curve keeps its share.
	words := container.NewVScroll(container.NewVBox(choose, p.promise, p.measured, help))
	split := container.NewHSplit(widgets.NewPanel(p.curve), words)
	split.SetOffset(0.5)
	p.content = split
	return p
}

// set shows m's threshold and what it gives on the reviewed photos.
func (p *unsurePanel) set(m *model.Model, reviewed []app.Reviewed, which string) {
	th := (*model.Threshold)(nil)
	if m != nil {
		th = m.Threshold
	}
	promise := app.Promise(th)
	if m != nil {
		if note := app.StrangersNote(m); note != "" {
			promise += "\n\n" + note
		}
	}
	p.promise.SetText(promise)
	p.setting = true
	defer func() { p.setting = false }()
	if th == nil {
		p.curve.Set(nil, selective.Point{}, 0)
		p.target.ClearSelected()
		p.target.Disable()
		p.measured.SetText("")
		return
	}
	p.target.Enable()
	p.target.SetSelected(fmt.Sprintf("%.0f%%", 100*th.TargetAccuracy))
	p.curve.Set(th.Curve, th.Point(), th.TargetAccuracy)
	p.measured.SetText(measuredText(th, reviewed, which))
}

// measuredText says what th gives on the photos Results shows.
func measuredText(th *model.Threshold, reviewed []app.Reviewed, which string) string {
	if len(reviewed) == 0 {
		return ""
	}
	conf := make([]float64, len(reviewed))
	right := make([]bool, len(reviewed))
	for i, r := range reviewed {
		conf[i], right[i] = r.Confidence(), r.Correct
	}
	got := selective.Measure(conf, right, th.Value)
	// The promise above already gives the model's own test photos'
	// measure: said twice, the same numbers read as two findings.
	if t := th.Test; t != nil && t.Photos == got.Photos && t.Answered == got.Answered && which == "test photos" {
		return ""
	}
	if got.Answered == 0 {
		return fmt.Sprintf("On the %s %s shown here it answers none: all would be \"not sure\".", words.Thousands(got.Photos), which)
	}
	s := fmt.Sprintf("On the %s %s shown here it answers %s (%s), right on %s of those; %s would be \"not sure\".",
		words.Thousands(got.Photos), which, words.Thousands(got.Answered), words.Percent(got.Coverage), words.Percent(got.Accuracy),
		words.Plural(got.Photos-got.Answered, "photo", "photos"))
	if got.Answered < 30 {
		s += " So few answered photos make this an indication only."
	}
	return s
}

// retarget chooses the threshold again for the target picked, from the
// curve the model stores: the model changes (to be saved) and Classify
// answers with the new threshold.
func (p *unsurePanel) retarget(choice string) {
	d := &p.w.doc
	if p.setting || d.model == nil || d.model.Threshold == nil {
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(choice, "%"), 64)
	if err != nil {
		return
	}
	if d.model.Threshold.TargetAccuracy == v/100 {
		return
	}
	if err := app.Retarget(d.model, v/100); err != nil {
		p.w.showError("The target accuracy could not be changed", err)
		return
	}
	d.dirty = true
	p.w.updateTitle()
	p.set(d.model, d.reviewed, evaluatedWords(d.evaluated))
	p.w.classify.thresholdChanged()
}

// evaluatedWords names the photos Results evaluates.
func evaluatedWords(split string) string {
	if split == "validation" {
		return "validation photos"
	}
	return "test photos"
}

// thresholdChanged answers the photos shown again with the model's
// threshold, without classifying them again.
func (s *classifyScreen) thresholdChanged() {
	m := s.w.doc.model
	if m == nil {
		return
	}
	// Classifiers made from now on take the model's new threshold.
	t := app.ModelThreshold(m)
	for i := range s.preds {
		if s.preds[i].Err == nil {
			s.preds[i].Unsure = s.preds[i].Confidence() < t
		}
	}
	s.grid.Refresh()
	s.refresh()
}

// showUnsure fills a card for a photo the model is not sure of: "Not
// sure" in place of the label, the best guess small beneath.
func showUnsure(c *widgets.PhotoCard, p app.Prediction) {
	c.Label.SetText("Not sure")
	c.Value.SetText(words.Percent(p.Confidence()))
	c.Bar.Set(p.Confidence(), theme.ColorNameWarning)
	c.Sub.SetText("best guess: " + p.Label())
}

// showStranger fills a card for a photo far from every kind the model
// knows: "Not one of its kinds" in place of the label, the best guess
// small beneath, as for "Not sure".
func showStranger(c *widgets.PhotoCard, p app.Prediction) {
	c.Label.SetText("Not one of its kinds")
	c.Value.SetText(words.Percent(p.Confidence()))
	c.Bar.Set(p.Confidence(), theme.ColorNameWarning)
	c.Sub.SetText("best guess: " + p.Label())
}

// sortStart returns where the Sort dialog's slider starts, in percent:
// the model's threshold, or 50% for a model without one.
func sortStart(m *model.Model) float64 {
	if m == nil || m.Threshold == nil {
		return 50
	}
	return float64(int(100*m.Threshold.Value + 0.5))
}

// sortPromise says what sorting from confidence v promises, read from the
// model's accuracy–coverage curve.
func sortPromise(m *model.Model, v float64) string {
	if m == nil || m.Threshold == nil {
		return ""
	}
	p, ok := app.PromiseAt(m.Threshold, v)
	if !ok || p.Answered == 0 {
		return "From this confidence the model would have answered none of the photos its threshold was chosen on."
	}
	return fmt.Sprintf("From %s, on the %s photos its threshold was chosen on, it answered %s and was right on %s of those.",
		words.Percent(v), words.Thousands(p.Photos), words.Percent(p.Coverage), words.Percent(p.Accuracy))
}
