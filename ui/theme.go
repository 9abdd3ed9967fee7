package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Appearance choices in Settings.
const (
	appearanceSystem = "system"
	appearanceLight  = "light"
	appearanceDark   = "dark"
)

// sizeNameDisplay is the text size of the big numbers on the Results
// screen; Fyne's largest built-in size (headings) is too small to read at
// a glance.
const sizeNameDisplay fyne.ThemeSizeName = "clasifica-display"

// appTheme is Fyne's default theme with Clasifica's extra size, and with
// the light or dark variant forced when the user chose one in Settings
// rather than following the system.
type appTheme struct {
	base    fyne.Theme
	variant fyne.ThemeVariant
	forced  bool
}

// newTheme returns the theme for an appearance setting.
func newTheme(appearance string) fyne.Theme {
	t := &appTheme{base: theme.DefaultTheme()}
	switch appearance {
	case appearanceLight:
		t.variant, t.forced = theme.VariantLight, true
	case appearanceDark:
		t.variant, t.forced = theme.VariantDark, true
	}
	return t
}

// Color returns the default theme's colour, in the forced variant if any.
func (t *appTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.forced {
		v = t.variant
	}
	return t.base.Color(n, v)
}

// Font returns the default theme's font.
func (t *appTheme) Font(s fyne.TextStyle) fyne.Resource { return t.base.Font(s) }

// Icon returns the default theme's icon.
func (t *appTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return t.base.Icon(n) }

// Size returns the default theme's sizes plus Clasifica's own.
func (t *appTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == sizeNameDisplay {
		return 34
	}
	return t.base.Size(n)
}
