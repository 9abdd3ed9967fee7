package widgets

import (
	"fmt"
	"image/color"

	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// maxStrip is the most photos a strip shows.
const maxStrip = 12

// PhotoStrip shows the first photos of a list in a row, as many as fit,
// and how many more there are: a narrow window shows fewer photos rather
// than cut ones, and only the photos shown are loaded.
type PhotoStrip struct {
	widget.BaseWidget
	loader Thumbnails
	side   float32
	paths  []string
}

func NewPhotoStrip(loader Thumbnails, side float32) *PhotoStrip {
	s := &PhotoStrip{loader: loader, side: side}
	s.ExtendBaseWidget(s)
	return s
}

// Paths returns the photos the strip is given (it shows the first ones).
func (s *PhotoStrip) Paths() []string { return s.paths }

// SetPaths changes the photos.
func (s *PhotoStrip) SetPaths(paths []string) {
	s.paths = paths
	s.Refresh()
}

// CreateRenderer makes the row of thumbs.
func (s *PhotoStrip) CreateRenderer() fyne.WidgetRenderer {
	r := &stripRenderer{s: s, more: canvas.NewText("", color.Black)}
	for i := range r.thumbs {
		r.thumbs[i] = NewThumb(s.loader, fyne.NewSquareSize(s.side))
	}
	r.Refresh()
	return r
}

type stripRenderer struct {
	s      *PhotoStrip
	thumbs [maxStrip]*Thumb
	more   *canvas.Text
}

func (r *stripRenderer) Layout(size fyne.Size) {
	gap := theme.Padding()
	side := r.s.side
	paths := r.s.paths
	moreW := fyne.MeasureText("+0000", theme.CaptionTextSize(), fyne.TextStyle{}).Width + 2*gap
	fit := max(int((size.Width-moreW+gap)/(side+gap)), 0)
	n := min(len(paths), maxStrip, fit)
	if n == len(paths)-1 && fit >= len(paths) {
		n = len(paths) // the last one fits where "+1" would go
	}
	y := (size.Height - side) / 2
	for i, t := range r.thumbs {
		if i < n {
			t.SetPath(paths[i])
			t.Move(fyne.NewPos(float32(i)*(side+gap), y))
			t.Resize(fyne.NewSquareSize(side))
			t.Show()
		} else {
			t.SetPath("")
			t.Hide()
		}
	}
	r.more.Text = ""
	if rest := len(paths) - n; rest > 0 {
		r.more.Text = fmt.Sprintf("+%s", words.Thousands(rest))
	}
	ms := r.more.MinSize()
	r.more.Move(fyne.NewPos(float32(n)*(side+gap)+gap, (size.Height-ms.Height)/2))
	r.more.Resize(ms)
	r.more.Refresh()
}

func (r *stripRenderer) MinSize() fyne.Size { return fyne.NewSize(r.s.side, r.s.side) }

func (r *stripRenderer) Refresh() {
	r.more.Color = ColorFor(r.s, theme.ColorNamePlaceHolder)
	r.more.TextSize = theme.TextSize()
	r.Layout(r.s.Size())
}

func (r *stripRenderer) Objects() []fyne.CanvasObject {
	objs := make([]fyne.CanvasObject, 0, maxStrip+1)
	for _, t := range r.thumbs {
		objs = append(objs, t)
	}
	return append(objs, r.more)
}

func (r *stripRenderer) Destroy() {}
