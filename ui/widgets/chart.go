package widgets

import (
	"fmt"
	"image/color"
	"math"

	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Chart draws a training metric per epoch, for the training and the
// validation photos: a line chart with axes, ticks, a legend with the
// latest values, and the best epoch circled. It grows by one point as each
// epoch ends; drawing is lines and text on the canvas, never a picture
// rendered again for every frame.
type Chart struct {
	widget.BaseWidget
	title string
	// percent draws values as shares on a fixed 0–100% axis; otherwise
	// the axis runs from 0 to a round number above the largest value.
	percent bool
	// series holds the training and validation values, epoch 1 first; a
	// run without validation has no validation values.
	series [2][]float64
	names  [2]string
	// epochs is the length of the x axis: the most epochs the run may do,
	// so that the axis does not rescale as the line grows.
	epochs int
	// best is the epoch whose weights the model keeps (1-based), 0 if none.
	best int
	// stage2 is the first epoch of fine-tuning (1-based), 0 if none: a
	// vertical line marks where the image model starts to learn too.
	stage2 int
	// empty is the message shown before the first epoch.
	empty string
}

// NewChart returns an empty chart.
func NewChart(title string, percent bool) *Chart {
	c := &Chart{title: title, percent: percent, names: [2]string{"Training", "Validation"},
		empty: "Fills in as Clasifica learns"}
	c.ExtendBaseWidget(c)
	return c
}

// Reset empties the chart for a run of at most epochs epochs.
func (c *Chart) Reset(epochs int) {
	c.series = [2][]float64{}
	c.epochs, c.best, c.stage2 = epochs, 0, 0
	c.Refresh()
}

// Add appends an epoch's values; val is ignored without validation.
func (c *Chart) Add(train, val float64, hasVal bool, best bool) {
	c.series[0] = append(c.series[0], train)
	if hasVal {
		c.series[1] = append(c.series[1], val)
	}
	if best {
		c.best = len(c.series[0])
	}
	c.Refresh()
}

// MarkStage2 marks the next epoch as the first of fine-tuning: a line
// and a label show where the image model's own blocks start learning.
func (c *Chart) MarkStage2() {
	c.stage2 = len(c.series[0]) + 1
	c.Refresh()
}

// Fit shrinks the x axis to the epochs done, once a run has ended early.
func (c *Chart) Fit() {
	c.epochs = len(c.series[0])
	c.Refresh()
}

// Points returns how many values series i (0: training, 1: validation)
// has.
func (c *Chart) Points(i int) int { return len(c.series[i]) }

// Epochs returns the length of the x axis.
func (c *Chart) Epochs() int { return c.epochs }

// Latest returns the last value of series i.
func (c *Chart) Latest(i int) (float64, bool) {
	s := c.series[i]
	if len(s) == 0 {
		return 0, false
	}
	return s[len(s)-1], true
}

// format writes a value as the axis and legend show it.
func (c *Chart) format(v float64) string {
	if c.percent {
		return words.Percent1(v)
	}
	return words.Number(v)
}

// CreateRenderer draws the chart.
func (c *Chart) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{c: c,
		title:   canvas.NewText("", color.Black),
		message: canvas.NewText("", color.Black),
		xlabel:  canvas.NewText("epoch", color.Black),
		xaxis:   canvas.NewLine(color.Black),
		yaxis:   canvas.NewLine(color.Black),
		ring:    canvas.NewCircle(color.Transparent),
	}
	r.title.TextStyle.Bold = true
	r.message.Alignment = fyne.TextAlignCenter
	for i := range r.legend {
		r.legend[i] = canvas.NewText("", color.Black)
		r.swatches[i] = canvas.NewRectangle(color.Transparent)
	}
	r.bestText = canvas.NewText("", color.Black)
	r.bestMark = canvas.NewCircle(color.Transparent)
	r.stage2 = canvas.NewLine(color.Black)
	r.stage2Text = canvas.NewText("Fine-tuning", color.Black)
	r.Refresh()
	return r
}

type chartRenderer struct {
	c *Chart

	title, message, xlabel *canvas.Text
	xaxis, yaxis           *canvas.Line
	legend                 [2]*canvas.Text
	swatches               [2]*canvas.Rectangle
	ring                   *canvas.Circle
	// bestText and bestMark explain the ring in the legend.
	bestText *canvas.Text
	bestMark *canvas.Circle
	// stage2 and stage2Text mark where fine-tuning starts.
	stage2     *canvas.Line
	stage2Text *canvas.Text

	grid   []*canvas.Line
	yticks []*canvas.Text
	xticks []*canvas.Text
	lines  [2][]*canvas.Line
	dots   [2][]*canvas.Circle

	objects []fyne.CanvasObject
}

// Chart geometry, in pixels.
const (
	chartDot    = 3
	chartLast   = 4.5
	chartRing   = 8
	chartStroke = 2
)

func (r *chartRenderer) MinSize() fyne.Size { return fyne.NewSize(320, 220) }

// yRange returns the axis maximum and the tick step.
func (r *chartRenderer) yRange() (top, step float64) {
	if r.c.percent {
		return 1, 0.25
	}
	hi := 0.0
	for _, s := range r.c.series {
		for _, v := range s {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				hi = max(hi, v)
			}
		}
	}
	if hi <= 0 {
		hi = 1
	}
	step = niceStep(hi / 4)
	return math.Ceil(hi/step-1e-9) * step, step
}

// niceStep rounds a tick step up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// xRange returns the last epoch on the axis and the labelled epochs: the
// first, then every step (1, 2, 5, 10, 20…) so that at most about eight
// are labelled.
func (r *chartRenderer) xRange() (last int, ticks []int) {
	last = max(r.c.epochs, len(r.c.series[0]), len(r.c.series[1]), 2)
	step := 1
	for last/step > 8 {
		switch step {
		case 1:
			step = 2
		case 2:
			step = 5
		default:
			step *= 2
		}
	}
	ticks = []int{1}
	for e := step; e <= last; e += step {
		if e > 1 {
			ticks = append(ticks, e)
		}
	}
	return last, ticks
}

// ensure grows or shrinks the pools of primitives to the needed counts.
func (r *chartRenderer) ensure() {
	top, step := r.yRange()
	ny := int(math.Round(top/step)) + 1
	_, xs := r.xRange()
	nx := len(xs)
	for len(r.grid) < ny {
		r.grid = append(r.grid, canvas.NewLine(color.Black))
		r.yticks = append(r.yticks, canvas.NewText("", color.Black))
	}
	r.grid, r.yticks = r.grid[:ny], r.yticks[:ny]
	for len(r.xticks) < nx {
		t := canvas.NewText("", color.Black)
		t.Alignment = fyne.TextAlignCenter
		r.xticks = append(r.xticks, t)
	}
	r.xticks = r.xticks[:nx]
	for i, s := range r.c.series {
		for len(r.lines[i]) < max(len(s)-1, 0) {
			r.lines[i] = append(r.lines[i], canvas.NewLine(color.Black))
		}
		r.lines[i] = r.lines[i][:max(len(s)-1, 0)]
		for len(r.dots[i]) < len(s) {
			r.dots[i] = append(r.dots[i], canvas.NewCircle(color.Black))
		}
		r.dots[i] = r.dots[i][:len(s)]
	}
	r.objects = r.objects[:0]
	for _, g := range r.grid {
		r.objects = append(r.objects, g)
	}
	for _, t := range r.yticks {
		r.objects = append(r.objects, t)
	}
	for _, t := range r.xticks {
		r.objects = append(r.objects, t)
	}
	r.objects = append(r.objects, r.xaxis, r.yaxis, r.xlabel, r.title, r.message)
	for i := range r.legend {
		r.objects = append(r.objects, r.swatches[i], r.legend[i])
	}
	r.objects = append(r.objects, r.bestMark, r.bestText, r.stage2, r.stage2Text)
	for i := range r.lines {
		for _, l := range r.lines[i] {
			r.objects = append(r.objects, l)
		}
	}
	r.objects = append(r.objects, r.ring)
	for i := range r.dots {
		for _, d := range r.dots[i] {
			r.objects = append(r.objects, d)
		}
	}
}

func (r *chartRenderer) Refresh() {
	c := r.c
	r.ensure()
	fg := ColorFor(c, theme.ColorNameForeground)
	subtle := ColorFor(c, theme.ColorNamePlaceHolder)
	// Faint foreground rather than the separator colour, which is black
	// in the dark theme.
	gridColor := WithAlpha(fg, 0.12)
	small := theme.CaptionTextSize()

	r.title.Text, r.title.Color, r.title.TextSize = c.title, fg, theme.TextSize()
	r.message.Text, r.message.Color, r.message.TextSize = c.empty, subtle, theme.TextSize()
	r.message.Hidden = len(c.series[0]) > 0
	r.xlabel.Color, r.xlabel.TextSize = subtle, small
	r.xaxis.StrokeColor, r.yaxis.StrokeColor = subtle, subtle
	r.xaxis.StrokeWidth, r.yaxis.StrokeWidth = 1, 1
	for _, g := range r.grid {
		g.StrokeColor, g.StrokeWidth = gridColor, 1
	}
	_, step := r.yRange()
	for i, t := range r.yticks {
		t.Text = c.format(float64(i) * step)
		if !c.percent && step >= 1 {
			t.Text = fmt.Sprintf("%.0f", float64(i)*step)
		}
		t.Color, t.TextSize, t.Alignment = subtle, small, fyne.TextAlignTrailing
	}
	_, xs := r.xRange()
	for i, t := range r.xticks {
		t.Text, t.Color, t.TextSize = fmt.Sprint(xs[i]), subtle, small
	}
	for i := range c.series {
		col := ColorFor(c, SeriesColors[i])
		r.swatches[i].FillColor = col
		r.swatches[i].CornerRadius = 1
		v, ok := c.Latest(i)
		r.legend[i].Hidden = !ok
		r.swatches[i].Hidden = !ok
		r.legend[i].Text = fmt.Sprintf("%s %s", c.names[i], c.format(v))
		r.legend[i].Color, r.legend[i].TextSize = fg, small
		for _, l := range r.lines[i] {
			l.StrokeColor, l.StrokeWidth = col, chartStroke
		}
		for _, d := range r.dots[i] {
			d.FillColor = col
		}
	}
	r.ring.StrokeColor = fg
	r.ring.StrokeWidth = 1.5
	r.ring.Hidden = c.best == 0
	r.bestMark.StrokeColor, r.bestMark.StrokeWidth = fg, 1.5
	r.bestText.Text = fmt.Sprintf("Kept: epoch %d", c.best)
	r.bestText.Color, r.bestText.TextSize = fg, small
	r.bestMark.Hidden, r.bestText.Hidden = c.best == 0, c.best == 0
	r.stage2.StrokeColor, r.stage2.StrokeWidth = fg, 1
	r.stage2Text.Color, r.stage2Text.TextSize = fg, small
	r.stage2.Hidden, r.stage2Text.Hidden = c.stage2 == 0, c.stage2 == 0
	r.Layout(c.Size())
	canvas.Refresh(c)
}

func (r *chartRenderer) Layout(size fyne.Size) {
	c := r.c
	pad := theme.Padding()
	small := theme.CaptionTextSize()
	lineH := fyne.MeasureText("0", small, fyne.TextStyle{}).Height
	titleH := fyne.MeasureText("Ag", theme.TextSize(), fyne.TextStyle{Bold: true}).Height

	for _, t := range []*canvas.Text{r.title, r.xlabel, r.message, r.legend[0], r.legend[1], r.bestText} {
		t.Resize(t.MinSize())
	}
	// The title, then the legend with the latest values under it.
	r.title.Move(fyne.NewPos(0, 0))
	legendY := titleH + pad/2
	x := float32(0)
	for i := range r.legend {
		if r.legend[i].Hidden {
			continue
		}
		r.swatches[i].Move(fyne.NewPos(x, legendY+lineH/2-1.5))
		r.swatches[i].Resize(fyne.NewSize(16, 3))
		x += 16 + pad
		r.legend[i].Move(fyne.NewPos(x, legendY))
		x += fyne.MeasureText(r.legend[i].Text, small, fyne.TextStyle{}).Width + 4*pad
	}
	if !r.bestText.Hidden {
		m := float32(10)
		r.bestMark.Move(fyne.NewPos(x+3, legendY+(lineH-m)/2))
		r.bestMark.Resize(fyne.NewSquareSize(m))
		r.bestText.Move(fyne.NewPos(x+16+pad, legendY))
	}

	// The plot area, inside the tick labels.
	labelW := float32(0)
	for _, t := range r.yticks {
		labelW = max(labelW, fyne.MeasureText(t.Text, small, fyne.TextStyle{}).Width)
	}
	left := labelW + 2*pad
	plotTop := titleH + lineH + 2*pad + chartRing
	bottom := size.Height - 2*lineH - pad
	right := size.Width - chartRing
	w, h := right-left, bottom-plotTop
	if w <= 0 || h <= 0 {
		return
	}

	top, step := r.yRange()
	yOf := func(v float64) float32 {
		v = math.Max(0, math.Min(v, top))
		return bottom - float32(v/top)*h
	}
	last, xs := r.xRange()
	xOf := func(epoch int) float32 { return left + float32(epoch-1)/float32(last-1)*w }

	for i, g := range r.grid {
		y := yOf(float64(i) * step)
		g.Position1, g.Position2 = fyne.NewPos(left, y), fyne.NewPos(right, y)
		t := r.yticks[i]
		t.Move(fyne.NewPos(0, y-lineH/2))
		t.Resize(fyne.NewSize(labelW, lineH))
	}
	r.xaxis.Position1, r.xaxis.Position2 = fyne.NewPos(left, bottom), fyne.NewPos(right, bottom)
	r.yaxis.Position1, r.yaxis.Position2 = fyne.NewPos(left, plotTop-chartRing), fyne.NewPos(left, bottom)
	for i, t := range r.xticks {
		t.Move(fyne.NewPos(xOf(xs[i])-20, bottom+pad/2))
		t.Resize(fyne.NewSize(40, lineH))
	}
	xw := fyne.MeasureText(r.xlabel.Text, small, fyne.TextStyle{}).Width
	r.xlabel.Move(fyne.NewPos(left+(w-xw)/2, bottom+pad/2+lineH))

	for i, s := range c.series {
		for k, v := range s {
			p := fyne.NewPos(xOf(k+1), yOf(v))
			d := r.dots[i][k]
			rad := float32(chartDot)
			if k == len(s)-1 {
				rad = chartLast
			}
			d.Move(fyne.NewPos(p.X-rad, p.Y-rad))
			d.Resize(fyne.NewSquareSize(2 * rad))
			if k > 0 {
				l := r.lines[i][k-1]
				l.Position1 = fyne.NewPos(xOf(k), yOf(s[k-1]))
				l.Position2 = p
			}
		}
	}
	if c.best > 0 {
		s := c.series[1]
		if len(s) < c.best {
			s = c.series[0]
		}
		if len(s) >= c.best {
			p := fyne.NewPos(xOf(c.best), yOf(s[c.best-1]))
			r.ring.Move(fyne.NewPos(p.X-chartRing, p.Y-chartRing))
			r.ring.Resize(fyne.NewSquareSize(2 * chartRing))
		}
	}
	if c.stage2 > 0 && last > 1 {
		x := left + (float32(c.stage2)-1.5)/float32(last-1)*w
		r.stage2.Position1, r.stage2.Position2 = fyne.NewPos(x, plotTop), fyne.NewPos(x, plotTop+h)
		r.stage2Text.Move(fyne.NewPos(x+pad/2, plotTop))
	}
	ms := fyne.MeasureText(r.message.Text, theme.TextSize(), fyne.TextStyle{})
	r.message.Move(fyne.NewPos(left+(w-ms.Width)/2, plotTop+(h-ms.Height)/2))
}

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *chartRenderer) Destroy()                     {}
