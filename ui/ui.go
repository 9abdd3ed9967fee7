// Package ui is Clasifica's desktop app, built with Fyne.
package ui

import (
	"errors"

	"github.com/clasifica/clasifica/app"
)

// Run opens the desktop window and returns when it closes.
func Run(a *app.App) error {
	return errors.New("the desktop app is not built yet")
}
