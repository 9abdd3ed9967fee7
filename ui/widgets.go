package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// panel draws content on a rounded, theme-coloured background: the cards
// that group each screen's parts. Its colour is looked up again on every
// refresh, so panels follow the theme when it changes.
type panel struct {
	widget.BaseWidget
	content fyne.CanvasObject
	// tone is the theme colour of the background, alpha its opacity (0
	// means opaque); radius the corner radius and pad the inner padding,
	// in multiples of the theme's padding.
	tone   fyne.ThemeColorName
	alpha  float64
	radius float32
	pad    float32
}

// newPanel returns a card: content on the input background colour.
func newPanel(content fyne.CanvasObject) *panel {
	p := &panel{content: content, tone: theme.ColorNameInputBackground, radius: 2, pad: 3}
	p.ExtendBaseWidget(p)
	return p
}

// newTinted returns a panel tinted with a theme colour, for notices.
func newTinted(tone fyne.ThemeColorName, content fyne.CanvasObject) *panel {
	p := &panel{content: content, tone: tone, alpha: 0.14, radius: 2, pad: 2}
	p.ExtendBaseWidget(p)
	return p
}

// CreateRenderer draws the panel.
func (p *panel) CreateRenderer() fyne.WidgetRenderer {
	r := &panelRenderer{p: p, bg: canvas.NewRectangle(color.Transparent)}
	r.Refresh()
	return r
}

type panelRenderer struct {
	p  *panel
	bg *canvas.Rectangle
}

func (r *panelRenderer) padding() float32 { return r.p.pad * theme.Padding() }

func (r *panelRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	pad := r.padding()
	r.p.content.Move(fyne.NewPos(pad, pad))
	r.p.content.Resize(fyne.NewSize(size.Width-2*pad, size.Height-2*pad))
}

func (r *panelRenderer) MinSize() fyne.Size {
	pad := r.padding()
	return r.p.content.MinSize().Add(fyne.NewSize(2*pad, 2*pad))
}

func (r *panelRenderer) Refresh() {
	c := colorFor(r.p, r.p.tone)
	if r.p.alpha > 0 {
		c = withAlpha(c, r.p.alpha)
	}
	r.bg.FillColor = c
	r.bg.CornerRadius = r.p.radius * theme.Padding()
	r.bg.Refresh()
}

func (r *panelRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.p.content} }
func (r *panelRenderer) Destroy()                     {}

// subtle is secondary text (captions, hints, explanations) in the
// theme's placeholder colour. Fyne's low-importance labels use the
// disabled colour, which is too faint to read on either theme.
type subtle struct {
	widget.RichText
	seg *widget.TextSegment
}

// newSubtle returns secondary text at a theme text size.
func newSubtle(text string, size fyne.ThemeSizeName) *subtle {
	s := &subtle{seg: &widget.TextSegment{Text: text, Style: widget.RichTextStyle{
		ColorName: theme.ColorNamePlaceHolder, SizeName: size, Inline: true}}}
	s.Segments = []widget.RichTextSegment{s.seg}
	s.Scroll = fyne.ScrollNone
	s.ExtendBaseWidget(s)
	return s
}

// caption returns small secondary text.
func caption(text string) *subtle { return newSubtle(text, theme.SizeNameCaptionText) }

// SetText changes the text.
func (s *subtle) SetText(text string) {
	if s.seg.Text != text {
		s.seg.Text = text
		s.Refresh()
	}
}

// Text returns the text.
func (s *subtle) Text() string { return s.seg.Text }

// heading returns a screen's title with a line saying what to do there.
func heading(title, subtitle string) (*widget.Label, *subtle) {
	t := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.SizeName = theme.SizeNameHeadingText
	s := newSubtle(subtitle, theme.SizeNameText)
	s.Wrapping = fyne.TextWrapWord
	return t, s
}

// header lays out a screen's heading with its actions on the right.
func header(title *widget.Label, subtitle *subtle, actions ...fyne.CanvasObject) fyne.CanvasObject {
	right := container.NewHBox(actions...)
	return container.NewBorder(nil, nil, nil, container.NewCenter(right), titleBlock(title, subtitle))
}

// titleBlock stacks a title and its subtitle closely.
func titleBlock(title *widget.Label, subtitle *subtle) fyne.CanvasObject {
	return container.New(tightVBox{gap: -theme.Padding()}, title, subtitle)
}

// wrapped returns a label that wraps at word boundaries.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// bold returns a label in bold.
func bold(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// notice is a tinted message with an icon and optional actions: the
// offline backbone, warnings about photos, a finished training.
type notice struct {
	widget.BaseWidget
	bg      *panel
	icon    *widget.Icon
	text    *widget.Label
	actions *fyne.Container
}

// newNotice returns a notice in the tone of a theme colour (primary,
// warning, error or success).
func newNotice(tone fyne.ThemeColorName, text string, actions ...fyne.CanvasObject) *notice {
	n := &notice{text: wrapped(text)}
	return n.build(tone, n.text, actions)
}

// newNoticeWith returns a notice showing content instead of a sentence.
func newNoticeWith(tone fyne.ThemeColorName, content fyne.CanvasObject, actions ...fyne.CanvasObject) *notice {
	n := &notice{text: wrapped("")}
	return n.build(tone, content, actions)
}

func (n *notice) build(tone fyne.ThemeColorName, content fyne.CanvasObject, actions []fyne.CanvasObject) *notice {
	n.icon = widget.NewIcon(toneIcon(tone))
	n.actions = container.NewHBox(actions...)
	// The text is centred vertically, beside buttons taller than a line.
	middle := container.NewVBox(layout.NewSpacer(), content, layout.NewSpacer())
	body := container.NewBorder(nil, nil, container.NewCenter(n.icon), container.NewCenter(n.actions), middle)
	n.bg = newTinted(tone, body)
	n.ExtendBaseWidget(n)
	return n
}

// CreateRenderer draws the notice's panel.
func (n *notice) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(n.bg) }

// set changes the notice's tone, text and actions.
func (n *notice) set(tone fyne.ThemeColorName, text string, actions ...fyne.CanvasObject) {
	n.bg.tone = tone
	n.icon.SetResource(toneIcon(tone))
	n.text.SetText(text)
	n.actions.Objects = actions
	n.actions.Refresh()
	n.bg.Refresh()
}

// toneIcon returns the icon that goes with a notice's tone.
func toneIcon(tone fyne.ThemeColorName) fyne.Resource {
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

// fixedWidth lays its objects out one above the other at a fixed width,
// so that wrapped text in a centred block keeps a readable line length.
type fixedWidth struct{ width float32 }

func (f fixedWidth) MinSize(objects []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for i, o := range objects {
		if !o.Visible() {
			continue
		}
		// A wrapping label's height depends on its width: size it first.
		o.Resize(fyne.NewSize(f.width, o.MinSize().Height))
		h += o.MinSize().Height
		if i > 0 {
			h += theme.Padding()
		}
	}
	return fyne.NewSize(f.width, h)
}

func (f fixedWidth) Layout(objects []fyne.CanvasObject, size fyne.Size) {
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

// emptyState is what a screen shows before there is anything to show: a
// large icon, a title, a sentence of guidance and the buttons to start.
func emptyState(icon fyne.Resource, title, text string, buttons ...fyne.CanvasObject) fyne.CanvasObject {
	img := widget.NewIcon(icon)
	t := widget.NewLabelWithStyle(title, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	t.SizeName = theme.SizeNameSubHeadingText
	body := newSubtle(text, theme.SizeNameText)
	body.Wrapping = fyne.TextWrapWord
	body.seg.Style.Alignment = fyne.TextAlignCenter
	block := container.New(fixedWidth{width: 460},
		container.NewCenter(container.NewGridWrap(fyne.NewSize(80, 80), img)),
		t, body,
		container.NewCenter(container.NewHBox(buttons...)))
	return container.NewCenter(block)
}

// spacer returns a fixed gap.
func spacer(h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(1, h))
	return r
}

// vfill stacks objects with the last one taking the remaining height.
func vfill(top []fyne.CanvasObject, fill fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(container.NewVBox(top...), nil, nil, nil, fill)
}
