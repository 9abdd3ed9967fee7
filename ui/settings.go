package ui

import (
	"fmt"
	"runtime"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// Preference keys under which versions of Clasifica before the settings
// file kept the settings in Fyne's preferences. They are read once, when
// the settings file does not exist yet (see oldSettings), and never
// written: Fyne writes its preferences file in place, and a kill during a
// save lost every setting.
const (
	prefBackbone      = "backbone"
	prefRuntime       = "runtime"
	prefProvider      = "provider"
	prefThreads       = "threads"
	prefLowPower      = "lowPowerGPU"
	prefRecentFolders = "recentFolders"
	prefRecentModels  = "recentModels"
	prefAppearance    = "appearance"
	prefPrecision     = "precision"
)

// oldSettings returns the settings as Fyne's preferences kept them, for
// the migration to the settings file.
func oldSettings(p fyne.Preferences) app.Settings {
	return app.Settings{
		Backbone:      p.String(prefBackbone),
		Runtime:       p.String(prefRuntime),
		Provider:      p.StringWithFallback(prefProvider, string(onnxrt.Auto)),
		Threads:       p.Int(prefThreads),
		LowPower:      p.Bool(prefLowPower),
		Precision:     p.StringWithFallback(prefPrecision, string(app.PrecisionAuto)),
		Appearance:    p.StringWithFallback(prefAppearance, appearanceSystem),
		RecentFolders: p.StringList(prefRecentFolders),
		RecentModels:  p.StringList(prefRecentModels),
	}
}

// loadSettings reads the settings through the core, taking them from
// Fyne's preferences the first time; an appearance not chosen is the
// system's. The error is the settings file's (see app.LoadSettings).
func loadSettings(fa fyne.App, core *app.App) (app.Settings, error) {
	s, err := core.LoadSettings(func() app.Settings { return oldSettings(fa.Preferences()) })
	if s.Appearance == "" {
		s.Appearance = appearanceSystem
	}
	return s, err
}

// saveSettings saves the window's settings and appearance. The recent
// lists are not written here but by rememberFolder and rememberModel:
// another window of Clasifica shares the settings file, and writing this
// window's copy of the lists would drop what the other added; the lists
// the file has come back into the window.
func (w *window) saveSettings() {
	s, err := w.core.SaveChoices(w.settings)
	w.savedSettings(s, err)
}

// savedSettings takes the recent lists of the settings just saved, or
// shows why they could not be saved (once per window: every open folder
// would show it again).
func (w *window) savedSettings(s app.Settings, err error) {
	if err != nil {
		if !w.settingsFailed {
			w.settingsFailed = true
			w.showError("The settings could not be saved", err)
		}
		return
	}
	w.settings.RecentFolders, w.settings.RecentModels = s.RecentFolders, s.RecentModels
}

// providerChoices are the devices offered in Settings, in words:
// Automatic, the CPU, then the accelerators this system's ONNX Runtime
// builds may have, in the order Automatic tries them.
var providerChoices = choicesFor(runtime.GOOS)

func choicesFor(goos string) []choice[onnxrt.Provider] {
	labels := map[onnxrt.Provider]string{
		onnxrt.CUDA:     "NVIDIA graphics card (CUDA)",
		onnxrt.DirectML: "Graphics card on Windows (DirectML)",
		onnxrt.CoreML:   "Apple Neural Engine and GPU (Core ML)",
		onnxrt.WebGPU:   "Graphics card through WebGPU",
	}
	out := []choice[onnxrt.Provider]{{onnxrt.Auto, "Automatic (the fastest kind that works here)"}, {onnxrt.CPU, "Processor (CPU) only"}}
	for _, p := range onnxrt.AutoOrder(goos) {
		if p != onnxrt.CPU {
			out = append(out, choice[onnxrt.Provider]{p, labels[p]})
		}
	}
	return out
}

var threadChoices = []string{"Automatic", "1", "2", "4", "8", "16"}

var appearanceChoices = []choice[string]{
	{appearanceSystem, "Follow the system"},
	{appearanceLight, "Light"},
	{appearanceDark, "Dark"},
}

// settingsForm is the Settings dialog's content, kept apart from the
// dialog so that tests can fill it in.
type settingsForm struct {
	backbone   *widget.Select
	backbones  []app.Installed
	provider   *widget.Select
	providers  *providerPanel
	lowPower   *widget.Check
	threads    *widget.Select
	runtime    *widget.Entry
	appearance *widget.Select
	precision  *precisionRow
	items      []*widget.FormItem
}

func (w *window) newSettingsForm() *settingsForm {
	f := &settingsForm{}
	f.backbones, _ = w.core.Backbones.List()
	var names []string
	for _, in := range f.backbones {
		names = append(names, backboneLabel(in))
	}
	f.backbone = widget.NewSelect(names, nil)
	f.backbone.PlaceHolder = "None installed"
	if in, err := w.core.Backbones.Default(w.settings.Backbone); err == nil {
		f.backbone.SetSelected(backboneLabel(in))
	}
	// Both continue on the Train screen, which shows their progress.
	download := widget.NewButtonWithIcon("Download ImageNet", theme.DownloadIcon(), func() {
		w.dialog.Hide()
		w.train.backbone.download()
	})
	importB := widget.NewButtonWithIcon("Import weights…", theme.FolderOpenIcon(), func() {
		w.dialog.Hide()
		w.show(stepTrain)
		w.train.backbone.importWeights()
	})

	f.provider = newChoiceSelect(providerChoices, onnxrt.Provider(w.settings.Provider))
	f.providers = newProviderPanel(w, f)
	f.lowPower = widget.NewCheck("Prefer the power-saving graphics card (WebGPU, on laptops with two)", nil)
	f.lowPower.SetChecked(w.settings.LowPower)
	f.threads = widget.NewSelect(threadChoices, nil)
	f.threads.SetSelected(threadChoices[0])
	if w.settings.Threads > 0 {
		f.threads.SetSelected(strconv.Itoa(w.settings.Threads))
	}
	f.runtime = widget.NewEntry()
	f.runtime.SetText(w.settings.Runtime)
	f.runtime.SetPlaceHolder("Found automatically")
	browse := widget.NewButton("Browse…", func() {
		w.openFile("Choose the ONNX Runtime library", nil, func(path string) { f.runtime.SetText(path) })
	})
	f.appearance = newChoiceSelect(appearanceChoices, w.settings.Appearance)
	f.precision = newPrecisionRow(w)

	f.items = []*widget.FormItem{
		{Text: "Image model", Widget: container.NewVBox(f.backbone, container.NewHBox(download, importB)),
			HintText: "The InceptionV3 network that looks at the photos; Clasifica learns on top of it."},
		{Text: "Run on", Widget: container.NewVBox(f.provider, f.providers.content, f.lowPower)},
		{Text: "Threads", Widget: f.threads, HintText: "Processor threads for the image model."},
		{Text: "Precision", Widget: f.precision.content},
		{Text: "ONNX Runtime", Widget: container.NewBorder(nil, nil, nil, browse, f.runtime),
			HintText: "The library that runs the image model. A change applies after restarting Clasifica."},
		{Text: "Appearance", Widget: f.appearance},
	}
	return f
}

// apply stores the form's choices in the window's settings.
func (f *settingsForm) apply(w *window) {
	s := w.settings
	if i := f.backbone.SelectedIndex(); i >= 0 && i < len(f.backbones) {
		s.Backbone = f.backbones[i].ID
	}
	s.Provider = string(chosenValue(f.provider, providerChoices, onnxrt.Provider(s.Provider)))
	s.Threads, _ = strconv.Atoi(f.threads.Selected)
	s.LowPower = f.lowPower.Checked
	s.Runtime = f.runtime.Text
	s.Precision = string(f.precision.selected())
	s.Appearance = chosenValue(f.appearance, appearanceChoices, w.settings.Appearance)
	w.setSettings(s)
}

// showSettings opens the Settings dialog.
func (w *window) showSettings() {
	f := w.newSettingsForm()
	// The form scrolls: with the list of devices it is taller than a
	// 1024×600 screen, and a dialog cannot be taller than the window.
	scroll := container.NewVScroll(widget.NewForm(f.items...))
	scroll.SetMinSize(fyne.NewSize(620, 360))
	d := dialog.NewCustomConfirm("Settings", "Save", "Cancel", scroll, func(ok bool) {
		f.providers.task.stop()
		f.precision.close()
		if ok {
			f.apply(w)
		}
	}, w.win)
	// The 8-bit check goes on when Settings close: it is the window's.
	d.SetOnClosed(func() { f.providers.task.stop(); f.precision.close() })
	d.Resize(dialogSize(w.win, fyne.NewSize(760, 620)))
	w.showDialog(d)
	w.settingsForm = f
}

// setSettings changes and saves the settings; the engine is opened again
// with them on next use.
func (w *window) setSettings(s app.Settings) {
	changedEngine := s.Backbone != w.settings.Backbone || s.Provider != w.settings.Provider ||
		s.Threads != w.settings.Threads || s.Runtime != w.settings.Runtime || s.LowPower != w.settings.LowPower ||
		s.Precision != w.settings.Precision
	if s.Appearance != w.settings.Appearance {
		w.fa.Settings().SetTheme(newTheme(s.Appearance))
	}
	w.settings = s
	w.saveSettings()
	if changedEngine {
		w.prepareEngine()
		if !w.precisionCheck.task.running() {
			w.loadPrecisionCheck()
		}
	}
	w.refreshMenu()
}

// backboneLabel names an installed backbone in lists.
func backboneLabel(in app.Installed) string {
	if in.Offline() {
		return fmt.Sprintf("%s (for tests, not ImageNet)", shortName(in.Name))
	}
	return in.Name
}

// dialogSize returns want, made smaller where the window is: a dialog
// larger than its window is cut off at the screen's edge.
func dialogSize(win fyne.Window, want fyne.Size) fyne.Size {
	room := win.Canvas().Size().Subtract(fyne.NewSquareSize(4 * theme.Padding()))
	if room.Width <= 0 || room.Height <= 0 {
		return want
	}
	return want.Min(room)
}
