package widgets

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/ml/selective"
)

// CoverageCurve draws a model's accuracy–coverage curve: across, the
// share of photos it answers; up, how often it is right on those. Raising
// the confidence threshold moves along the curve to the left. The target
// accuracy is a faint horizontal line and the chosen threshold a marked
// point with what it gives written beside it.
type CoverageCurve struct {
	widget.BaseWidget
	// points are by rising coverage once set.
	points []selective.Point
	chosen selective.Point
	target float64
	has    bool
}

// NewCoverageCurve returns an empty curve, which says so.
func NewCoverageCurve() *CoverageCurve {
	c := &CoverageCurve{}
	c.ExtendBaseWidget(c)
	return c
}

// Set draws curve (in any order) with the chosen point and the target
// accuracy; an empty curve clears the drawing.
func (c *CoverageCurve) Set(curve []selective.Point, chosen selective.Point, target float64) {
	c.points = slices.Clone(curve)
	slices.SortStableFunc(c.points, func(a, b selective.Point) int { return cmp.Compare(a.Coverage, b.Coverage) })
	c.chosen, c.target, c.has = chosen, target, len(curve) > 0
	c.Refresh()
}

// yFloor returns the accuracy at the bottom of the axis: a tenth below
// the lowest accuracy drawn, so that the curve fills the plot.
func (c *CoverageCurve) yFloor() float64 {
	lo := 1.0
	for _, p := range c.points {
		lo = min(lo, p.Accuracy)
	}
	if c.target > 0 {
		lo = min(lo, c.target)
	}
	return max(0, math.Floor(lo*10-1e-9)/10)
}

// CreateRenderer draws the curve.
func (c *CoverageCurve) CreateRenderer() fyne.WidgetRenderer {
	r := &coverageRenderer{c: c,
		message: canvas.NewText("No curve: the model has no \"not sure\" threshold", color.Black),
		xlabel:  canvas.NewText("share of photos answered", color.Black),
		ylabel:  canvas.NewText("right when answered", color.Black),
		xaxis:   canvas.NewLine(color.Black),
		yaxis:   canvas.NewLine(color.Black),
		target:  canvas.NewLine(color.Black),
		dot:     canvas.NewCircle(color.Black),
		note:    canvas.NewText("", color.Black),
	}
	r.message.Alignment = fyne.TextAlignCenter
	r.xlabel.Alignment = fyne.TextAlignCenter
	r.Refresh()
	return r
}

type coverageRenderer struct {
	c *CoverageCurve

	message, xlabel, ylabel, note *canvas.Text
	xaxis, yaxis, target          *canvas.Line
	dot                           *canvas.Circle
	ticks                         []*canvas.Text
	grid                          []*canvas.Line
	lines                         []*canvas.Line
	objects                       []fyne.CanvasObject
}

// Curve geometry, in pixels: the plot's margins and the chosen point's
// radius.
const (
	coverLeft   = 44
	coverRight  = 12
	coverTop    = 22
	coverBottom = 34
	coverDot    = 5
)

func (r *coverageRenderer) MinSize() fyne.Size { return fyne.NewSize(300, 200) }

// plot returns the plot area's origin and size.
func (r *coverageRenderer) plot(size fyne.Size) (x0, y0, w, h float32) {
	return coverLeft, coverTop, max(size.Width-coverLeft-coverRight, 1), max(size.Height-coverTop-coverBottom, 1)
}

// at returns where a (coverage, accuracy) pair is drawn.
func (r *coverageRenderer) at(size fyne.Size, coverage, accuracy float64) fyne.Position {
	x0, y0, w, h := r.plot(size)
	lo := r.c.yFloor()
	return fyne.NewPos(x0+w*float32(coverage), y0+h*float32((1-accuracy)/(1-lo+1e-12)))
}

// yTicks returns the accuracies labelled on the y axis, from the floor up.
func (r *coverageRenderer) yTicks() []float64 {
	lo := r.c.yFloor()
	step := 0.1
	if 1-lo > 0.5 {
		step = 0.25
	}
	var t []float64
	for v := 1.0; v >= lo-1e-9; v -= step {
		t = append(t, max(v, 0))
	}
	return t
}

var coverXTicks = []float64{0, 0.25, 0.5, 0.75, 1}

func (r *coverageRenderer) ensure() {
	ys := r.yTicks()
	n := len(ys) + len(coverXTicks)
	for len(r.ticks) < n {
		r.ticks = append(r.ticks, canvas.NewText("", color.Black))
		r.grid = append(r.grid, canvas.NewLine(color.Black))
	}
	r.ticks, r.grid = r.ticks[:n], r.grid[:n]
	segs := max(len(r.c.points)-1, 0)
	for len(r.lines) < segs {
		r.lines = append(r.lines, canvas.NewLine(color.Black))
	}
	r.lines = r.lines[:segs]
	r.objects = r.objects[:0]
	for i := range r.grid {
		r.objects = append(r.objects, r.grid[i], r.ticks[i])
	}
	r.objects = append(r.objects, r.xaxis, r.yaxis, r.xlabel, r.ylabel, r.target)
	for _, l := range r.lines {
		r.objects = append(r.objects, l)
	}
	r.objects = append(r.objects, r.dot, r.note, r.message)
}

func (r *coverageRenderer) Refresh() {
	c := r.c
	r.ensure()
	fg := ColorFor(c, theme.ColorNameForeground)
	subtle := ColorFor(c, theme.ColorNamePlaceHolder)
	line := ColorFor(c, theme.ColorNamePrimary)
	small := theme.CaptionTextSize()
	ys := r.yTicks()
	for i, t := range r.ticks {
		v := 0.0
		if i < len(ys) {
			v = ys[i]
			t.Alignment = fyne.TextAlignTrailing
		} else {
			v = coverXTicks[i-len(ys)]
			t.Alignment = fyne.TextAlignCenter
		}
		t.Text, t.Color, t.TextSize = fmt.Sprintf("%.0f%%", 100*v), subtle, small
		t.Hidden = !c.has
		r.grid[i].StrokeColor, r.grid[i].StrokeWidth, r.grid[i].Hidden = WithAlpha(fg, 0.12), 1, !c.has
	}
	for _, t := range []*canvas.Text{r.xlabel, r.ylabel} {
		t.Color, t.TextSize, t.Hidden = subtle, small, !c.has
	}
	r.xaxis.StrokeColor, r.yaxis.StrokeColor = subtle, subtle
	r.xaxis.StrokeWidth, r.yaxis.StrokeWidth = 1, 1
	r.xaxis.Hidden, r.yaxis.Hidden = !c.has, !c.has
	r.target.StrokeColor, r.target.StrokeWidth = ColorFor(c, theme.ColorNameSuccess), 1
	r.target.Hidden = !c.has || c.target <= 0
	for _, l := range r.lines {
		l.StrokeColor, l.StrokeWidth = line, 2
	}
	r.dot.FillColor, r.dot.StrokeColor, r.dot.StrokeWidth = line, ColorFor(c, theme.ColorNameBackground), 2
	r.dot.Hidden = !c.has
	r.note.Text = fmt.Sprintf("answers %.0f%%, right on %.0f%%", 100*c.chosen.Coverage, 100*c.chosen.Accuracy)
	r.note.Color, r.note.TextSize, r.note.TextStyle.Bold, r.note.Hidden = fg, small, true, !c.has
	r.message.Color, r.message.TextSize, r.message.Hidden = subtle, theme.TextSize(), c.has
	r.Layout(c.Size())
	canvas.Refresh(c)
}

func (r *coverageRenderer) Layout(size fyne.Size) {
	c := r.c
	x0, y0, w, h := r.plot(size)
	r.message.Move(fyne.NewPos(0, size.Height/2-10))
	r.message.Resize(fyne.NewSize(size.Width, 20))
	r.xaxis.Position1, r.xaxis.Position2 = fyne.NewPos(x0, y0+h), fyne.NewPos(x0+w, y0+h)
	r.yaxis.Position1, r.yaxis.Position2 = fyne.NewPos(x0, y0), fyne.NewPos(x0, y0+h)
	ys := r.yTicks()
	for i, t := range r.ticks {
		g := r.grid[i]
		if i < len(ys) {
			p := r.at(size, 0, ys[i])
			t.Move(fyne.NewPos(0, p.Y-8))
			t.Resize(fyne.NewSize(x0-4, 16))
			g.Position1, g.Position2 = fyne.NewPos(x0, p.Y), fyne.NewPos(x0+w, p.Y)
		} else {
			x := x0 + w*float32(coverXTicks[i-len(ys)])
			t.Move(fyne.NewPos(x-20, y0+h+2))
			t.Resize(fyne.NewSize(40, 14))
			g.Position1, g.Position2 = fyne.NewPos(x, y0), fyne.NewPos(x, y0+h)
		}
	}
	r.xlabel.Move(fyne.NewPos(x0, y0+h+16))
	r.xlabel.Resize(fyne.NewSize(w, 14))
	r.ylabel.Move(fyne.NewPos(x0, 2))
	if c.target > 0 {
		p := r.at(size, 0, c.target)
		r.target.Position1, r.target.Position2 = fyne.NewPos(x0, p.Y), fyne.NewPos(x0+w, p.Y)
	}
	for i, l := range r.lines {
		a, b := c.points[i], c.points[i+1]
		l.Position1, l.Position2 = r.at(size, a.Coverage, a.Accuracy), r.at(size, b.Coverage, b.Accuracy)
	}
	p := r.at(size, c.chosen.Coverage, c.chosen.Accuracy)
	r.dot.Move(fyne.NewPos(p.X-coverDot, p.Y-coverDot))
	r.dot.Resize(fyne.NewSize(2*coverDot, 2*coverDot))
	// The note sits beside the point, on the side with room for it.
	nw := fyne.MeasureText(r.note.Text, r.note.TextSize, r.note.TextStyle).Width
	nx := p.X + 2*coverDot
	if nx+nw > x0+w {
		nx = p.X - 2*coverDot - nw
	}
	ny := p.Y + coverDot
	if ny+16 > y0+h {
		ny = p.Y - coverDot - 16
	}
	r.note.Move(fyne.NewPos(max(nx, x0), ny))
}

func (r *coverageRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *coverageRenderer) Destroy()                     {}
