package ui

import (
	"context"
	"fmt"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	gradcam "github.com/clasifica/clasifica/ml/explain"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ui/widgets"
)

// heatSide is the longest side of the heatmap picture laid over a photo;
// the canvas scales it smoothly, and the map has only 8×8 cells.
const heatSide = 256

// explainers keeps the window's explainer: a second copy of the image
// model, made on the first "Show what it looked at" and kept for the
// next photos of the same model. Jobs use it one at a time.
type explainers struct {
	mu sync.Mutex
	m  *model.Model
	ex *app.Explainer
	// last is the toggle of the last large view opened, for the
	// screenshot tour.
	last *widget.Check
}

// explain returns the heatmap of m's answer for the photo at path,
// making the explainer first when needed. It runs in a job.
func (w *window) explainPhoto(ctx context.Context, m *model.Model, path string) (*gradcam.Map, error) {
	e := &w.explainers
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m != m {
		if e.ex != nil {
			e.ex.Close()
			e.ex, e.m = nil, nil
		}
		// The explainer has sessions of its own: the engine is needed
		// only to make it.
		eng, release, err := w.engines.OpenFor(ctx, m, w.settings.EngineOptions())
		if err != nil {
			return nil, err
		}
		defer release()
		c, err := app.NewClassifier(m, eng)
		if err != nil {
			return nil, err
		}
		if e.ex, err = w.core.NewExplainer(c); err != nil {
			return nil, err
		}
		e.m = m
	}
	return e.ex.Explain(ctx, path)
}

// close releases the explainer.
func (e *explainers) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ex != nil {
		e.ex.Close()
		e.ex, e.m = nil, nil
	}
}

// lookedAt adds the "Show what it looked at" toggle of a photo's large
// view: the first time it is ticked, the heatmap of the model's answer is
// computed in the background and laid over the photo (heat, which sits
// on img in the same cell).
func (w *window) lookedAt(path string, img, heat *canvas.Image) fyne.CanvasObject {
	m := w.doc.model
	note := widgets.Caption("")
	note.Wrapping = fyne.TextWrapWord
	note.Hide()
	var hm *gradcam.Map
	busy := false
	check := widget.NewCheck("Show what it looked at", nil)
	show := func() {
		if hm == nil {
			return
		}
		if heat.Image == nil {
			wd, ht := heatSide, heatSide
			if img.Image != nil {
				b := img.Image.Bounds()
				s := float64(heatSide) / float64(max(b.Dx(), b.Dy()))
				wd, ht = max(1, int(float64(b.Dx())*s)), max(1, int(float64(b.Dy())*s))
			}
			heat.Image = gradcam.HeatImage(hm, wd, ht)
		}
		heat.Show()
		heat.Refresh()
		// The heatmap was hidden when the window was first drawn, so the
		// window does not know it and its own Refresh repaints nothing
		// (seen under Xvfb: the overlay never appeared); refreshing the
		// photo under it repaints the two.
		img.Refresh()
		label := m.Labels[hm.Class]
		note.SetText(fmt.Sprintf("Red to yellow: where the model found the evidence for %s (Grad-CAM on its last block, 8×8). Unmarked parts counted little.", label))
		note.Show()
	}
	check.OnChanged = func(on bool) {
		if !on {
			heat.Hide()
			img.Refresh()
			note.Hide()
			return
		}
		if hm != nil {
			show()
			return
		}
		if busy {
			return
		}
		busy = true
		note.SetText("Working out what it looked at…")
		note.Show()
		w.jobs.start(func() {
			got, err := w.explainPhoto(context.Background(), m, path)
			fyne.Do(func() {
				busy = false
				if err != nil {
					note.SetText("Could not work out what it looked at: " + app.PlainError(err))
					check.SetChecked(false)
					return
				}
				hm = got
				if check.Checked {
					show()
				}
			})
		})
	}
	w.explainers.last = check
	return container.NewVBox(check, note)
}
