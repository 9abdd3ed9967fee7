package ui

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"
)

// compareTitle names Results' tab that compares a retrained model with
// the one before.
const compareTitle = "Before and after"

// comparePanel is Results' "Before and after" tab, shown after a
// retraining: the share of the same test photos sorted right before and
// after, each kind's change, the photos that changed answer (fixed and
// broken, which open large), and the one click that goes back to the
// previous model (and forward again).
type comparePanel struct {
	w       *window
	content fyne.CanvasObject

	headline *widget.Label
	caption  *widget.Label
	// which lists the test photos left out of the comparison, and why.
	which  *widget.Button
	inUse  *widgets.Notice
	swap   *widget.Button
	kinds  *widget.List
	grid   *widget.GridWrap
	photos *widget.Label
	none   fyne.CanvasObject

	cmp *app.Comparison
	// order is the kinds, the most changed first.
	order []app.KindChange
}

func newComparePanel(w *window) *comparePanel {
	p := &comparePanel{w: w}
	p.headline = widget.NewLabel("")
	p.headline.SizeName = sizeNameDisplay
	p.headline.TextStyle.Bold = true
	p.caption = widgets.Wrapped("")
	p.which = widget.NewButton("Which photos?", p.showLeftOut)
	p.which.Hide()
	p.swap = widget.NewButtonWithIcon("", theme.MediaReplayIcon(), w.swapModels)
	p.inUse = widgets.NewNotice(theme.ColorNamePrimary, "", p.swap)

	p.kinds = widget.NewList(
		func() int { return len(p.order) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("")
			name.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, nil, widget.NewLabel(""), name)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(p.order) {
				return
			}
			k := p.order[id]
			row := o.(*fyne.Container)
			name, value := row.Objects[0].(*widget.Label), row.Objects[1].(*widget.Label)
			name.SetText(k.Kind)
			value.SetText(kindChange(k))
			changed := k.Before != k.After
			if name.TextStyle.Bold != changed {
				name.TextStyle.Bold, value.TextStyle.Bold = changed, changed
				name.Refresh()
				value.Refresh()
			}
		})
	legend := widgets.Caption("The share of each kind's photos the model found, before → after.")
	legend.Wrapping = fyne.TextWrapWord
	kindsPanel := widgets.NewPanel(widgets.VFill([]fyne.CanvasObject{widgets.Bold("Kind by kind"), legend}, p.kinds))

	p.grid = widget.NewGridWrap(
		func() int {
			if p.cmp == nil {
				return 0
			}
			return len(p.cmp.Changed)
		},
		func() fyne.CanvasObject { return widgets.NewPhotoCard(w.thumbs) },
		func(id widget.GridWrapItemID, o fyne.CanvasObject) { p.update(id, o.(*widgets.PhotoCard)) },
	)
	p.photos = widgets.Bold("")
	p.photos.Wrapping = fyne.TextWrapWord
	p.none = widgets.EmptyState(theme.InfoIcon(), "No photo changed answer", "Both models give every one of these photos the same answer.")
	photosPanel := widgets.NewPanel(widgets.VFill([]fyne.CanvasObject{p.photos}, container.NewStack(p.grid, p.none)))

	split := container.NewHSplit(kindsPanel, photosPanel)
	split.SetOffset(0.34)
	top := container.NewBorder(nil, nil, p.headline, container.NewCenter(p.which), container.NewVBox(layout.NewSpacer(), p.caption, layout.NewSpacer()))
	p.content = widgets.VFill([]fyne.CanvasObject{top, p.inUse}, split)
	return p
}

// inFolder names a photo by its path in the training folder, where it is
// in it.
func (w *window) inFolder(path string) string {
	if rel, err := filepath.Rel(w.doc.folder, path); w.doc.folder != "" && err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return displayPath(path)
}

// sentence makes a reason (in lower case, for the middle of a line) a
// sentence of its own.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:] + "."
}

// showLeftOut lists the test photos the comparison leaves out, each with
// why it was not a test photo of the previous model.
func (p *comparePanel) showLeftOut() {
	c := p.cmp
	if c == nil || len(c.LeftOutPhotos) == 0 {
		return
	}
	list := container.NewVBox(widgets.Wrapped(fmt.Sprintf("The retrained model was tested on %s that the previous model was not tested on. The previous model may have learnt from them, so the comparison leaves them out:",
		words.Plural(len(c.LeftOutPhotos), "photo", "photos"))))
	for _, l := range c.LeftOutPhotos {
		name := widgets.Bold(p.w.inFolder(l.Path))
		name.Wrapping = fyne.TextWrapBreak
		why := widgets.Caption(sentence(l.Why))
		why.Wrapping = fyne.TextWrapWord
		list.Add(container.New(widgets.TightVBox{Gap: -theme.Padding()}, name, why))
	}
	content := container.NewVScroll(container.New(widgets.FixedWidth{Width: 460}, list.Objects...))
	d := dialog.NewCustom("Photos left out of the comparison", "Close", content, p.w.win)
	d.Resize(dialogSize(p.w.win, fyne.NewSize(520, 420)))
	p.w.showDialog(d)
}

// set shows the document's comparison and which of the two models is in
// use.
func (p *comparePanel) set() {
	d := &p.w.doc
	p.cmp = d.comparison
	c := p.cmp
	if c == nil {
		p.headline.SetText("")
		p.caption.SetText("These two models cannot be compared photo by photo: one of them has fine-tuned blocks of the image model, or they use different image models.")
		p.order = nil
		p.photos.SetText("")
	} else {
		p.headline.SetText(words.Percent(c.Before) + " → " + words.Percent(c.After))
		which := c.Evaluated + " photos"
		text := fmt.Sprintf("of the same %s %s sorted right before and after retraining: %s, %s.",
			words.Thousands(c.N), which, words.Plural(len(c.Fixed), "photo fixed", "photos fixed"), words.Plural(len(c.Broken), "photo broken", "photos broken"))
		p.which.Hide()
		if c.LeftOut > 0 {
			text += fmt.Sprintf(" %s left out: the previous model was not tested on them and may have learnt from them.",
				words.Plural(c.LeftOut, "new test photo is", "new test photos are"))
			if len(c.LeftOutPhotos) > 0 {
				p.which.Show()
			}
		}
		p.caption.SetText(text)
		p.order = slices.Clone(c.Kinds)
		// The kinds that changed most come first; the rest keep their order.
		slices.SortStableFunc(p.order, func(a, b app.KindChange) int {
			return cmp.Compare(math.Abs(b.After-b.Before), math.Abs(a.After-a.Before))
		})
		p.photos.SetText(fmt.Sprintf("Photos that changed answer: %d fixed, %d broken. Click one to see it large.", len(c.Fixed), len(c.Broken)))
	}
	if d.wentBack {
		p.inUse.Set(theme.ColorNameWarning, "You went back: the model before retraining is in use again.", p.swap)
		p.swap.SetText("Use the retrained model again")
	} else {
		p.inUse.Set(theme.ColorNamePrimary, "The retrained model is in use. The previous one is kept until you train again.", p.swap)
		p.swap.SetText("Go back to the previous model")
	}
	if c != nil && len(c.Changed) == 0 {
		p.none.Show()
		p.grid.Hide()
	} else {
		p.none.Hide()
		p.grid.Show()
	}
	p.kinds.Refresh()
	p.grid.Refresh()
}

// kindChange says how one kind changed.
func kindChange(k app.KindChange) string {
	s := words.Percent(k.Before) + " → " + words.Percent(k.After)
	if d := math.Round(100 * (k.After - k.Before)); d != 0 {
		s += fmt.Sprintf(" (%+.0f)", d)
	}
	return s
}

// update fills the card of a photo that changed answer.
func (p *comparePanel) update(id int, c *widgets.PhotoCard) {
	if p.cmp == nil || id >= len(p.cmp.Changed) {
		return
	}
	ch := p.cmp.Changed[id]
	c.Thumb.SetPath(ch.Path)
	c.Value.SetText("")
	before := ch.Before
	if before == "" {
		before = "no answer"
	}
	if ch.Fixed {
		c.Label.SetText("Fixed: " + ch.After)
		c.Bar.Set(1, theme.ColorNameSuccess)
		c.Sub.SetText("Before: " + before)
		c.SetTone(theme.ColorNameSuccess)
	} else {
		c.Label.SetText("Broken: " + ch.After)
		c.Bar.Set(1, theme.ColorNameError)
		c.Sub.SetText(fmt.Sprintf("Before: %s (right)", before))
		c.SetTone(theme.ColorNameError)
	}
	c.OnTapped = func() { p.w.showPhoto(p.detail(ch)) }
}

// detail is the large view of a photo that changed answer, with the
// answers of the model in use.
func (p *comparePanel) detail(ch app.Changed) photoDetail {
	for _, r := range p.w.doc.reviewed {
		if r.Path == ch.Path {
			return photoDetail{path: r.Path, truth: r.Truth, top: r.Top}
		}
	}
	return photoDetail{path: ch.Path, truth: ch.Truth}
}

// swapModels goes back to the model before the last retraining, or
// forward again to the retrained one. Nothing is written: the model
// brought back is unsaved when its file no longer holds it, and saving
// stays the user's choice.
func (w *window) swapModels() {
	d := &w.doc
	if d.previous == nil || w.busy() {
		return
	}
	cur := d.current()
	d.use(*d.previous)
	d.previous = &cur
	d.wentBack = !d.wentBack
	w.train.showRecorded(d.model)
	if d.report == nil {
		// A model whose results were never worked out (opened from a
		// file and not yet checked): checked on its recorded test photos,
		// so that Results, and this tab, show again.
		w.results.evaluateRecorded()
	}
	w.results.refresh()
	w.classify.modelChanged()
	w.refresh()
}
