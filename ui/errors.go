package ui

import (
	"errors"
	"strings"

	"github.com/clasifica/clasifica/ui/widgets"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/model"
)

// explained is an error put into words for someone who is not a
// programmer: what happened, what to do about it, and the full message
// for a bug report or a search.
type explained struct {
	what, todo, details string
}

// explain turns err into words. Go errors read like "open x: y: z"; the
// first line of the app core's messages is written for people already,
// and the known kinds get a sentence on what to do.
func explain(err error) explained {
	e := explained{what: app.PlainError(err), details: err.Error()}
	var missing *app.RuntimeMissingError
	var layout *dataset.LayoutError
	var offline *app.OfflineError
	var newer *model.NewerError
	var settings *app.SettingsError
	switch {
	case errors.As(err, &missing):
		e.what = "Clasifica cannot find ONNX Runtime, the library that runs its image model."
		e.todo = "Install it as the details below say, or choose the library file in Model ▸ Settings."
	case errors.As(err, &layout):
		e.what = "Clasifica cannot tell what the photos in this folder show: " + layout.Found + "."
		e.todo = "Put the photos of each kind in a folder named after that kind, put those folders in one main folder, and choose the main folder."
	case errors.As(err, &offline):
		e.what = "The image model could not be downloaded: this computer seems to be offline."
		e.todo = "Connect to the internet and try again, or download the file on another computer and use Import weights…"
	case errors.As(err, &newer):
		e.what = "This model was made by a newer version of Clasifica."
		e.todo = "Update Clasifica to open it."
	case errors.As(err, &settings) && settings.Kept != "":
		e.what = "Your settings file could not be read (" + settings.Err.Error() + "), so Clasifica starts with the default settings."
		e.todo = "Nothing in it is lost: it was kept as " + settings.Kept + ". Choose your settings again in Model ▸ Settings."
	case errors.Is(err, app.ErrBusy):
		e.what = "Another Clasifica (a second window, or the command line) is changing the same files and has not finished, so nothing was changed here."
		e.todo = "Let it finish, or close it, then try again. The details name the program that holds them."
	case errors.Is(err, app.ErrNoBackbone):
		e.what = "No image model is installed yet."
		e.todo = "Download the ImageNet InceptionV3 model on the Train screen (about 92 MB, once), or import a copy of it."
	}
	if e.details == e.what {
		e.details = ""
	}
	return e
}

// showError explains err in a dialog titled title. Cancellations are not
// errors and show nothing.
func (w *window) showError(title string, err error) {
	if err == nil || app.IsCancel(err) {
		return
	}
	e := explain(err)
	msg := widgets.Wrapped(e.what)
	msg.TextStyle.Bold = true
	parts := []fyne.CanvasObject{msg}
	if e.todo != "" {
		parts = append(parts, widgets.Wrapped(e.todo))
	}
	var buttons []fyne.CanvasObject
	if e.details != "" {
		details := widget.NewLabel(e.details)
		details.Wrapping = fyne.TextWrapBreak
		details.TextStyle.Monospace = true
		details.Selectable = true
		parts = append(parts, widget.NewAccordion(widget.NewAccordionItem("Details", details)))
		buttons = append(buttons, widget.NewButtonWithIcon("Copy details", theme.ContentCopyIcon(), func() {
			w.fa.Clipboard().SetContent(title + "\n" + e.what + "\n\n" + e.details)
		}))
	}
	content := container.New(widgets.FixedWidth{Width: 520}, parts...)
	d := dialog.NewCustom(title, "OK", content, w.win)
	if len(buttons) > 0 {
		ok := widget.NewButton("OK", d.Hide)
		ok.Importance = widget.HighImportance
		d.SetButtons(append(buttons, ok))
	}
	d.SetIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))
	w.lastError = strings.TrimSpace(e.what + " " + e.todo)
	w.showDialog(d)
}

// showDialog shows d and keeps it for tests, which look at what the
// window asked.
func (w *window) showDialog(d dialog.Dialog) {
	w.dialog = d
	d.Show()
}
