package ui

import (
	"fmt"

	"github.com/clasifica/clasifica/ui/widgets"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/resources"
)

// Thumbnails are made at this size: large enough for the gallery cards on
// a high-density screen, small enough to keep a few hundred in memory.
const (
	thumbSide   = 256
	thumbBudget = 96 << 20
)

// window is Clasifica's one window: a sidebar with the four steps and the
// screen of the current step. It owns the document and the background
// jobs, and is the only place that switches screens.
type window struct {
	fa      fyne.App
	win     fyne.Window
	core    *app.App
	engines *app.Engines
	// explainers holds the heatmaps' explainer (ui/explain.go);
	// corrections counts the photos added to the training photos since
	// the last training, relabelled those relabelled or moved in it
	// (ui/correct.go).
	explainers  explainers
	corrections int
	relabelled  int
	thumbs      thumbnails
	jobs        jobs
	pick        pickers

	settings app.Settings
	doc      document

	data     *dataScreen
	train    *trainScreen
	results  *resultsScreen
	classify *classifyScreen

	steps   [numSteps]*widgets.StepButton
	screens [numSteps]fyne.CanvasObject
	body    *fyne.Container
	current step
	model   *widgets.Subtle // the model's name under the app's name

	// engine is what the sidebar and the Train screen say about the
	// image model: installed backbone, device, or what is missing.
	// engineTask is the job that finds it out (prepareEngine).
	engine     engineState
	engineTask task
	// precisionCheck is the 8-bit check, run in the background once
	// the window shows (shown) where auto waits for one (ui/precision.go).
	precisionCheck precisionCheck
	shown          bool

	// dialog and lastError are the last dialog shown and the last error
	// explained, for tests.
	dialog       dialog.Dialog
	lastError    string
	lastInfo     string
	settingsForm *settingsForm
	// settingsFailed is set once an error saving the settings was shown.
	settingsFailed bool
	// nvidiaGPUs names the NVIDIA cards present, for Settings' CUDA
	// advice (onnxrt.NVIDIAGPUs; tests name a card).
	nvidiaGPUs func() []string
	// closed is called when the window has closed (tests replace it).
	closed  func()
	closing bool
}

// newWindow builds the window over the application core. It shows nothing
// until Show; the image model is prepared in the background.
func newWindow(fa fyne.App, core *app.App) *window {
	w := &window{
		fa:         fa,
		core:       core,
		nvidiaGPUs: app.NVIDIAGPUs,
		engines:    app.NewEngines(core),
		thumbs:     thumbnails{app.NewThumbnails(thumbSide, thumbBudget, 2)},
		doc:        newDocument(),

		precisionCheck: newPrecisionCheck(),
	}
	var serr error
	w.settings, serr = loadSettings(fa, core)
	fa.Settings().SetTheme(newTheme(w.settings.Appearance))
	w.win = fa.NewWindow("Clasifica")
	w.win.SetIcon(resources.Icon)
	w.closed = func() {}
	w.pick = w.dialogPickers()

	w.data = newDataScreen(w)
	w.train = newTrainScreen(w)
	w.results = newResultsScreen(w)
	w.classify = newClassifyScreen(w)
	w.screens = [numSteps]fyne.CanvasObject{w.data.content, w.train.content, w.results.content, w.classify.content}

	w.win.SetContent(w.layout())
	w.win.SetMainMenu(w.mainMenu())
	w.addShortcuts()
	w.win.SetOnDropped(w.dropped)
	w.win.SetCloseIntercept(w.requestClose)
	w.win.Resize(startSize)
	w.show(stepData)
	w.data.refresh()
	w.train.refresh()
	w.results.refresh()
	w.classify.refresh()
	w.refresh()
	w.prepareEngine()
	w.loadPrecisionCheck()
	if serr != nil {
		w.showError("Your settings could not be read", serr)
	}
	return w
}

// layout puts the sidebar beside the current screen.
func (w *window) layout() fyne.CanvasObject {
	for i := range w.steps {
		s := step(i)
		w.steps[i] = widgets.NewStepButton(i+1, stepTitles[i], func() { w.show(s) })
	}
	logo := canvas.NewImageFromResource(resources.Icon)
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSize(36, 36))
	name := widget.NewLabelWithStyle("Clasifica", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.SizeName = theme.SizeNameSubHeadingText
	w.model = widgets.Caption("")
	w.model.Truncation = fyne.TextTruncateEllipsis
	brand := container.NewBorder(nil, nil, container.NewCenter(logo), nil,
		container.New(widgets.TightVBox{Gap: -2 * theme.Padding()}, name, w.model))

	settings := widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), w.showSettings)
	settings.Importance = widget.LowImportance
	settings.Alignment = widget.ButtonAlignLeading

	list := container.NewVBox(brand, widgets.Spacer(theme.Padding()*2))
	for _, b := range w.steps {
		list.Add(b)
	}
	side := container.NewBorder(list, container.NewVBox(w.train.engineCard(), settings), nil, nil)
	sideBG := &widgets.Panel{Content: side, Tone: theme.ColorNameMenuBackground, Pad: 3}
	sideBG.ExtendBaseWidget(sideBG)

	// Each screen scrolls vertically when the window is shorter than it
	// (a 1024×600 laptop with Advanced settings open): the scroll gives a
	// screen the whole height whenever it fits, so lists and charts still
	// fill the window. Nothing scrolls sideways: screens wrap their text.
	w.body = container.NewStack()
	for _, s := range w.screens {
		w.body.Add(container.NewVScroll(container.NewPadded(container.NewPadded(s))))
	}
	return container.NewBorder(nil, nil, container.NewHBox(sideBG, widget.NewSeparator()), nil, w.body)
}

// Show opens the window (tests; Run shows it as the app starts).
func (w *window) Show() {
	w.win.Show()
	w.started()
}

// started is called once the window shows: the 8-bit check starts then,
// if the image model waits for one.
func (w *window) started() {
	w.shown = true
	w.maybeCheckPrecision()
}

// show switches to a step's screen.
func (w *window) show(s step) {
	w.current = s
	for i, o := range w.body.Objects {
		if step(i) == s {
			o.Show()
		} else {
			o.Hide()
		}
	}
	for i, b := range w.steps {
		b.SetSelected(step(i) == s)
	}
	w.body.Refresh()
}

// refresh brings the title, sidebar and menu up to date with the document.
func (w *window) refresh() {
	w.updateTitle()
	w.refreshSteps()
	w.refreshMenu()
}

// refreshSteps updates the status lines of the sidebar.
func (w *window) refreshSteps() {
	w.steps[stepData].SetStatus(w.data.status())
	w.steps[stepTrain].SetStatus(w.train.status())
	w.steps[stepResults].SetStatus(w.results.status())
	w.steps[stepClassify].SetStatus(w.classify.status())
}

// title returns the window title: the model's name, marked when it has
// changes that are not saved.
func (w *window) title() string {
	d := &w.doc
	if d.model == nil && d.data == nil {
		return "Clasifica"
	}
	mark := ""
	if d.dirty {
		mark = " •"
	}
	return fmt.Sprintf("%s%s — Clasifica", d.name(), mark)
}

func (w *window) updateTitle() {
	w.win.SetTitle(w.title())
	switch {
	case w.doc.model == nil:
		w.model.SetText("No model yet")
	case w.doc.dirty:
		w.model.SetText(w.doc.name() + " (not saved)")
	default:
		w.model.SetText(w.doc.name())
	}
}

// busy reports whether a job that changes the model is running.
func (w *window) busy() bool { return w.train != nil && w.train.task.running() }

// requestClose closes the window, first asking about a running training
// and unsaved changes.
func (w *window) requestClose() {
	if w.busy() {
		w.confirm("Stop training?", "Training is still running. Stop it and quit?", "Stop and Quit", func() {
			w.train.cancel()
			w.requestClose()
		})
		return
	}
	w.whenSaved("Quit", w.close)
}

// whenSaved runs then once the user has saved the model or chosen not to;
// verb names what happens next ("Quit", "Open", "New").
func (w *window) whenSaved(verb string, then func()) {
	if !w.doc.dirty || w.doc.model == nil {
		then()
		return
	}
	msg := widgets.Wrapped(fmt.Sprintf("The model “%s” has changes that are not saved. Save them first?", w.doc.name()))
	content := container.New(widgets.FixedWidth{Width: 420}, msg, widgets.Caption("If you don't save, the training is lost."))
	d := dialog.NewCustomWithoutButtons("Save the model?", content, w.win)
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() {
		d.Hide()
		w.save(then)
	})
	save.Importance = widget.HighImportance
	discard := widget.NewButton("Don't Save", func() {
		d.Hide()
		then()
	})
	cancel := widget.NewButton("Cancel", d.Hide)
	d.SetButtons([]fyne.CanvasObject{discard, cancel, save})
	w.showDialog(d)
}

// confirm asks a yes-or-no question; yes runs on confirmation.
func (w *window) confirm(title, message, yesLabel string, yes func()) {
	d := dialog.NewConfirm(title, message, func(ok bool) {
		if ok {
			yes()
		}
	}, w.win)
	d.SetConfirmText(yesLabel)
	d.SetDismissText("Cancel")
	w.showDialog(d)
}

// inform shows a short message.
func (w *window) inform(title, message string) {
	w.lastInfo = message
	content := container.New(widgets.FixedWidth{Width: 420}, widgets.Wrapped(message))
	w.showDialog(dialog.NewCustom(title, "OK", content, w.win))
}

// close stops every job and closes the window, once.
func (w *window) close() {
	if w.closing {
		return
	}
	w.closing = true
	w.stopJobs()
	w.win.SetCloseIntercept(nil)
	w.win.Close()
	w.closed()
}

// stopJobs cancels every job the window runs. It runs on the UI
// goroutine, or after the window's event loop has ended.
func (w *window) stopJobs() {
	w.data.task.stop()
	w.train.cancel()
	w.results.task.stop()
	w.classify.task.stop()
	w.train.backbone.task.stop()
	w.engineTask.stop()
	w.precisionCheck.task.stop()
}

// shutdown stops the jobs, waits for them to end and releases the
// engines. Run calls it once the window has closed, which it may have
// without close: the app quits on SIGTERM or at the end of the session,
// and the 8-bit check running in the background kept the process alive
// until it finished (half a minute or more).
func (w *window) shutdown() {
	w.stopJobs() // the event loop has ended: nothing else touches the tasks
	w.jobs.wait()
	w.explainers.close()
	_ = w.engines.Close()
}

// rememberFolder adds a folder to the recent folders.
func (w *window) rememberFolder(dir string) {
	// Shown now even if it cannot be saved.
	w.settings.RecentFolders = app.AddRecent(w.settings.RecentFolders, dir)
	w.savedSettings(w.core.AddRecentFolder(dir))
	w.refreshMenu()
}

// rememberModel adds a model file to the recent models.
func (w *window) rememberModel(path string) {
	w.settings.RecentModels = app.AddRecent(w.settings.RecentModels, path)
	w.savedSettings(w.core.AddRecentModel(path))
	w.refreshMenu()
}
