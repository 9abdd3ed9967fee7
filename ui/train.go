package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/finetune"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// trainScreen is step 2: the image model in use, the Train button with
// sensible defaults (the rest under Advanced), the progress of each
// phase, and the live chart of loss and accuracy.
type trainScreen struct {
	w        *window
	task     task
	content  fyne.CanvasObject
	backbone *backboneSetup
	engine   *engineCard

	trainBtn  *widget.Button
	cancelBtn *widget.Button
	hint      *widgets.Subtle

	advanced *widget.Accordion
	epochs   *widget.Select
	rate     *widget.Select
	batch    *widget.Select
	augment  *widget.Select
	val      *widget.Slider
	valText  *widgets.Subtle
	test     *widget.Slider
	testText *widgets.Subtle
	early    *widget.Check
	fineTune *widget.Check
	ftText   *widgets.Subtle

	progress *widgets.Panel
	phase    *widget.Label
	bar      *widget.ProgressBar
	detail   *widgets.Subtle
	outcome  *widgets.Notice
	loss     *widgets.Chart
	accuracy *widgets.Chart

	started  time.Time
	warnings []string // photos left out
	notes    []string // warnings about the run as a whole
	unstable bool     // fine-tuning diverged and was stopped
	// now is the clock for the time a run took; tests stop it.
	now func() time.Time
	// onEvent, when set, sees every training event after the screen has
	// shown it (tests use it to act at a given point of a run).
	onEvent func(app.Event)
}

// Choices offered under Advanced.
var (
	epochChoices   = []string{"10", "20", "30", "50", "100"}
	rateChoices    = []string{"0.0001", "0.0003", "0.001", "0.003", "0.01"}
	batchChoices   = []string{"8", "16", "32", "64", "128"}
	augmentChoices = []string{"Off", "2 variations of each photo", "4 variations of each photo", "8 variations of each photo"}
	augmentViews   = []int{0, 2, 4, 8}
)

func newTrainScreen(w *window) *trainScreen {
	s := &trainScreen{w: w, backbone: newBackboneSetup(w), engine: newEngineCard(), now: time.Now}
	s.trainBtn = widget.NewButtonWithIcon("Train", theme.MediaPlayIcon(), s.start)
	s.trainBtn.Importance = widget.HighImportance
	s.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), s.cancel)
	s.hint = widgets.Caption("")
	s.hint.SetAlignment(fyne.TextAlignTrailing)
	title, sub := widgets.Heading("Train", "Clasifica looks at each photo once, then learns to tell your kinds of photo apart. This takes a minute or two.")
	big := container.NewGridWrap(fyne.NewSize(150, 44), s.trainBtn)
	actions := container.NewVBox(container.NewHBox(layout.NewSpacer(), s.cancelBtn, big), s.hint)

	s.advanced = widget.NewAccordion(widget.NewAccordionItem("Advanced settings", s.buildAdvanced()))

	s.phase = widgets.Bold("")
	s.bar = widget.NewProgressBar()
	s.detail = widgets.Caption("")
	s.progress = widgets.NewPanel(container.NewVBox(s.phase, s.bar, s.detail))
	s.outcome = widgets.NewNotice(theme.ColorNameSuccess, "")

	s.loss = widgets.NewChart("Loss (lower is better)", false)
	s.accuracy = widgets.NewChart("Accuracy (higher is better)", true)
	charts := widgets.NewPanel(container.NewGridWithColumns(2, s.loss, s.accuracy))

	top := []fyne.CanvasObject{
		container.NewBorder(nil, nil, nil, actions, widgets.TitleBlock(title, sub)),
		s.backbone.box, s.advanced, s.progress, s.outcome,
	}
	s.content = widgets.VFill(top, charts)
	s.resetProgress()
	s.refresh()
	return s
}

// buildAdvanced makes the Advanced settings, with the defaults selected.
func (s *trainScreen) buildAdvanced() fyne.CanvasObject {
	def := train.DefaultOptions()
	s.epochs = widget.NewSelect(epochChoices, nil)
	s.epochs.SetSelected(strconv.Itoa(def.Epochs))
	s.rate = widget.NewSelect(rateChoices, nil)
	s.rate.SetSelected(strconv.FormatFloat(def.LearningRate, 'f', -1, 64))
	s.batch = widget.NewSelect(batchChoices, nil)
	s.batch.SetSelected(strconv.Itoa(def.BatchSize))
	s.augment = widget.NewSelect(augmentChoices, nil)
	s.augment.SetSelected(augmentChoices[0])
	s.early = widget.NewCheck("Stop early", nil)
	s.early.SetChecked(def.Patience > 0)
	// Check labels do not wrap: they stay short, and the captions under
	// them (which wrap) say the rest.
	earlyText := widgets.Caption("When the validation photos stop improving")
	earlyText.Wrapping = fyne.TextWrapWord
	s.ftText = widgets.Caption("")
	s.ftText.Wrapping = fyne.TextWrapWord
	s.fineTune = widget.NewCheck("Fine-tune the image model", func(bool) { s.ftText.SetText(s.fineTuneEstimate()) })
	s.fineTune.SetChecked(def.FineTune > 0)
	s.ftText.SetText(s.fineTuneEstimate())

	s.valText = widgets.Caption("")
	s.val = widget.NewSlider(5, 40)
	s.val.Step = 5
	s.val.OnChanged = func(v float64) {
		s.valText.SetText(fmt.Sprintf("%.0f%%", v))
		s.sharesChanged()
	}
	s.val.SetValue(100 * s.w.doc.dataOpt.Validation)
	s.testText = widgets.Caption("")
	s.test = widget.NewSlider(0, 40)
	s.test.Step = 5
	s.test.OnChanged = func(v float64) {
		s.testText.SetText(s.testShareText(v))
		s.sharesChanged()
	}
	s.test.SetValue(100 * s.w.doc.dataOpt.Test)

	// Form hints do not wrap, so they stay short; the longer story is in
	// the notes under each column.
	left := widget.NewForm(
		&widget.FormItem{Text: "Epochs", Widget: s.epochs, HintText: "Most passes over the photos"},
		&widget.FormItem{Text: "Learning rate", Widget: s.rate, HintText: "Smaller is slower and steadier"},
		&widget.FormItem{Text: "Batch size", Widget: s.batch, HintText: "Photos per learning step"},
		&widget.FormItem{Text: "", Widget: container.NewVBox(s.early, earlyText)},
		&widget.FormItem{Text: "", Widget: container.NewVBox(s.fineTune, s.ftText)},
	)
	right := widget.NewForm(
		&widget.FormItem{Text: "Augmentation", Widget: s.augment, HintText: "Flipped, cropped, recoloured copies"},
		&widget.FormItem{Text: "Validation", Widget: container.NewBorder(nil, nil, nil, s.valText, s.val), HintText: "Of the training photos, checked each epoch"},
		&widget.FormItem{Text: "Final test", Widget: container.NewBorder(nil, nil, nil, s.testText, s.test), HintText: "Of all photos, kept aside for Results"},
	)
	return container.NewGridWithColumns(2, left, right)
}

// sharesChanged divides the photos again with the sliders' shares, in
// memory: the split is a function of what the scan found, so the Data
// screen shows at once what training will use, and keeps the full-decode
// check's findings. Only another granularity reads the folder again.
func (s *trainScreen) sharesChanged() {
	if s.val == nil || s.test == nil {
		return // still building the sliders
	}
	doc := &s.w.doc
	opt := doc.dataOpt
	opt.Validation, opt.Test = s.val.Value/100, s.test.Value/100
	if opt.Validation == doc.dataOpt.Validation && opt.Test == doc.dataOpt.Test {
		return
	}
	if doc.data == nil || s.w.busy() || s.w.data.task.running() || app.NeedsRescan(doc.data, opt) {
		// Nothing to divide now: the next scan uses the shares, and a
		// training under way keeps its own (it reads the sliders when
		// it starts).
		if !s.w.busy() {
			doc.dataOpt.Validation, doc.dataOpt.Test = opt.Validation, opt.Test
		}
		return
	}
	d, err := app.Resplit(doc.data, opt)
	if err != nil {
		// Shares that leave no training photo: training's own check
		// explains it when it starts.
		return
	}
	s.w.data.resplit(doc.data, d)
	s.w.setData(doc.folder, d, opt)
}

// fineTuneEstimate says how much longer fine-tuning makes training of the
// chosen folder, before the user starts: from this computer's last
// fine-tuning on the same device when there was one.
func (s *trainScreen) fineTuneEstimate() string {
	d := s.w.doc.data
	if d == nil {
		return "Slower, usually more accurate: adds several minutes per 100 photos on a computer without a graphics card"
	}
	photos := int(float64(len(d.Items)) * (1 - s.w.doc.dataOpt.Test))
	est := s.w.core.FineTuneEstimate(s.w.engine.device, finetune.MaxBlocks, photos, train.DefaultOptions().FineTuneEpochs)
	text := fmt.Sprintf("Slower, usually more accurate: adds %s for these %s", words.RoughDuration(est.Duration), words.Plural(len(d.Items), "photo", "photos"))
	if !est.Measured {
		text += " (a first guess; after one fine-tuning, estimates use this computer's own speed)"
	}
	return text
}

// testShareText describes the test share, or says the folder has its own.
func (s *trainScreen) testShareText(v float64) string {
	if d := s.w.doc.data; d != nil && hasOwnTest(d) {
		return "Folder's own"
	}
	if v == 0 {
		return "None"
	}
	return fmt.Sprintf("%.0f%%", v)
}

// hasOwnTest reports whether the layout brings its own test photos, which
// the test share does not apply to.
func hasOwnTest(d *dataset.Dataset) bool {
	if d.Layout == dataset.OxfordPets {
		return true
	}
	if d.Layout != dataset.SplitFolders {
		return false
	}
	for _, it := range d.Items {
		if it.Split == dataset.Test {
			return true
		}
	}
	return false
}

// choices reads the training and data options from the controls.
func (s *trainScreen) choices() (train.Options, dataset.Options) {
	o := s.w.doc.opts
	o.Epochs, _ = strconv.Atoi(s.epochs.Selected)
	o.LearningRate, _ = strconv.ParseFloat(s.rate.Selected, 64)
	o.BatchSize, _ = strconv.Atoi(s.batch.Selected)
	if i := s.augment.SelectedIndex(); i >= 0 {
		o.Augment = augmentViews[i]
	}
	o.FineTune = 0
	if s.fineTune.Checked {
		o.FineTune = finetune.MaxBlocks
	}
	o.Patience = 0
	if s.early.Checked {
		o.Patience = train.DefaultOptions().Patience
	}
	d := s.w.doc.dataOpt
	d.Validation = s.val.Value / 100
	d.Test = s.test.Value / 100
	o.Validation, o.Test = d.Validation, d.Test
	return o, d
}

// engineCard returns the sidebar's note on the image model.
func (s *trainScreen) engineCard() fyne.CanvasObject { return s.engine.content }

// refreshEngine shows the engine state in the sidebar and on the screen.
func (s *trainScreen) refreshEngine() {
	s.engine.set(s.w.engine)
	s.backbone.refresh()
}

// ready says why training cannot start, or "" when it can.
func (s *trainScreen) ready() string {
	switch {
	case s.w.doc.data == nil:
		return "Choose your photos on the Data step first."
	case s.w.engine.backbone == nil && !s.w.engine.preparing:
		return "Download or import the image model first."
	case s.w.engine.err != nil:
		return "The image model cannot run: see above."
	}
	return ""
}

// refresh updates the buttons and, for a model opened from a file, shows
// its recorded training.
func (s *trainScreen) refresh() {
	running := s.task.running()
	why := s.ready()
	// The estimate depends on the photos chosen and where the model runs.
	s.ftText.SetText(s.fineTuneEstimate())
	if running || why != "" {
		s.trainBtn.Disable()
	} else {
		s.trainBtn.Enable()
	}
	if running {
		s.cancelBtn.Show()
		s.advanced.Hide()
		s.hint.SetText("Training… you can keep using the other steps.")
	} else {
		s.cancelBtn.Hide()
		s.advanced.Show()
		s.hint.SetText(why)
		if why == "" && s.w.doc.model != nil && s.w.doc.trained {
			s.hint.SetText("Training again replaces the model.")
		}
	}
	s.testText.SetText(s.testShareText(s.test.Value))
	if d := s.w.doc.data; d != nil && hasOwnTest(d) {
		s.test.Disable()
	} else {
		s.test.Enable()
	}
}

// resetProgress hides the progress and outcome of an earlier run; the
// empty charts' axes run to the epochs chosen.
func (s *trainScreen) resetProgress() {
	s.progress.Hide()
	s.outcome.Hide()
	epochs, _ := strconv.Atoi(s.epochs.Selected)
	s.loss.Reset(epochs)
	s.accuracy.Reset(epochs)
}

// start begins training in the background.
func (s *trainScreen) start() {
	if s.task.running() || s.ready() != "" {
		if why := s.ready(); why != "" {
			s.w.inform("Not ready to train", why)
		}
		return
	}
	opts, dopt := s.choices()
	if err := opts.Validate(); err != nil {
		s.w.showError("These settings cannot be used", err)
		return
	}
	s.w.show(stepTrain)
	ctx, id := s.task.begin()
	s.started = s.now()
	s.warnings, s.notes, s.unstable = nil, nil, false
	s.loss.Reset(opts.Epochs)
	s.accuracy.Reset(opts.Epochs)
	s.outcome.Hide()
	s.progress.Show()
	s.setPhase("Getting ready…", 0, "Starting the image model")
	s.refresh()
	s.w.refresh()

	doc := &s.w.doc
	folder, data := doc.folder, doc.data
	// After corrections, training continues from the current model: only
	// the new photos go through the image model, and the head starts
	// from what it knew.
	var base *model.Model
	if s.w.corrections+s.w.relabelled > 0 && doc.model != nil {
		base = doc.model
		// The folder changed since it was read (the corrections' copies,
		// perhaps while it was being read again): Train reads it afresh,
		// with the decisions that keep the copies in training.
		data = nil
	}
	engOpt := s.w.settings.EngineOptions()
	// Fine-tuning runs the image model in float; continuing a model
	// keeps the precision its head learnt on.
	engOpt.FineTuning = opts.FineTune > 0
	if base != nil {
		engOpt = engOpt.ForModel(base)
		engOpt.FineTuning = engOpt.FineTuning || len(base.Top) > 0
	}
	emit := func(ev app.Event) {
		fyne.Do(func() {
			if s.task.current(id) {
				s.handle(ev)
				if s.onEvent != nil {
					s.onEvent(ev)
				}
			}
		})
	}
	s.w.jobs.start(func() {
		eng, release, err := s.w.engines.Open(ctx, engOpt)
		defer release()
		var res *train.Result
		var cmp *app.Comparison
		if err == nil {
			res, err = s.w.core.Train(ctx, eng, app.TrainRequest{Data: folder, Dataset: data, DataOptions: dopt, Options: opts, Base: base}, emit)
		}
		if err == nil && base != nil {
			cmp = s.compare(ctx, eng, base, res)
		}
		fyne.Do(func() {
			if !s.task.done(id) {
				return
			}
			s.finish(res, err, opts, base, cmp)
		})
	})
}

// compare evaluates the model a retraining continued on the photos the
// new one was evaluated on (the same computation as train --continue's).
// nil when the two cannot be compared (fine-tuned blocks, another image
// model, no test photos) or the comparison failed: the new model stands
// either way, and a failure is noted with the training's notes.
func (s *trainScreen) compare(ctx context.Context, eng *app.Engine, base *model.Model, res *train.Result) *app.Comparison {
	if !app.CanCompare(base, eng) || res.Report == nil {
		return nil
	}
	c, err := app.NewClassifier(base, eng)
	var cmp *app.Comparison
	if err == nil {
		cmp, err = c.Compare(ctx, res)
	}
	if err != nil {
		fyne.Do(func() {
			s.notes = append(s.notes, "The models before and after could not be compared: "+app.PlainError(err))
		})
		return nil
	}
	return cmp
}

// cancel stops the training; the model does not change.
func (s *trainScreen) cancel() {
	if s.task.running() {
		s.task.stop()
		s.setPhase("Stopping…", s.bar.Value, "")
	}
}

// setPhase shows what the run is doing.
func (s *trainScreen) setPhase(phase string, value float64, detail string) {
	s.phase.SetText(phase)
	s.bar.SetValue(value)
	s.detail.SetText(detail)
}

// calibratingPhase is the last step's name while the out-of-fold heads
// train: they measure how far the model's confidence can be trusted.
const calibratingPhase = "Step 3 of 3 · Learning when to say \"not sure\""

// handle shows a training event.
func (s *trainScreen) handle(ev app.Event) {
	device := deviceName(s.w.engine.device)
	switch e := ev.(type) {
	case app.Scanned:
		// The shares changed since the folder was read: the new scan is
		// the document's data now.
		s.w.setData(s.w.doc.folder, e.Dataset, e.Dataset.Options)
	case app.Scanning:
		if e.Total > 0 {
			s.setPhase("Reading the photos", float64(e.Done)/float64(e.Total),
				fmt.Sprintf("%s of %s files", words.Thousands(e.Done), words.Thousands(e.Total)))
		}
	case train.PhaseStarted:
		switch e.Phase {
		case train.Extracting:
			s.setPhase("Step 1 of 3 · Looking at each photo", 0, "Running the image model on "+device)
		case train.Training:
			s.setPhase("Step 2 of 3 · Learning", 0, "")
		case train.Caching:
			s.setPhase("Step 1 of 3 · Preparing to fine-tune the image model", 0, "Running the image model on "+device)
		case train.FineTuning:
			s.loss.MarkStage2()
			s.accuracy.MarkStage2()
			s.setPhase("Step 2 of 3 · Fine-tuning the image model", 0, "")
		case train.Evaluating:
			s.setPhase("Step 3 of 3 · Checking the test photos", 1, "")
		case train.Calibrating:
			s.setPhase(calibratingPhase, 0, "")
		}
	case train.Calibration:
		p := e.Progress
		if p.Total == 0 || e.Fold == 0 {
			return
		}
		detail := fmt.Sprintf("Practice model %d of %d: each learns without 1 in %d of the photos and is tested on them", e.Fold, e.Folds, e.Folds)
		if left := words.RoughDuration(p.Remaining()); left != "" {
			detail += " · " + left + " left"
		}
		s.setPhase(calibratingPhase, p.Fraction(), detail)
	case train.Extraction:
		p := e.Progress
		if p.Total == 0 {
			return
		}
		parts := []string{fmt.Sprintf("%s of %s photos", words.Thousands(p.Done), words.Thousands(p.Total))}
		if r := p.Rate(); r > 0 {
			parts = append(parts, fmt.Sprintf("%.1f photos/s on %s", r, device))
		}
		if left := words.RoughDuration(p.Remaining()); left != "" {
			parts = append(parts, left+" left")
		}
		if p.FromCache > 0 {
			parts = append(parts, fmt.Sprintf("%s remembered from before", words.Thousands(p.FromCache)))
		}
		s.setPhase("Step 1 of 3 · Looking at each photo", float64(p.Done)/float64(p.Total), strings.Join(parts, " · "))
	case train.EpochFinished:
		s.loss.Add(e.Loss, e.ValLoss, e.HasValidation, e.Best)
		s.accuracy.Add(e.Accuracy, e.ValAccuracy, e.HasValidation, e.Best)
		detail := fmt.Sprintf("Epoch %d of at most %d · right on %s of the training photos", e.Epoch.Epoch, e.Epochs, words.Percent(e.Accuracy))
		if e.HasValidation {
			detail += fmt.Sprintf(", %s of the validation photos", words.Percent(e.ValAccuracy))
		}
		s.setPhase("Step 2 of 3 · Learning", float64(e.Epoch.Epoch)/float64(max(e.Epochs, 1)), detail)
	case train.Warning:
		// Photos left out, or notes on the run as a whole (the folder's
		// balance, a continued model's head).
		if e.Path != "" {
			s.warnings = append(s.warnings, e.Message)
		} else {
			s.notes = append(s.notes, e.Message)
		}
	case train.FineTuneStopped:
		if e.Again {
			s.setPhase("Step 2 of 3 · Fine-tuning the image model again, more gently", 0, "It became unstable at its first learning rate")
		} else {
			s.unstable = true
		}
	}
}

// finish shows how a run ended and, on success, makes its model the
// document's.
func (s *trainScreen) finish(res *train.Result, err error, opts train.Options, base *model.Model, cmp *app.Comparison) {
	s.progress.Hide()
	took := words.ShortDuration(s.now().Sub(s.started))
	switch {
	case err != nil && app.IsCancel(err):
		s.outcome.Set(theme.ColorNamePrimary, "Training was cancelled. The model was not changed.")
		s.restoreChart()
	case err != nil:
		e := explain(err)
		details := widget.NewButton("Details…", func() { s.w.showError("Training failed", err) })
		s.outcome.Set(theme.ColorNameError, "Training failed: "+e.what+" "+e.todo, details)
		s.restoreChart()
	default:
		s.w.setTrained(res, base, cmp)
		s.loss.Fit()
		s.accuracy.Fit()
		msg := fmt.Sprintf("Finished in %s.", took)
		switch r := res.Report; {
		case cmp != nil:
			msg = fmt.Sprintf("Retrained in %s. On the same %s: %s right before, %s now (%s fixed, %s broken).", took,
				words.Plural(cmp.N, cmp.Evaluated+" photo", cmp.Evaluated+" photos"), words.Percent(cmp.Before), words.Percent(cmp.After),
				words.Plural(len(cmp.Fixed), "photo", "photos"), words.Thousands(len(cmp.Broken)))
		case r != nil:
			msg += fmt.Sprintf(" The model got %s of the %s right.", words.Percent(r.Accuracy), words.Plural(r.N, res.Evaluated+" photo", res.Evaluated+" photos"))
		}
		if res.StoppedEarly {
			msg += " It stopped early, when the validation photos no longer improved."
		}
		if s.unstable {
			msg += " Fine-tuning became unstable and was stopped; the model keeps its best epoch (a lower fine-tuning learning rate avoids this)."
		}
		var actions []fyne.CanvasObject
		if len(s.warnings) > 0 {
			msg += fmt.Sprintf(" %s left out.", words.Plural(len(s.warnings), "photo could not be read and was", "photos could not be read and were"))
			warnings := s.warnings
			actions = append(actions, widget.NewButton("Which?", func() {
				s.w.inform("Photos left out", strings.Join(warnings, "\n"))
			}))
		}
		if len(s.notes) > 0 {
			notes := s.notes
			actions = append(actions, widget.NewButton("Notes…", func() {
				s.w.inform("Notes on this training", strings.Join(notes, "\n\n"))
			}))
		}
		seeText := "See results"
		if base != nil {
			seeText = "See before and after"
		}
		see := widget.NewButtonWithIcon(seeText, theme.NavigateNextIcon(), func() { s.w.show(stepResults) })
		see.Importance = widget.HighImportance
		s.outcome.Set(theme.ColorNameSuccess, msg, append(actions, see)...)
	}
	s.outcome.Show()
	s.refresh()
	s.w.refresh()
}

// restoreChart shows the current model's training again after a run that
// produced nothing.
func (s *trainScreen) restoreChart() {
	if m := s.w.doc.model; m != nil {
		s.showRecorded(m)
	} else {
		s.resetProgress()
		s.outcome.Show()
	}
}

// showRecorded draws the training a model file records.
func (s *trainScreen) showRecorded(m *model.Model) {
	t := m.Training
	s.loss.Reset(0)
	s.accuracy.Reset(0)
	if t == nil {
		return
	}
	for _, e := range t.Epochs {
		best := e.Epoch == t.BestEpoch
		s.loss.Add(e.Loss, e.ValLoss, e.HasValidation, best)
		s.accuracy.Add(e.Accuracy, e.ValAccuracy, e.HasValidation, best)
	}
}

// modelOpened shows a model opened from a file.
func (s *trainScreen) modelOpened(m *model.Model, path string) {
	s.progress.Hide()
	s.showRecorded(m)
	msg := fmt.Sprintf("Opened %s: it sorts photos into %s.", filepath.Base(path), words.Plural(len(m.Labels), "kind", "kinds"))
	if t := m.Training; t != nil {
		msg = fmt.Sprintf("Opened %s: trained on %s from %s in %s, on %s.", filepath.Base(path),
			words.Plural(t.TrainCount, "photo", "photos"), filepath.Base(t.Dataset), words.Plural(len(t.Epochs), "epoch", "epochs"),
			m.Created.Local().Format("2 January 2006"))
	}
	s.outcome.Set(theme.ColorNamePrimary, msg)
	s.outcome.Show()
	s.refresh()
}

// status is the Train step's line in the sidebar.
func (s *trainScreen) status() string {
	switch {
	case s.task.running():
		return "Training…"
	case s.w.doc.model != nil && s.w.doc.trained:
		return "Trained"
	case s.w.doc.model != nil:
		return "Opened from a file"
	case s.w.doc.data != nil:
		return "Ready to train"
	}
	return "Needs photos"
}
