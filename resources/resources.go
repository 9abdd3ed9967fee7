// Package resources holds Clasifica's bundled assets: the application icon
// (drawn as icon.svg; icon.png is rendered from it for window managers and
// packagers, which want a bitmap).
package resources

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed icon.png
var iconPNG []byte

//go:embed icon.svg
var iconSVG []byte

// Icon is the application icon as a bitmap, for windows and packages.
var Icon = fyne.NewStaticResource("clasifica.png", iconPNG)

// Logo is the application icon as a vector drawing, crisp at any size.
var Logo = fyne.NewStaticResource("clasifica.svg", iconSVG)
