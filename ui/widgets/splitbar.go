package widgets

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/ml/dataset"
)

// SplitColors are the colours of the training, validation and test
// photos wherever they appear; validation matches its line in the chart.
var SplitColors = [3]fyne.ThemeColorName{theme.ColorNamePrimary, theme.ColorNameWarning, theme.ColorNameSuccess}

// SplitBar draws how the photos are divided between training, validation
// and test as one bar in three colours.
type SplitBar struct {
	widget.BaseWidget
	counts dataset.SplitCounts
}

func NewSplitBar() *SplitBar {
	b := &SplitBar{}
	b.ExtendBaseWidget(b)
	return b
}

// SetCounts changes the numbers drawn.
func (b *SplitBar) SetCounts(c dataset.SplitCounts) {
	b.counts = c
	b.Refresh()
}

// CreateRenderer draws the bar.
func (b *SplitBar) CreateRenderer() fyne.WidgetRenderer {
	r := &splitBarRenderer{b: b, track: canvas.NewRectangle(color.Transparent)}
	for i := range r.segs {
		r.segs[i] = canvas.NewRectangle(color.Transparent)
	}
	r.Refresh()
	return r
}

type splitBarRenderer struct {
	b     *SplitBar
	track *canvas.Rectangle
	segs  [3]*canvas.Rectangle
}

func (r *splitBarRenderer) Layout(size fyne.Size) {
	r.track.Resize(size)
	total := r.b.counts.Total()
	x := float32(0)
	for i, s := range r.segs {
		w := float32(0)
		if total > 0 {
			w = size.Width * float32(r.b.counts[i]) / float32(total)
		}
		s.Move(fyne.NewPos(x, 0))
		s.Resize(fyne.NewSize(w, size.Height))
		x += w
	}
}

func (r *splitBarRenderer) MinSize() fyne.Size { return fyne.NewSize(120, 10) }

func (r *splitBarRenderer) Refresh() {
	r.track.FillColor = ColorFor(r.b, theme.ColorNameInputBorder)
	r.track.CornerRadius = 5
	r.track.Refresh()
	for i, s := range r.segs {
		s.FillColor = ColorFor(r.b, SplitColors[i])
		s.Refresh()
	}
	// Round the ends of the bar, not the joins.
	first, last := -1, -1
	for i := range r.segs {
		if r.b.counts[i] > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i, s := range r.segs {
		s.TopLeftCornerRadius, s.BottomLeftCornerRadius, s.TopRightCornerRadius, s.BottomRightCornerRadius = 0, 0, 0, 0
		if i == first {
			s.TopLeftCornerRadius, s.BottomLeftCornerRadius = 5, 5
		}
		if i == last {
			s.TopRightCornerRadius, s.BottomRightCornerRadius = 5, 5
		}
	}
	r.Layout(r.b.Size())
}

func (r *splitBarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.track, r.segs[0], r.segs[1], r.segs[2]}
}

func (r *splitBarRenderer) Destroy() {}

// Swatch is a small square of a theme colour, for legends.
type Swatch struct {
	widget.BaseWidget
	tone fyne.ThemeColorName
}

func NewSwatch(tone fyne.ThemeColorName) *Swatch {
	s := &Swatch{tone: tone}
	s.ExtendBaseWidget(s)
	return s
}

// CreateRenderer draws the swatch.
func (s *Swatch) CreateRenderer() fyne.WidgetRenderer {
	rect := canvas.NewRectangle(color.Transparent)
	r := &swatchRenderer{s: s, rect: rect}
	r.Refresh()
	return r
}

type swatchRenderer struct {
	s    *Swatch
	rect *canvas.Rectangle
}

func (r *swatchRenderer) Layout(size fyne.Size) {
	m := r.MinSize()
	r.rect.Resize(m)
	r.rect.Move(fyne.NewPos(0, (size.Height-m.Height)/2))
}

func (r *swatchRenderer) MinSize() fyne.Size { return fyne.NewSize(12, 12) }

func (r *swatchRenderer) Refresh() {
	r.rect.FillColor = ColorFor(r.s, r.s.tone)
	r.rect.CornerRadius = 2
	r.rect.Refresh()
}

func (r *swatchRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.rect} }
func (r *swatchRenderer) Destroy()                     {}

// LegendItem is a swatch with its label.
func LegendItem(tone fyne.ThemeColorName, label fyne.CanvasObject) fyne.CanvasObject {
	return container.NewHBox(container.NewCenter(NewSwatch(tone)), label)
}
