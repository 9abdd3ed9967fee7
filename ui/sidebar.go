package ui

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/ml/onnxrt"
)

// step names a screen of the window, in the order people go through them.
type step int

const (
	stepData step = iota
	stepTrain
	stepResults
	stepClassify
	numSteps
)

// stepTitles are the screens' names in the sidebar and the View menu.
var stepTitles = [numSteps]string{"Data", "Train", "Results", "Classify"}

// stepButton is one step of the sidebar: a numbered circle, the step's
// name, and a line on where it stands ("150 photos, 5 kinds").
type stepButton struct {
	widget.BaseWidget
	number   int
	title    string
	status   string
	selected bool
	hovered  bool
	onTapped func()
}

func newStepButton(number int, title string, tapped func()) *stepButton {
	b := &stepButton{number: number, title: title, onTapped: tapped}
	b.ExtendBaseWidget(b)
	return b
}

// setStatus changes the line under the step's name.
func (b *stepButton) setStatus(s string) {
	if b.status != s {
		b.status = s
		b.Refresh()
	}
}

// setSelected marks the step as the one shown.
func (b *stepButton) setSelected(on bool) {
	if b.selected != on {
		b.selected = on
		b.Refresh()
	}
}

// Tapped shows the step.
func (b *stepButton) Tapped(*fyne.PointEvent) {
	if b.onTapped != nil {
		b.onTapped()
	}
}

// Cursor shows a pointing hand: the whole row is clickable.
func (b *stepButton) Cursor() desktop.Cursor { return desktop.PointerCursor }

// MouseIn highlights the row.
func (b *stepButton) MouseIn(*desktop.MouseEvent) { b.hovered = true; b.Refresh() }

// MouseMoved is needed for hovering; nothing changes.
func (b *stepButton) MouseMoved(*desktop.MouseEvent) {}

// MouseOut removes the highlight.
func (b *stepButton) MouseOut() { b.hovered = false; b.Refresh() }

// CreateRenderer draws the step.
func (b *stepButton) CreateRenderer() fyne.WidgetRenderer {
	r := &stepRenderer{
		b:      b,
		bg:     canvas.NewRectangle(color.Transparent),
		circle: canvas.NewCircle(color.Transparent),
		num:    canvas.NewText("", color.Black),
		title:  canvas.NewText("", color.Black),
		status: caption(""),
	}
	r.num.TextStyle.Bold = true
	r.num.Alignment = fyne.TextAlignCenter
	r.title.TextStyle.Bold = true
	r.status.Truncation = fyne.TextTruncateEllipsis
	r.Refresh()
	return r
}

type stepRenderer struct {
	b      *stepButton
	bg     *canvas.Rectangle
	circle *canvas.Circle
	num    *canvas.Text
	title  *canvas.Text
	status *subtle
}

const stepCircle = 28

func (r *stepRenderer) Layout(size fyne.Size) {
	pad := theme.Padding()
	r.bg.Resize(size)
	cy := (size.Height - stepCircle) / 2
	r.circle.Move(fyne.NewPos(2*pad, cy))
	r.circle.Resize(fyne.NewSize(stepCircle, stepCircle))
	ns := r.num.MinSize()
	r.num.Move(fyne.NewPos(2*pad, cy+(stepCircle-ns.Height)/2))
	r.num.Resize(fyne.NewSize(stepCircle, ns.Height))
	x := 4*pad + stepCircle
	ts := r.title.MinSize()
	ss := r.status.MinSize()
	top := (size.Height - ts.Height - ss.Height + 2*pad) / 2
	r.title.Move(fyne.NewPos(x, top))
	r.title.Resize(fyne.NewSize(size.Width-x-pad, ts.Height))
	// The label has its own inner padding: pull it left and up to line up
	// with the title.
	ip := theme.InnerPadding()
	r.status.Move(fyne.NewPos(x-ip, top+ts.Height-ip+pad))
	r.status.Resize(fyne.NewSize(size.Width-x+ip-pad, ss.Height))
}

func (r *stepRenderer) MinSize() fyne.Size {
	pad := theme.Padding()
	h := max(stepCircle+4*pad, r.title.MinSize().Height+r.status.MinSize().Height+pad)
	return fyne.NewSize(190, h)
}

func (r *stepRenderer) Refresh() {
	b := r.b
	fg := colorFor(b, theme.ColorNameForeground)
	primary := colorFor(b, theme.ColorNamePrimary)
	switch {
	case b.selected:
		r.bg.FillColor = withAlpha(primary, 0.14)
	case b.hovered:
		r.bg.FillColor = colorFor(b, theme.ColorNameHover)
	default:
		r.bg.FillColor = color.Transparent
	}
	r.bg.CornerRadius = 2 * theme.Padding()
	if b.selected {
		r.circle.FillColor = primary
		r.circle.StrokeWidth = 0
		r.num.Color = colorFor(b, theme.ColorNameForegroundOnPrimary)
		r.title.Color = primary
	} else {
		r.circle.FillColor = color.Transparent
		r.circle.StrokeColor = colorFor(b, theme.ColorNamePlaceHolder)
		r.circle.StrokeWidth = 1.5
		r.num.Color = fg
		r.title.Color = fg
	}
	r.num.Text = fmt.Sprint(b.number)
	r.title.Text = b.title
	r.title.TextSize = theme.TextSubHeadingSize() * 0.85
	r.num.TextSize = theme.TextSize()
	r.status.SetText(b.status)
	r.bg.Refresh()
	r.circle.Refresh()
	r.num.Refresh()
	r.title.Refresh()
	r.Layout(b.Size())
}

func (r *stepRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.bg, r.circle, r.num, r.title, r.status}
}

func (r *stepRenderer) Destroy() {}

// runsOnLine is the sidebar's line on where the image model really runs:
// the provider ONNX Runtime uses, not the one asked for, and when a
// provider chosen in Settings could not be used, that too.
func runsOnLine(st engineState) string {
	line := "Runs on " + st.device
	if fellBack(st) {
		line += ", not " + st.runsOn.Requested.String()
	}
	return line
}

// fellBack reports whether the provider chosen in Settings could not run
// the image model, so another one does.
func fellBack(st engineState) bool {
	r := st.runsOn
	return r.Requested != "" && r.Requested != onnxrt.Auto && r.Requested != r.Provider
}

// fallbackNote explains, as a sentence to append, why the provider chosen
// in Settings is not the one running; empty when it is.
func fallbackNote(st engineState) string {
	if !fellBack(st) {
		return ""
	}
	for _, s := range st.runsOn.Skipped {
		if s.Provider == st.runsOn.Requested {
			return fmt.Sprintf(" %s, chosen in Settings, cannot run here: %s.", s.Name, strings.TrimSuffix(s.Reason, "."))
		}
	}
	return ""
}
