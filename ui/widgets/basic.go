package widgets

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Panel draws content on a rounded, theme-coloured background: the cards
// that group each screen's parts. Its colour is looked up again on every
// refresh, so panels follow the theme when it changes.
type Panel struct {
	widget.BaseWidget
	Content fyne.CanvasObject
	// tone is the theme colour of the background, alpha its opacity (0
	// means opaque); radius the corner radius and pad the inner padding,
	// in multiples of the theme's padding.
	Tone   fyne.ThemeColorName
	Alpha  float64
	Radius float32
	Pad    float32
}

// NewPanel returns a card: content on the input background colour.
func NewPanel(content fyne.CanvasObject) *Panel {
	p := &Panel{Content: content, Tone: theme.ColorNameInputBackground, Radius: 2, Pad: 3}
	p.ExtendBaseWidget(p)
	return p
}

// NewTinted returns a panel tinted with a theme colour, for notices.
func NewTinted(tone fyne.ThemeColorName, content fyne.CanvasObject) *Panel {
	p := &Panel{Content: content, Tone: tone, Alpha: 0.14, Radius: 2, Pad: 2}
	p.ExtendBaseWidget(p)
	return p
}

// CreateRenderer draws the panel.
func (p *Panel) CreateRenderer() fyne.WidgetRenderer {
	r := &panelRenderer{p: p, bg: canvas.NewRectangle(color.Transparent)}
	r.Refresh()
	return r
}

type panelRenderer struct {
	p  *Panel
	bg *canvas.Rectangle
}

func (r *panelRenderer) padding() float32 { return r.p.Pad * theme.Padding() }

func (r *panelRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	pad := r.padding()
	r.p.Content.Move(fyne.NewPos(pad, pad))
	r.p.Content.Resize(fyne.NewSize(size.Width-2*pad, size.Height-2*pad))
}

func (r *panelRenderer) MinSize() fyne.Size {
	pad := r.padding()
	return r.p.Content.MinSize().Add(fyne.NewSize(2*pad, 2*pad))
}

func (r *panelRenderer) Refresh() {
	c := ColorFor(r.p, r.p.Tone)
	if r.p.Alpha > 0 {
		c = WithAlpha(c, r.p.Alpha)
	}
	r.bg.FillColor = c
	r.bg.CornerRadius = r.p.Radius * theme.Padding()
	r.bg.Refresh()
}

func (r *panelRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.p.Content} }
func (r *panelRenderer) Destroy()                     {}

// Subtle is secondary text (captions, hints, explanations) in the
// theme's placeholder colour. Fyne's low-importance labels use the
// disabled colour, which is too faint to read on either theme.
type Subtle struct {
	widget.RichText
	seg *widget.TextSegment
}

// NewSubtle returns secondary text at a theme text size.
func NewSubtle(text string, size fyne.ThemeSizeName) *Subtle {
	s := &Subtle{seg: &widget.TextSegment{Text: text, Style: widget.RichTextStyle{
		ColorName: theme.ColorNamePlaceHolder, SizeName: size, Inline: true}}}
	s.Segments = []widget.RichTextSegment{s.seg}
	s.Scroll = fyne.ScrollNone
	s.ExtendBaseWidget(s)
	return s
}

// Caption returns small secondary text.
func Caption(text string) *Subtle { return NewSubtle(text, theme.SizeNameCaptionText) }

// SetText changes the text.
func (s *Subtle) SetText(text string) {
	if s.seg.Text != text {
		s.seg.Text = text
		s.Refresh()
	}
}

// Text returns the text.
func (s *Subtle) Text() string { return s.seg.Text }

// SetAlignment aligns the text.
func (s *Subtle) SetAlignment(a fyne.TextAlign) {
	s.seg.Style.Alignment = a
	s.Refresh()
}

// Heading returns a screen's title with a line saying what to do there.
func Heading(title, subtitle string) (*widget.Label, *Subtle) {
	t := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.SizeName = theme.SizeNameHeadingText
	s := NewSubtle(subtitle, theme.SizeNameText)
	s.Wrapping = fyne.TextWrapWord
	return t, s
}

// Header lays out a screen's heading with its actions on the right.
func Header(title *widget.Label, subtitle *Subtle, actions ...fyne.CanvasObject) fyne.CanvasObject {
	right := container.NewHBox(actions...)
	return container.NewBorder(nil, nil, nil, container.NewCenter(right), TitleBlock(title, subtitle))
}

// TitleBlock stacks a title and its subtitle closely.
func TitleBlock(title *widget.Label, subtitle *Subtle) fyne.CanvasObject {
	return container.New(TightVBox{Gap: -theme.Padding()}, title, subtitle)
}

// Wrapped returns a label that wraps at word boundaries.
func Wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// Bold returns a label in bold.
func Bold(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// Notice is a tinted message with an icon and optional actions: the
// offline backbone, warnings about photos, a finished training.
type Notice struct {
	widget.BaseWidget
	bg      *Panel
	icon    *widget.Icon
	text    *widget.Label
	actions *fyne.Container
}

// NewNotice returns a notice in the tone of a theme colour (primary,
// warning, error or success).
func NewNotice(tone fyne.ThemeColorName, text string, actions ...fyne.CanvasObject) *Notice {
	n := &Notice{text: Wrapped(text)}
	return n.build(tone, n.text, actions)
}

// NewNoticeWith returns a notice showing content instead of a sentence.
func NewNoticeWith(tone fyne.ThemeColorName, content fyne.CanvasObject, actions ...fyne.CanvasObject) *Notice {
	n := &Notice{text: Wrapped("")}
	return n.build(tone, content, actions)
}

func (n *Notice) build(tone fyne.ThemeColorName, content fyne.CanvasObject, actions []fyne.CanvasObject) *Notice {
	n.icon = widget.NewIcon(ToneIcon(tone))
	n.actions = container.NewHBox(actions...)
	// The text is centred vertically, beside buttons taller than a line.
	middle := container.NewVBox(layout.NewSpacer(), content, layout.NewSpacer())
	body := container.NewBorder(nil, nil, container.NewCenter(n.icon), container.NewCenter(n.actions), middle)
	n.bg = NewTinted(tone, body)
	n.ExtendBaseWidget(n)
	return n
}

// CreateRenderer draws the notice's panel.
func (n *Notice) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(n.bg) }

// Set changes the notice's tone, text and actions.
func (n *Notice) Set(tone fyne.ThemeColorName, text string, actions ...fyne.CanvasObject) {
	n.bg.Tone = tone
	n.icon.SetResource(ToneIcon(tone))
	n.text.SetText(text)
	n.actions.Objects = actions
	n.actions.Refresh()
	n.bg.Refresh()
}

// ToneIcon returns the icon that goes with a notice's tone.
func ToneIcon(tone fyne.ThemeColorName) fyne.Resource {
	switch tone {
	case theme.ColorNameWarning:
		return theme.NewWarningThemedResource(theme.WarningIcon())
	case theme.ColorNameError:
		return theme.NewErrorThemedResource(theme.ErrorIcon())
	case theme.ColorNameSuccess:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	}
	return theme.NewPrimaryThemedResource(theme.InfoIcon())
}

// FixedWidth lays its objects out one above the other at a fixed width,
// so that wrapped text in a centred block keeps a readable line length.
type FixedWidth struct{ Width float32 }

func (f FixedWidth) MinSize(objects []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for i, o := range objects {
		if !o.Visible() {
			continue
		}
		// A wrapping label's height depends on its width: size it first.
		o.Resize(fyne.NewSize(f.Width, o.MinSize().Height))
		h += o.MinSize().Height
		if i > 0 {
			h += theme.Padding()
		}
	}
	return fyne.NewSize(f.Width, h)
}

func (f FixedWidth) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objects {
		if !o.Visible() {
			continue
		}
		o.Resize(fyne.NewSize(size.Width, o.MinSize().Height))
		o.Resize(fyne.NewSize(size.Width, o.MinSize().Height))
		o.Move(fyne.NewPos(0, y))
		y += o.Size().Height + theme.Padding()
	}
}

// EmptyState is what a screen shows before there is anything to show: a
// large icon, a title, a sentence of guidance and the buttons to start.
func EmptyState(icon fyne.Resource, title, text string, buttons ...fyne.CanvasObject) fyne.CanvasObject {
	img := widget.NewIcon(icon)
	t := widget.NewLabelWithStyle(title, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	t.SizeName = theme.SizeNameSubHeadingText
	body := NewSubtle(text, theme.SizeNameText)
	body.Wrapping = fyne.TextWrapWord
	body.seg.Style.Alignment = fyne.TextAlignCenter
	block := container.New(FixedWidth{Width: 460},
		container.NewCenter(container.NewGridWrap(fyne.NewSize(80, 80), img)),
		t, body,
		container.NewCenter(container.NewHBox(buttons...)))
	return container.NewCenter(block)
}

// Spacer returns a fixed gap.
func Spacer(h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(1, h))
	return r
}

// VFill stacks objects with the last one taking the remaining height.
func VFill(top []fyne.CanvasObject, fill fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(container.NewVBox(top...), nil, nil, nil, fill)
}
