package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/clasifica/clasifica/internal/bytesize"
	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/backbone"
	"github.com/clasifica/clasifica/ml/onnxrt"
)

// engineState is what the window knows about the image model: which
// backbone is installed, where it runs, or why it cannot run.
type engineState struct {
	preparing bool
	backbone  *app.Installed // nil when none is installed
	device    string         // what really runs: "CPU", "CUDA (NVIDIA …)", …; empty until opened
	runsOn    app.RunsOn     // the same, in full: what was asked, what was skipped and why
	fallback  error          // why no accelerator is used, if one was asked for
	err       error          // why the engine cannot open
	// precision is the image model's arithmetic, and precisionReason
	// why; empty until opened.
	precision       app.Precision
	precisionReason string
}

// prepareEngine finds the backbone and opens its engine in the
// background, so that the device is known and the first training does not
// wait for it. A newer call (the settings changed again) cancels this
// one's job, and a superseded job's result is dropped: what the window
// shows is always the engine of the latest settings.
func (w *window) prepareEngine() {
	w.engine.preparing = true
	w.engine.err = nil
	w.train.refreshEngine()
	opt := w.settings.EngineOptions()
	ctx, id := w.engineTask.begin()
	w.jobs.start(func() {
		var st engineState
		in, err := w.core.Backbones.Default(opt.Backbone)
		if err == nil {
			st.backbone = &in
			var eng *app.Engine
			var release func()
			eng, release, err = w.engines.Open(ctx, opt)
			if err == nil {
				st.device = eng.Device()
				st.runsOn = eng.RunsOn()
				st.fallback = eng.Session.FallbackReason()
				st.precision, st.precisionReason = eng.Precision, eng.PrecisionReason
			}
			// The engine stays open for the next job while the settings
			// stay as they are.
			release()
		}
		st.err = err
		fyne.Do(func() {
			if !w.engineTask.done(id) {
				return
			}
			w.engine = st
			w.train.refreshEngine()
			w.train.refresh()
			if w.settingsForm != nil {
				w.settingsForm.precision.showInUse()
			}
			w.maybeCheckPrecision()
		})
	})
}

// engineCard is the sidebar's note on the image model and the device.
type engineCard struct {
	icon        *widget.Icon
	name, where *widgets.Subtle
	content     fyne.CanvasObject
}

func newEngineCard() *engineCard {
	c := &engineCard{icon: widget.NewIcon(theme.ComputerIcon()), name: widgets.Caption(""), where: widgets.Caption("")}
	c.name.Truncation = fyne.TextTruncateEllipsis
	c.where.Truncation = fyne.TextTruncateEllipsis
	c.content = container.NewBorder(nil, nil, container.NewCenter(c.icon), nil,
		container.New(widgets.TightVBox{Gap: -theme.Padding()}, c.name, c.where))
	return c
}

// set shows the engine state.
func (c *engineCard) set(st engineState) {
	switch {
	case st.backbone == nil && st.preparing:
		c.name.SetText("Image model")
		c.where.SetText("Looking for it…")
	case st.backbone == nil:
		c.icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		c.name.SetText("No image model yet")
		c.where.SetText("Download it on Train")
		return
	case st.backbone.Offline():
		c.name.SetText("Test image model")
	case st.backbone.ID == backbone.ImageNetID:
		c.name.SetText("InceptionV3 · ImageNet")
	default:
		// A user's own weights are never called ImageNet.
		c.name.SetText(shortName(st.backbone.Name))
	}
	switch {
	case st.err != nil:
		c.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		c.where.SetText("Cannot run: see Train")
	case st.device == "":
		c.icon.SetResource(theme.ComputerIcon())
		c.where.SetText("Starting…")
	default:
		c.icon.SetResource(theme.ComputerIcon())
		if fellBack(st) {
			c.icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		}
		c.where.SetText(runsOnLine(st))
	}
}

// deviceName says where the model runs, in words.
func deviceName(device string) string {
	switch device {
	case "CPU", "":
		return "the processor (CPU)"
	case "CUDA":
		return "the graphics card (CUDA)"
	}
	return device
}

// backboneSetup is the Train screen's panel about the image model: which
// one is used, and the download or import when none is installed.
type backboneSetup struct {
	w      *window
	task   task
	note   *widgets.Notice
	title  *widget.Label
	bar    *widget.ProgressBar
	detail *widgets.Subtle
	cancel *widget.Button
	box    *fyne.Container
	// failed is the last download or import error, shown in the panel.
	failed error
}

func newBackboneSetup(w *window) *backboneSetup {
	b := &backboneSetup{w: w, note: widgets.NewNotice(theme.ColorNamePrimary, ""), title: widgets.Bold(""), bar: widget.NewProgressBar(), detail: widgets.Caption("")}
	b.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { b.task.stop() })
	progress := widgets.NewPanel(container.NewVBox(b.title, b.bar,
		container.NewBorder(nil, nil, nil, b.cancel, b.detail)))
	b.box = container.NewVBox(b.note, progress)
	return b
}

// refresh shows the engine state, or the download in progress.
func (b *backboneSetup) refresh() {
	st := b.w.engine
	progress := b.box.Objects[1]
	if b.task.running() {
		b.note.Hide()
		progress.Show()
		return
	}
	progress.Hide()
	b.note.Show()
	download := widget.NewButtonWithIcon("Download", theme.DownloadIcon(), b.download)
	download.Importance = widget.HighImportance
	importB := widget.NewButtonWithIcon("Import file…", theme.FolderOpenIcon(), b.importWeights)
	var offline *app.OfflineError
	switch {
	case b.failed != nil && errors.As(b.failed, &offline):
		copyLink := widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), func() {
			b.w.fa.Clipboard().SetContent(backbone.ImageNetURL)
		})
		b.note.Set(theme.ColorNameError, fmt.Sprintf("The image model could not be downloaded: this computer seems to be offline. "+
			"Connect and try again, or download %s on another computer (Copy link) and import it here.", backbone.ImageNetFile),
			copyLink, importB, widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), b.download))
	case b.failed != nil:
		e := explain(b.failed)
		b.note.Set(theme.ColorNameError, e.what+" "+e.todo, importB, widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), b.download))
	case st.backbone == nil && st.preparing:
		b.note.Set(theme.ColorNamePrimary, "Looking for the image model…")
	case st.backbone == nil:
		b.note.Set(theme.ColorNameWarning, "Clasifica needs its image model before it can learn: InceptionV3, trained on the "+
			"ImageNet photos (about 92 MB, downloaded once). It already knows shapes, textures and objects; Clasifica "+
			"teaches it your kinds of photo.", importB, download)
	case st.err != nil:
		e := explain(st.err)
		details := widget.NewButton("Details…", func() { b.w.showError("The image model cannot run", st.err) })
		settings := widget.NewButtonWithIcon("Settings…", theme.SettingsIcon(), b.w.showSettings)
		b.note.Set(theme.ColorNameError, e.what+" "+e.todo, details, settings)
	case st.backbone.Offline():
		get := widget.NewButtonWithIcon("Download ImageNet", theme.DownloadIcon(), b.download)
		b.note.Set(theme.ColorNameWarning, fmt.Sprintf("Using the test image model (%s), not the ImageNet one: it was trained for another "+
			"task, so what it sees transfers poorly to your photos and results will be weaker. Fine for trying Clasifica out; "+
			"download the ImageNet model for real use.%s", shortName(st.backbone.Name), b.where()), get)
	default:
		b.note.Set(theme.ColorNameSuccess, fmt.Sprintf("Image model: %s.%s", st.backbone.Name, b.where()))
	}
}

// shortName drops the parenthesised note from a backbone's name
// ("nsfwjs InceptionV3 (offline test backbone)"), which the sentences
// around it already say.
func shortName(name string) string {
	if i := strings.Index(name, " ("); i > 0 {
		return name[:i]
	}
	return name
}

// where says where the model runs, as a sentence to append.
func (b *backboneSetup) where() string {
	st := b.w.engine
	switch {
	case st.device == "" && st.err == nil:
		return " Starting it…"
	case st.device == "":
		return ""
	}
	return fmt.Sprintf(" It runs on %s.", deviceName(st.device)) + fallbackNote(st)
}

// download fetches the ImageNet weights, with progress and a Cancel.
func (b *backboneSetup) download() {
	if b.task.running() {
		return
	}
	ctx, id := b.task.begin()
	b.failed = nil
	b.bar.SetValue(0)
	b.title.SetText("Downloading the image model…")
	b.detail.SetText("Connecting…")
	b.w.show(stepTrain)
	b.refresh()
	b.w.jobs.start(func() {
		_, err := b.w.core.Backbones.DownloadImageNet(ctx, b.w.core.Dirs.Downloads(), nil, func(d app.Download) {
			fyne.Do(func() {
				if !b.task.current(id) {
					return
				}
				if d.Total > 0 {
					b.bar.SetValue(float64(d.Done) / float64(d.Total))
				}
				text := fmt.Sprintf("%s of %s · %s/s", bytesize.Format(int64(d.Done)), bytesize.Format(int64(d.Total)), bytesize.Format(int64(d.Rate())))
				if left := words.RoughDuration(d.Remaining()); left != "" {
					text += " · " + left + " left"
				}
				b.detail.SetText(text)
			})
		})
		fyne.Do(func() {
			if !b.task.done(id) {
				return
			}
			if err != nil && !app.IsCancel(err) {
				b.failed = err
			}
			if err == nil {
				b.w.settings.Backbone = backbone.ImageNetID
				b.w.saveSettings()
			}
			b.refresh()
			b.w.prepareEngine()
		})
	})
}

// importWeights installs weights from a file the user has: the Keras .h5
// file, or a TensorFlow.js model.json with its shards.
func (b *backboneSetup) importWeights() {
	b.w.openFile("Choose the InceptionV3 weights (.h5, or a TensorFlow.js model.json)", []string{".h5", ".json"}, func(path string) {
		if filepath.Base(path) == "model.json" {
			path = filepath.Dir(path)
		}
		ctx, id := b.task.begin()
		b.failed = nil
		b.title.SetText("Installing the image model…")
		b.bar.SetValue(0)
		b.detail.SetText("Checking and installing " + filepath.Base(path) + "…")
		b.refresh()
		b.w.jobs.start(func() {
			in, err := b.w.core.Backbones.Import(ctx, path)
			fyne.Do(func() {
				if !b.task.done(id) {
					return
				}
				switch {
				case app.IsCancel(err):
					// Stopped: nothing was installed.
				case err != nil:
					b.failed = err
				default:
					b.w.settings.Backbone = in.ID
					b.w.saveSettings()
				}
				b.refresh()
				b.w.prepareEngine()
			})
		})
	})
}

// runsOnLine is the sidebar's line on where the image model really runs:
// the provider ONNX Runtime uses, not the one asked for, and when a
// provider chosen in Settings could not be used, that too.
func runsOnLine(st engineState) string {
	line := "Runs on " + st.device
	if fellBack(st) {
		line += ", not " + st.runsOn.Requested.String()
	}
	return line
}

// fellBack reports whether the provider chosen in Settings could not run
// the image model, so another one does.
func fellBack(st engineState) bool {
	r := st.runsOn
	return r.Requested != "" && r.Requested != onnxrt.Auto && r.Requested != r.Provider
}

// fallbackNote explains, as a sentence to append, why the provider chosen
// in Settings is not the one running; empty when it is.
func fallbackNote(st engineState) string {
	if !fellBack(st) {
		return ""
	}
	for _, s := range st.runsOn.Skipped {
		if s.Provider == st.runsOn.Requested {
			return fmt.Sprintf(" %s, chosen in Settings, cannot run here: %s.", s.Name, strings.TrimSuffix(s.Reason, "."))
		}
	}
	return ""
}
