package ui

import (
	"fmt"
	"path/filepath"

	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
)

// previewSide is the size photos are shown at when opened large.
const previewSide = 1024

// photoDetail is what the large view of a photo shows.
type photoDetail struct {
	path string
	// truth is the photo's real kind, when known (results).
	truth string
	top   []app.Scored
	err   error
	// unsure: the model is less confident than its threshold.
	unsure bool
	// stranger: the photo is far from every kind the model knows.
	stranger bool
}

// showPhoto opens a photo large with its top three labels.
func (w *window) showPhoto(p photoDetail) {
	img := canvas.NewImageFromImage(nil)
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScaleSmooth
	// Small enough for the dialog to fit a 1024×600 screen.
	img.SetMinSize(fyne.NewSize(360, 360))
	loading := widget.NewActivity()
	loading.Start()
	// The heatmap lies on the photo in the same cell, with the same
	// aspect, so that the two line up; hidden until asked for.
	heat := canvas.NewImageFromImage(nil)
	heat.FillMode = canvas.ImageFillContain
	heat.ScaleMode = canvas.ImageScaleSmooth
	heat.Hide()
	photo := container.NewStack(container.NewCenter(loading), container.NewCenter(container.NewStack(img, heat)))

	info := container.NewVBox()
	name := widgets.Bold(filepath.Base(p.path))
	name.Wrapping = fyne.TextWrapBreak
	folder := widgets.Caption(displayPath(filepath.Dir(p.path)))
	folder.Wrapping = fyne.TextWrapBreak
	info.Add(name)
	info.Add(folder)
	switch {
	case p.err != nil:
		info.Add(widgets.NewNotice(theme.ColorNameError, "This photo could not be read: "+explain(p.err).what))
	case p.truth != "" && len(p.top) > 0 && p.top[0].Label == p.truth:
		info.Add(widgets.NewNotice(theme.ColorNameSuccess, fmt.Sprintf("Right: it is %s.", p.truth)))
	case p.truth != "":
		info.Add(widgets.NewNotice(theme.ColorNameError, fmt.Sprintf("Wrong: it is really %s.", p.truth)))
	case p.stranger && len(p.top) > 0:
		info.Add(widgets.NewNotice(theme.ColorNameWarning, "Not one of its kinds: unlike all the photos the model learnt from, so the guesses below mean little."))
	case p.unsure && len(p.top) > 0:
		info.Add(widgets.NewNotice(theme.ColorNameWarning, fmt.Sprintf("Not sure: the model's best guess, %s, is below the confidence at which it answers.", p.top[0].Label)))
	}
	if len(p.top) > 0 {
		info.Add(widgets.Spacer(theme.Padding()))
		info.Add(widgets.Bold("Most likely"))
	}
	for i, s := range p.top {
		if i == 3 {
			break
		}
		bar := widgets.NewConfidenceBar()
		tone := fyne.ThemeColorName(theme.ColorNamePlaceHolder)
		if i == 0 {
			tone = theme.ColorNamePrimary
		}
		bar.Set(s.Probability, tone)
		label := widget.NewLabel(fmt.Sprintf("%d. %s", i+1, s.Label))
		label.Truncation = fyne.TextTruncateEllipsis
		if i == 0 {
			label.TextStyle.Bold = true
		}
		value := widget.NewLabel(words.Percent1(s.Probability))
		info.Add(container.New(widgets.TightVBox{Gap: -theme.Padding()}, container.NewBorder(nil, nil, nil, value, label), bar))
	}
	if p.err == nil && len(p.top) > 0 && w.doc.model != nil {
		info.Add(widgets.Spacer(theme.Padding()))
		info.Add(w.lookedAt(p.path, img, heat))
	}
	if t := w.teach(p); t != nil {
		info.Add(widgets.Spacer(theme.Padding()))
		info.Add(t)
	}
	side := container.New(widgets.FixedWidth{Width: 260}, info.Objects...)
	// On a small screen the side scrolls (the teaching part makes it
	// taller than the photo).
	content := container.NewBorder(nil, nil, nil, container.NewVScroll(container.NewPadded(side)), photo)
	title := "Photo"
	if p.truth != "" {
		title = "Test photo"
	}
	d := dialog.NewCustom(title, "Close", content, w.win)
	d.Resize(dialogSize(w.win, fyne.NewSize(940, 600)))
	w.showDialog(d)

	w.jobs.start(func() {
		m, err := app.Preview(p.path, previewSide)
		fyne.Do(func() {
			loading.Stop()
			loading.Hide()
			if err != nil {
				img.Resource = theme.BrokenImageIcon()
			} else {
				img.Image = m
				// Small photos are enlarged at most three times: more
				// only shows the blur.
				b := m.Bounds()
				side := min(float32(max(b.Dx(), b.Dy())*3), 360)
				img.SetMinSize(fyne.NewSquareSize(side))
			}
			img.Refresh()
		})
	})
}
