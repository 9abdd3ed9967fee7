package ui

import (
	"image"
	"image/color"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
)

// thumbLoader makes the previews thumbs show.
type thumbLoader = *app.Thumbnails

// thumb shows a photo's preview, loaded lazily: setting a path asks the
// window's thumbnail loader for it and shows a placeholder until it comes.
// Galleries recycle thumbs as they scroll, so a preview that arrives for a
// path the thumb no longer shows is dropped, and one no thumb shows any
// more is never made.
type thumb struct {
	widget.BaseWidget
	loader *app.Thumbnails
	size   fyne.Size

	path   string
	shown  atomic.Pointer[string] // path, readable by the loader's workers
	img    image.Image
	failed bool
}

// newThumb returns an empty thumb of the given size.
func newThumb(loader *app.Thumbnails, size fyne.Size) *thumb {
	t := &thumb{loader: loader, size: size}
	t.shown.Store(new(string))
	t.ExtendBaseWidget(t)
	return t
}

// setPath shows the photo at path ("" for none).
func (t *thumb) setPath(path string) {
	if path == t.path {
		return
	}
	t.path = path
	p := path
	t.shown.Store(&p)
	t.img, t.failed = nil, false
	if path != "" {
		if th, ok := t.loader.Cached(path); ok {
			t.img, t.failed = th.Image, th.Err != nil
		} else {
			t.loader.Load(path, func() bool { return *t.shown.Load() == path }, func(th app.Thumb) {
				fyne.Do(func() {
					if t.path == path {
						t.img, t.failed = th.Image, th.Err != nil
						t.Refresh()
					}
				})
			})
		}
	}
	t.Refresh()
}

// MinSize is the thumb's fixed size.
func (t *thumb) MinSize() fyne.Size { return t.size }

// CreateRenderer draws the preview, or a placeholder.
func (t *thumb) CreateRenderer() fyne.WidgetRenderer {
	r := &thumbRenderer{t: t, bg: canvas.NewRectangle(color.Transparent), icon: widget.NewIcon(nil), img: canvas.NewImageFromImage(nil)}
	r.img.FillMode = canvas.ImageFillCover
	r.img.ScaleMode = canvas.ImageScaleSmooth
	r.Refresh()
	return r
}

type thumbRenderer struct {
	t    *thumb
	bg   *canvas.Rectangle
	icon *widget.Icon
	img  *canvas.Image
}

func (r *thumbRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	r.img.Resize(size)
	s := min(size.Width, size.Height, 32)
	r.icon.Resize(fyne.NewSquareSize(s))
	r.icon.Move(fyne.NewPos((size.Width-s)/2, (size.Height-s)/2))
}

func (r *thumbRenderer) MinSize() fyne.Size { return r.t.size }

func (r *thumbRenderer) Refresh() {
	radius := theme.Padding()
	r.bg.FillColor = colorFor(r.t, theme.ColorNameInputBorder)
	r.bg.CornerRadius = radius
	r.bg.Refresh()
	r.img.CornerRadius = radius
	if r.t.img != nil {
		r.img.Image = r.t.img
		r.img.Show()
		r.icon.Hide()
	} else {
		r.img.Image = nil
		r.img.Hide()
		if r.t.failed {
			r.icon.SetResource(theme.BrokenImageIcon())
		} else {
			r.icon.SetResource(theme.MediaPhotoIcon())
		}
		r.icon.Show()
	}
	r.img.Refresh()
}

func (r *thumbRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.bg, r.icon, r.img}
}

func (r *thumbRenderer) Destroy() {}
