package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// find returns the first shown object under o that match accepts.
func find[T fyne.CanvasObject](o fyne.CanvasObject, match func(T) bool) T {
	var found T
	done := false
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || done {
			return
		}
		if v, ok := o.(T); ok && match(v) {
			found, done = v, true
			return
		}
		if !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return found
}

// checkLookedAt opens the first classified photo large and ticks "Show
// what it looked at": the heatmap comes over the photo, with the words
// that explain it.
func checkLookedAt(t *testing.T, w *testWindow) {
	t.Helper()
	var p = w.classify.preds[0]
	for _, q := range w.classify.preds {
		if q.Err == nil {
			p = q
			break
		}
	}
	w.showPhoto(photoDetail{path: p.Path, top: p.Top})
	w.settle()
	o := w.overlay()
	check := find(o, func(c *widget.Check) bool { return c.Text == "Show what it looked at" })
	if check == nil {
		t.Fatal("the large view has no \"Show what it looked at\"")
	}
	heat := find(o, func(i *canvas.Image) bool { return !i.Visible() })
	check.SetChecked(true)
	w.settle()
	if heat == nil || !heat.Visible() || heat.Image == nil {
		t.Fatalf("no heatmap over the photo")
	}
	mustShow(t, o, "where the model found the evidence for "+p.Label())
	check.SetChecked(false)
	if heat.Visible() {
		t.Error("the heatmap stays after unticking")
	}
	w.dialog.Hide()
}
