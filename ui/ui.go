// Package ui is Clasifica's desktop app, built with Fyne: one window in
// four steps (Data, Train, Results, Classify) over the application core in
// package app. Screens hold no machine learning; slow work runs on
// background goroutines and comes back to the screen through fyne.Do.
package ui

import (
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/resources"
)

// AppID identifies Clasifica to Fyne: desktop environments group its
// windows by it, and Fyne keeps its preferences, where settings were
// before the settings file, under it.
const AppID = "io.github.clasifica"

// Run opens the desktop window and returns when it closes. A model file
// given in open (the file a desktop's "Open with" passes) is opened in it.
func Run(a *app.App, open ...string) error {
	fa := fyneapp.NewWithID(AppID)
	fa.SetIcon(resources.Icon)
	// Before any window and before the runtime loads: the CUDA libraries'
	// folders go on the loader's path by starting again with them.
	// Only peeked at: PrepareCUDA may start the process again, and the
	// window's process migrates the settings or reports a damaged file.
	settings := a.PeekSettings(func() app.Settings { return oldSettings(fa.Preferences()) })
	app.PrepareCUDA(settings.Runtime, a.Dirs)
	// Moves a crash or a kill interrupted are settled before anything
	// reads the photos.
	recovered, rerr := a.RecoverMoves()
	w := newWindow(fa, a)
	w.reportRecovered(recovered, rerr)
	for _, p := range open {
		w.loadModel(p)
	}
	w.win.SetMaster()
	// Sized to the screen before it shows, from the desktop's scale; once
	// shown, again at the canvas's own scale, where they differ.
	fitToScreen(w.win, contentScale())
	fa.Lifecycle().SetOnStarted(func() {
		if fitToScreen(w.win, w.win.Canvas().Scale()) {
			w.win.CenterOnScreen() // placed for the size it had
		}
		w.started()
	})
	w.win.CenterOnScreen()
	w.win.ShowAndRun()
	w.shutdown()
	return nil
}
