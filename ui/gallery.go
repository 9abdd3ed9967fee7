package ui

import (
	"fmt"
	"path/filepath"

	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
)

// segmented is a row of buttons of which one is chosen, like a segmented
// control: the chosen one is drawn prominent.
type segmented struct {
	buttons  []*widget.Button
	selected int
	onChange func(int)
	box      *fyne.Container
}

func newSegmented(labels []string, changed func(int)) *segmented {
	s := &segmented{onChange: changed, box: container.NewHBox()}
	for i, l := range labels {
		b := widget.NewButton(l, func() { s.set(i) })
		s.buttons = append(s.buttons, b)
		s.box.Add(b)
	}
	s.paint()
	return s
}

// set chooses button i.
func (s *segmented) set(i int) {
	if i == s.selected {
		return
	}
	s.selected = i
	s.paint()
	if s.onChange != nil {
		s.onChange(i)
	}
}

// setLabel renames button i.
func (s *segmented) setLabel(i int, label string) { s.buttons[i].SetText(label) }

func (s *segmented) paint() {
	for i, b := range s.buttons {
		if i == s.selected {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.MediumImportance
		}
		b.Refresh()
	}
}

// gallery shows the evaluated photos as cards: the predicted label, the
// confidence, and whether it was right. It filters to the mistakes, or
// to one cell of the confusion matrix.
type gallery struct {
	w     *window
	items []app.Reviewed
	shown []int
	// mistakes shows only the wrong answers; truth and pred, when not
	// empty, show only the photos of one confusion cell.
	mistakes    bool
	truth, pred string

	grid     *widget.GridWrap
	filter   *segmented
	pair     *widgets.Notice
	none     fyne.CanvasObject
	content  fyne.CanvasObject
	countAll int
}

func newGallery(w *window) *gallery {
	g := &gallery{w: w}
	g.filter = newSegmented([]string{"All photos", "Mistakes"}, func(i int) {
		g.mistakes = i == 1
		g.truth, g.pred = "", ""
		g.apply()
	})
	g.grid = widget.NewGridWrap(
		func() int { return len(g.shown) },
		func() fyne.CanvasObject { return widgets.NewPhotoCard(w.thumbs) },
		func(id widget.GridWrapItemID, o fyne.CanvasObject) { g.update(id, o.(*widgets.PhotoCard)) },
	)
	g.pair = widgets.NewNotice(theme.ColorNamePrimary, "")
	g.none = widgets.EmptyState(theme.ConfirmIcon(), "No mistakes", "Every photo here was sorted correctly.")
	help := widgets.Caption("Click a photo to see it large with the model's three best guesses.")
	top := container.NewBorder(nil, nil, g.filter.box, nil, help)
	g.content = widgets.VFill([]fyne.CanvasObject{top, g.pair}, container.NewStack(g.grid, g.none))
	g.apply()
	return g
}

// set shows the photos of an evaluation.
func (g *gallery) set(items []app.Reviewed) {
	g.items = items
	g.truth, g.pred = "", ""
	g.apply()
	g.grid.ScrollToTop()
}

// showPair shows only the photos of kind truth predicted as pred.
func (g *gallery) showPair(truth, pred string) {
	g.truth, g.pred = truth, pred
	g.mistakes = false
	g.filter.selected = 0
	g.filter.paint()
	g.apply()
	g.grid.ScrollToTop()
}

// apply filters the photos.
func (g *gallery) apply() {
	g.shown = g.shown[:0]
	wrong := 0
	for i, it := range g.items {
		if !it.Correct {
			wrong++
		}
		switch {
		case g.truth != "" && (it.Truth != g.truth || it.Label() != g.pred):
		case g.mistakes && it.Correct:
		default:
			g.shown = append(g.shown, i)
		}
	}
	g.filter.setLabel(0, fmt.Sprintf("All photos (%d)", len(g.items)))
	g.filter.setLabel(1, fmt.Sprintf("Mistakes (%d)", wrong))
	if g.truth != "" {
		what := fmt.Sprintf("Showing the %s photos called %s (%d).", g.truth, g.pred, len(g.shown))
		if g.truth == g.pred {
			what = fmt.Sprintf("Showing the %s photos recognised as such (%d).", g.truth, len(g.shown))
		}
		g.pair.Set(theme.ColorNamePrimary, what, widget.NewButton("Show all", func() {
			g.truth, g.pred = "", ""
			g.apply()
		}))
		g.pair.Show()
	} else {
		g.pair.Hide()
	}
	if len(g.shown) == 0 && len(g.items) > 0 {
		g.none.Show()
		g.grid.Hide()
	} else {
		g.none.Hide()
		g.grid.Show()
	}
	g.grid.Refresh()
}

// update fills a card.
func (g *gallery) update(id int, c *widgets.PhotoCard) {
	if id >= len(g.shown) {
		return
	}
	it := g.items[g.shown[id]]
	c.Thumb.SetPath(it.Path)
	c.Label.SetText(it.Label())
	c.Value.SetText(words.Percent(it.Confidence()))
	if it.Correct {
		c.Bar.Set(it.Confidence(), theme.ColorNameSuccess)
		c.Sub.SetText(filepath.Base(it.Path))
		c.SetTone(theme.ColorNameSuccess)
	} else {
		c.Bar.Set(it.Confidence(), theme.ColorNameError)
		c.Sub.SetText("Really " + it.Truth)
		c.SetTone(theme.ColorNameError)
	}
	c.OnTapped = func() { g.w.showPhoto(photoDetail{path: it.Path, truth: it.Truth, top: it.Top}) }
}
