package ui

import (
	"image"

	"github.com/clasifica/clasifica/app"
)

// thumbnails lends the window's thumbnail cache to the widgets' thumbs,
// which know nothing of the application.
type thumbnails struct{ *app.Thumbnails }

// Cached implements widgets.Thumbnails.
func (t thumbnails) Cached(path string) (image.Image, bool) {
	th, ok := t.Thumbnails.Cached(path)
	return th.Image, ok
}

// Load implements widgets.Thumbnails.
func (t thumbnails) Load(path string, wanted func() bool, done func(image.Image)) {
	t.Thumbnails.Load(path, wanted, func(th app.Thumb) { done(th.Image) })
}
