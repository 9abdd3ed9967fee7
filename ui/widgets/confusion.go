package widgets

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Confusion draws the confusion matrix as a coloured grid: a row for each
// true kind, a column for each predicted kind, and in each cell how many
// photos of the row's kind were called the column's. Right answers (the
// diagonal) are tinted in the primary colour and mistakes in the error
// colour, darker for a larger share of the row. Tapping a cell shows its
// photos.
type Confusion struct {
	widget.BaseWidget
	labels []string
	counts [][]int
	// OnTapped receives the true and predicted class of a tapped cell.
	OnTapped func(truth, pred int)
}

func NewConfusion(tapped func(truth, pred int)) *Confusion {
	c := &Confusion{OnTapped: tapped}
	c.ExtendBaseWidget(c)
	return c
}

// Labels returns the class names shown.
func (c *Confusion) Labels() []string { return c.labels }

// Counts returns the counts shown: Counts()[truth][predicted].
func (c *Confusion) Counts() [][]int { return c.counts }

// Set shows a matrix.
func (c *Confusion) Set(labels []string, counts [][]int) {
	c.labels, c.counts = labels, counts
	c.Refresh()
}

// Tapped finds the cell under the pointer.
func (c *Confusion) Tapped(e *fyne.PointEvent) {
	if c.OnTapped == nil {
		return
	}
	g := c.geometry()
	col := int((e.Position.X - g.left) / g.cell)
	row := int((e.Position.Y - g.top) / g.cell)
	if e.Position.X >= g.left && e.Position.Y >= g.top && row < len(c.labels) && col < len(c.labels) {
		c.OnTapped(row, col)
	}
}

// Cursor shows that cells can be clicked.
func (c *Confusion) Cursor() desktop.Cursor { return desktop.PointerCursor }

// confusionGeometry is where the grid sits.
type confusionGeometry struct {
	left, top, cell float32
	// numbered is true when the column headers are numbers, because the
	// names do not fit above the cells; rows then carry the numbers too.
	numbered bool
	labelW   float32
}

// maxLabel is the longest class name drawn in full.
const maxLabel = 22

func shorten(s string) string {
	r := []rune(s)
	if len(r) > maxLabel {
		return string(r[:maxLabel-1]) + "…"
	}
	return s
}

func (c *Confusion) geometry() confusionGeometry {
	n := len(c.labels)
	small := theme.CaptionTextSize()
	g := confusionGeometry{cell: 56}
	switch {
	case n > 20:
		g.cell = 30
	case n > 10:
		g.cell = 40
	}
	for _, l := range c.labels {
		if fyne.MeasureText(shorten(l), small, fyne.TextStyle{}).Width > g.cell-4 {
			g.numbered = true
		}
	}
	for i, l := range c.labels {
		g.labelW = max(g.labelW, fyne.MeasureText(c.rowLabel(i, l, g.numbered), small, fyne.TextStyle{}).Width)
	}
	lineH := fyne.MeasureText("0", small, fyne.TextStyle{}).Height
	pad := theme.Padding()
	g.left = g.labelW + 2*pad
	g.top = 2*lineH + 2*pad // the axis title, then the column headers
	return g
}

func (c *Confusion) rowLabel(i int, l string, numbered bool) string {
	if numbered {
		return fmt.Sprintf("%d  %s", i+1, shorten(l))
	}
	return shorten(l)
}

// CreateRenderer draws the grid.
func (c *Confusion) CreateRenderer() fyne.WidgetRenderer {
	r := &confusionRenderer{c: c, axisX: canvas.NewText("", color.Black), axisY: canvas.NewText("", color.Black)}
	r.Refresh()
	return r
}

type confusionRenderer struct {
	c            *Confusion
	axisX, axisY *canvas.Text
	cols, rows   []*canvas.Text
	cells        []*canvas.Rectangle
	texts        []*canvas.Text
	objects      []fyne.CanvasObject
}

func (r *confusionRenderer) MinSize() fyne.Size {
	g := r.c.geometry()
	n := float32(len(r.c.labels))
	return fyne.NewSize(g.left+n*g.cell+1, g.top+n*g.cell+1)
}

// ensure sizes the pools to the matrix.
func (r *confusionRenderer) ensure() {
	n := len(r.c.labels)
	grow := func(ts []*canvas.Text, k int, align fyne.TextAlign) []*canvas.Text {
		for len(ts) < k {
			t := canvas.NewText("", color.Black)
			t.Alignment = align
			ts = append(ts, t)
		}
		return ts[:k]
	}
	r.cols = grow(r.cols, n, fyne.TextAlignCenter)
	r.rows = grow(r.rows, n, fyne.TextAlignTrailing)
	r.texts = grow(r.texts, n*n, fyne.TextAlignCenter)
	for len(r.cells) < n*n {
		r.cells = append(r.cells, canvas.NewRectangle(color.Transparent))
	}
	r.cells = r.cells[:n*n]
	r.objects = append(r.objects[:0], r.axisX, r.axisY)
	for _, t := range r.cols {
		r.objects = append(r.objects, t)
	}
	for _, t := range r.rows {
		r.objects = append(r.objects, t)
	}
	for i := range r.cells {
		r.objects = append(r.objects, r.cells[i], r.texts[i])
	}
}

func (r *confusionRenderer) Refresh() {
	c := r.c
	r.ensure()
	g := c.geometry()
	fg := ColorFor(c, theme.ColorNameForeground)
	subtle := ColorFor(c, theme.ColorNamePlaceHolder)
	right := ColorFor(c, theme.ColorNamePrimary)
	wrong := ColorFor(c, theme.ColorNameError)
	empty := ColorFor(c, theme.ColorNameInputBackground)
	small := theme.CaptionTextSize()
	r.axisX.Text, r.axisX.Color, r.axisX.TextSize = "Predicted as →", subtle, small
	r.axisY.Text, r.axisY.Color, r.axisY.TextSize = "Really ↓", subtle, small
	r.axisY.TextStyle.Bold, r.axisX.TextStyle.Bold = true, true
	n := len(c.labels)
	for i, l := range c.labels {
		r.rows[i].Text, r.rows[i].Color, r.rows[i].TextSize = c.rowLabel(i, l, g.numbered), fg, small
		col := shorten(l)
		if g.numbered {
			col = fmt.Sprint(i + 1)
		}
		r.cols[i].Text, r.cols[i].Color, r.cols[i].TextSize = col, fg, small
	}
	for t := 0; t < n; t++ {
		total := 0
		for p := 0; p < n; p++ {
			total += c.count(t, p)
		}
		for p := 0; p < n; p++ {
			k := c.count(t, p)
			cell, text := r.cells[t*n+p], r.texts[t*n+p]
			share := 0.0
			if total > 0 {
				share = float64(k) / float64(total)
			}
			tone := wrong
			if t == p {
				tone = right
			}
			switch {
			case k == 0:
				cell.FillColor = empty
				text.Color = subtle
			default:
				cell.FillColor = WithAlpha(tone, 0.15+0.85*share)
				text.Color = fg
				if share > 0.5 {
					text.Color = ColorFor(c, theme.ColorNameForegroundOnPrimary)
				}
			}
			cell.CornerRadius = 3
			text.Text = fmt.Sprint(k)
			text.TextSize = small
			text.TextStyle.Bold = k > 0
			if g.cell >= 40 {
				text.TextSize = theme.TextSize()
			}
		}
	}
	r.Layout(c.Size())
	canvas.Refresh(c)
}

// count returns a cell's count, tolerating a ragged matrix.
func (c *Confusion) count(t, p int) int {
	if t < len(c.counts) && p < len(c.counts[t]) {
		return c.counts[t][p]
	}
	return 0
}

func (r *confusionRenderer) Layout(fyne.Size) {
	c := r.c
	g := c.geometry()
	n := len(c.labels)
	small := theme.CaptionTextSize()
	lineH := fyne.MeasureText("0", small, fyne.TextStyle{}).Height
	pad := theme.Padding()
	r.axisY.Move(fyne.NewPos(0, lineH+pad))
	r.axisX.Move(fyne.NewPos(g.left, 0))
	r.axisX.Resize(r.axisX.MinSize())
	r.axisY.Resize(r.axisY.MinSize())
	for i := 0; i < n; i++ {
		r.cols[i].Move(fyne.NewPos(g.left+float32(i)*g.cell, lineH+pad))
		r.cols[i].Resize(fyne.NewSize(g.cell, lineH))
		r.rows[i].Move(fyne.NewPos(0, g.top+float32(i)*g.cell+(g.cell-lineH)/2))
		r.rows[i].Resize(fyne.NewSize(g.labelW, lineH))
	}
	gap := float32(2)
	for t := 0; t < n; t++ {
		for p := 0; p < n; p++ {
			pos := fyne.NewPos(g.left+float32(p)*g.cell, g.top+float32(t)*g.cell)
			cell, text := r.cells[t*n+p], r.texts[t*n+p]
			cell.Move(pos.AddXY(gap/2, gap/2))
			cell.Resize(fyne.NewSquareSize(g.cell - gap))
			th := fyne.MeasureText(text.Text, text.TextSize, text.TextStyle).Height
			text.Move(fyne.NewPos(pos.X, pos.Y+(g.cell-th)/2))
			text.Resize(fyne.NewSize(g.cell, th))
		}
	}
}

func (r *confusionRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *confusionRenderer) Destroy()                     {}
