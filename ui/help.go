package ui

import (
	"fmt"
	"strings"

	"github.com/clasifica/clasifica/internal/version"
	"github.com/clasifica/clasifica/ui/widgets"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/resources"
)

// showLayoutHelp explains how to arrange photos for training, in the
// words the dataset scanner uses when a folder cannot be used.
func (w *window) showLayoutHelp() {
	help := (&dataset.LayoutError{Root: "x", Found: "x"}).Error()
	if i := strings.Index(help, "\n\n"); i >= 0 {
		help = help[i+2:]
	}
	text := widget.NewLabel(help)
	text.TextStyle.Monospace = true
	scroll := container.NewScroll(text)
	scroll.SetMinSize(fyne.NewSize(620, 360))
	w.showDialog(dialog.NewCustom("How to arrange photos", "Close", scroll, w.win))
}

// showAbout says what Clasifica is and which image model it uses.
func (w *window) showAbout() {
	logo := widget.NewIcon(resources.Logo)
	name := widgets.Bold("Clasifica " + version.Get())
	what := widgets.Wrapped("Clasifica teaches your computer to sort photos. It learns from examples you sort into folders, " +
		"on top of InceptionV3, an image model that already knows shapes and objects.")
	engine := widgets.Caption("")
	if b := w.engine.backbone; b != nil {
		engine.SetText(fmt.Sprintf("Image model: %s · runs on %s", b.Name, deviceName(w.engine.device)))
	}
	engine.Wrapping = fyne.TextWrapWord
	content := container.New(widgets.FixedWidth{Width: 420},
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(72), logo)), name, what, engine)
	w.showDialog(dialog.NewCustom("About Clasifica", "Close", content, w.win))
}
