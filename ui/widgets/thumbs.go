package widgets

import (
	"image"
	"image/color"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Thumbnails makes the previews thumbs show, off the UI goroutine, keeping
// the recent ones (app.Thumbnails does).
type Thumbnails interface {
	// Cached returns the preview of path if it is already made: the
	// image, or nil when the photo could not be read.
	Cached(path string) (img image.Image, ok bool)
	// Load makes the preview of path in the background, unless wanted
	// reports false by the time its turn comes, and hands it to done,
	// on another goroutine; img is nil when the photo cannot be read.
	Load(path string, wanted func() bool, done func(img image.Image))
}

// Thumb shows a photo's preview, loaded lazily: setting a path asks the
// window's thumbnail loader for it and shows a placeholder until it comes.
// Galleries recycle thumbs as they scroll, so a preview that arrives for a
// path the thumb no longer shows is dropped, and one no thumb shows any
// more is never made.
type Thumb struct {
	widget.BaseWidget
	loader Thumbnails
	size   fyne.Size

	path   string
	shown  atomic.Pointer[string] // path, readable by the loader's workers
	img    image.Image
	failed bool
}

// NewThumb returns an empty thumb of the given size.
func NewThumb(loader Thumbnails, size fyne.Size) *Thumb {
	t := &Thumb{loader: loader, size: size}
	t.shown.Store(new(string))
	t.ExtendBaseWidget(t)
	return t
}

// SetPath shows the photo at path ("" for none).
func (t *Thumb) SetPath(path string) {
	if path == t.path {
		return
	}
	t.path = path
	p := path
	t.shown.Store(&p)
	t.img, t.failed = nil, false
	if path != "" {
		if img, ok := t.loader.Cached(path); ok {
			t.img, t.failed = img, img == nil
		} else {
			t.loader.Load(path, func() bool { return *t.shown.Load() == path }, func(img image.Image) {
				fyne.Do(func() {
					if t.path == path {
						t.img, t.failed = img, img == nil
						t.Refresh()
					}
				})
			})
		}
	}
	t.Refresh()
}

// Image returns the preview shown, or nil while it loads or when the photo
// cannot be read.
func (t *Thumb) Image() image.Image { return t.img }

// Path returns the photo shown, "" for none.
func (t *Thumb) Path() string { return t.path }

// MinSize is the thumb's fixed size.
func (t *Thumb) MinSize() fyne.Size { return t.size }

// CreateRenderer draws the preview, or a placeholder.
func (t *Thumb) CreateRenderer() fyne.WidgetRenderer {
	r := &thumbRenderer{t: t, bg: canvas.NewRectangle(color.Transparent), icon: widget.NewIcon(nil), img: canvas.NewImageFromImage(nil)}
	r.img.FillMode = canvas.ImageFillCover
	r.img.ScaleMode = canvas.ImageScaleSmooth
	r.Refresh()
	return r
}

type thumbRenderer struct {
	t    *Thumb
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
	r.bg.FillColor = ColorFor(r.t, theme.ColorNameInputBorder)
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
