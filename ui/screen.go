package ui

import (
	"fyne.io/fyne/v2"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// startSize is the size the window asks for on a screen large enough.
var startSize = fyne.NewSize(1240, 800)

// titleBar is what a window manager's title bar takes from the screen's
// work area, in pixels at scale 1.
const titleBar = 40

// screenRoom returns the work area of the primary screen (the screen less
// panels and docks) in pixels, or false where it is not known: before the
// desktop driver has started, or under the test driver.
func screenRoom() (w, h int, ok bool) {
	defer func() {
		// glfw panics when it is not initialised (tests, other drivers).
		if recover() != nil {
			ok = false
		}
	}()
	m := glfw.GetPrimaryMonitor()
	if m == nil {
		return 0, 0, false
	}
	_, _, w, h = m.GetWorkarea()
	return w, h, w > 0 && h > 0
}

// fitToScreen makes the window no larger than the screen's work area at
// the canvas's scale, keeping startSize where there is room. Fyne never
// makes a window smaller than its content, which the screens keep within
// 1024×600 (TestScreensFit).
func fitToScreen(win fyne.Window, scale float32) {
	w, h, ok := screenRoom()
	if !ok {
		return
	}
	if scale <= 0 {
		scale = 1
	}
	room := fyne.NewSize(float32(w)/scale, float32(h-titleBar)/scale)
	size := startSize.Min(room)
	if size != win.Canvas().Size() {
		win.Resize(size)
	}
}

// contentScale is the primary screen's scale as the desktop sets it
// (96 dpi is 1), the best guess of Fyne's scale before the window exists.
func contentScale() (s float32) {
	defer func() {
		if recover() != nil {
			s = 1
		}
	}()
	m := glfw.GetPrimaryMonitor()
	if m == nil {
		return 1
	}
	x, _ := m.GetContentScale()
	if x <= 0 {
		return 1
	}
	return x
}
