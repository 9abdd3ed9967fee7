package widgets

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// ColorFor returns a theme colour as the widget w sees it (inside theme
// overrides too).
func ColorFor(w fyne.Widget, n fyne.ThemeColorName) color.Color {
	return theme.ColorForWidget(n, w)
}

// WithAlpha returns c with its opacity scaled by a in [0, 1]; tinted
// backgrounds are made from theme colours this way so that they suit both
// light and dark themes.
func WithAlpha(c color.Color, a float64) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = uint8(float64(n.A)*a + 0.5)
	return n
}

// SeriesColors are the two lines of the training chart: training in the
// theme's primary colour, validation in its warning colour, which differ
// in hue and lightness in both variants.
var SeriesColors = [2]fyne.ThemeColorName{theme.ColorNamePrimary, theme.ColorNameWarning}
