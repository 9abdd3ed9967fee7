package widgets

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ConfidenceBar draws a probability as a short bar.
type ConfidenceBar struct {
	widget.BaseWidget
	value float64
	tone  fyne.ThemeColorName
}

func NewConfidenceBar() *ConfidenceBar {
	b := &ConfidenceBar{tone: theme.ColorNamePrimary}
	b.ExtendBaseWidget(b)
	return b
}

// Set changes the value (0–1) and colour.
func (b *ConfidenceBar) Set(v float64, tone fyne.ThemeColorName) {
	if b.value != v || b.tone != tone {
		b.value, b.tone = v, tone
		b.Refresh()
	}
}

// CreateRenderer draws the bar.
func (b *ConfidenceBar) CreateRenderer() fyne.WidgetRenderer {
	r := &barRenderer{b: b, track: canvas.NewRectangle(color.Transparent), fill: canvas.NewRectangle(color.Transparent)}
	r.Refresh()
	return r
}

type barRenderer struct {
	b           *ConfidenceBar
	track, fill *canvas.Rectangle
}

func (r *barRenderer) Layout(size fyne.Size) {
	h := float32(6)
	y := (size.Height - h) / 2
	r.track.Move(fyne.NewPos(0, y))
	r.track.Resize(fyne.NewSize(size.Width, h))
	r.fill.Move(fyne.NewPos(0, y))
	r.fill.Resize(fyne.NewSize(size.Width*float32(min(max(r.b.value, 0), 1)), h))
}

func (r *barRenderer) MinSize() fyne.Size { return fyne.NewSize(40, 10) }

func (r *barRenderer) Refresh() {
	r.track.FillColor = ColorFor(r.b, theme.ColorNameInputBorder)
	r.fill.FillColor = ColorFor(r.b, r.b.tone)
	r.track.CornerRadius, r.fill.CornerRadius = 3, 3
	r.track.Refresh()
	r.fill.Refresh()
	r.Layout(r.b.Size())
}

func (r *barRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.track, r.fill} }
func (r *barRenderer) Destroy()                     {}

// CardSize is the size of a photo card in the galleries.
var CardSize = fyne.NewSize(172, 246)

// PhotoCard shows a classified photo: its preview, the predicted label
// with a confidence bar, and a line under it (the true label of a
// mistake, a file name, or why the photo could not be read). Results mark
// right and wrong answers with a coloured frame and a tick or cross.
type PhotoCard struct {
	widget.BaseWidget
	Thumb    *Thumb
	Label    *widget.Label
	Value    *Subtle
	Bar      *ConfidenceBar
	Sub      *Subtle
	mark     *widget.Icon
	markBg   *canvas.Circle
	frame    *canvas.Rectangle
	bg       *canvas.Rectangle
	tone     fyne.ThemeColorName // the frame: success, error or none
	hovered  bool
	OnTapped func()
	content  fyne.CanvasObject
}

func NewPhotoCard(loader Thumbnails) *PhotoCard {
	c := &PhotoCard{
		Thumb:  NewThumb(loader, fyne.NewSize(CardSize.Width-2*theme.Padding(), 150)),
		Label:  Bold(""),
		Value:  Caption(""),
		Bar:    NewConfidenceBar(),
		Sub:    Caption(""),
		mark:   widget.NewIcon(nil),
		markBg: canvas.NewCircle(color.Transparent),
		frame:  canvas.NewRectangle(color.Transparent),
		bg:     canvas.NewRectangle(color.Transparent),
	}
	c.Label.Truncation = fyne.TextTruncateEllipsis
	c.Sub.Truncation = fyne.TextTruncateEllipsis
	c.Value.seg.Style.Alignment = fyne.TextAlignTrailing
	markBox := container.NewVBox(container.NewHBox(layout.NewSpacer(),
		container.NewGridWrap(fyne.NewSquareSize(26), container.NewStack(c.markBg, c.mark))))
	photo := container.NewStack(c.Thumb, container.NewPadded(markBox))
	barRow := container.NewBorder(nil, nil, nil, c.Value, c.Bar)
	pad := theme.Padding()
	tight := func(objs ...fyne.CanvasObject) fyne.CanvasObject {
		return container.New(TightVBox{Gap: -2 * pad}, objs...)
	}
	body := container.NewBorder(photo, nil, nil, nil, tight(c.Label, barRow, c.Sub))
	c.content = container.NewStack(c.bg, c.frame, container.NewPadded(body))
	c.ExtendBaseWidget(c)
	return c
}

// Tone returns the frame's theme colour: success, error, or "" for none.
func (c *PhotoCard) Tone() fyne.ThemeColorName { return c.tone }

// SetTone frames the card as right (success), wrong (error) or neither.
func (c *PhotoCard) SetTone(tone fyne.ThemeColorName) {
	c.tone = tone
	switch tone {
	case theme.ColorNameSuccess:
		c.mark.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	case theme.ColorNameError:
		c.mark.SetResource(theme.NewErrorThemedResource(theme.CancelIcon()))
	default:
		c.mark.SetResource(nil)
	}
	c.Refresh()
}

// Tapped opens the photo large.
func (c *PhotoCard) Tapped(*fyne.PointEvent) {
	if c.OnTapped != nil {
		c.OnTapped()
	}
}

// Cursor shows that the card opens.
func (c *PhotoCard) Cursor() desktop.Cursor { return desktop.PointerCursor }

// MouseIn highlights the card.
func (c *PhotoCard) MouseIn(*desktop.MouseEvent) { c.hovered = true; c.Refresh() }

// MouseMoved is needed for hovering; nothing changes.
func (c *PhotoCard) MouseMoved(*desktop.MouseEvent) {}

// MouseOut removes the highlight.
func (c *PhotoCard) MouseOut() { c.hovered = false; c.Refresh() }

// MinSize is the fixed card size, which the grids need.
func (c *PhotoCard) MinSize() fyne.Size { return CardSize }

// CreateRenderer lays out the card.
func (c *PhotoCard) CreateRenderer() fyne.WidgetRenderer {
	return &cardRenderer{c: c, WidgetRenderer: widget.NewSimpleRenderer(c.content)}
}

type cardRenderer struct {
	fyne.WidgetRenderer
	c *PhotoCard
}

func (r *cardRenderer) Refresh() {
	c := r.c
	c.bg.FillColor = ColorFor(c, theme.ColorNameInputBackground)
	if c.hovered {
		c.bg.FillColor = ColorFor(c, theme.ColorNameHover)
	}
	c.bg.CornerRadius = 2 * theme.Padding()
	c.frame.FillColor = color.Transparent
	c.frame.CornerRadius = 2 * theme.Padding()
	c.frame.StrokeWidth = 0
	if c.tone != "" {
		c.frame.StrokeColor = ColorFor(c, c.tone)
		c.frame.StrokeWidth = 2
	}
	c.markBg.FillColor = color.Transparent
	if c.tone != "" {
		c.markBg.FillColor = ColorFor(c, theme.ColorNameBackground)
	}
	c.bg.Refresh()
	c.frame.Refresh()
	c.markBg.Refresh()
	r.WidgetRenderer.Refresh()
}

// TightVBox stacks objects with a fixed gap, which may be negative to
// pull labels' own padding together.
type TightVBox struct{ Gap float32 }

func (l TightVBox) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for i, o := range objects {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
		if i > 0 {
			s.Height += l.Gap
		}
	}
	return s
}

func (l TightVBox) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objects {
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h + l.Gap
	}
}
