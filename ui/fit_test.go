package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/eval"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// fitScreen is the smallest screen Clasifica must work on, and
// fitFrame what the desktop takes from it around the window's content:
// the title bar and Fyne's menu bar (about 30 each), and a taskbar.
var (
	fitScreen = fyne.NewSize(1024, 600)
	fitFrame  = fyne.NewSize(0, 64)
)

// fitSize is the most a window's content may need.
func fitSize() fyne.Size { return fitScreen.Subtract(fitFrame) }

// TestScreensFit lays every screen out in the states a user meets (empty,
// no image model, the test model's warning, 37 kinds under a long folder
// name, Advanced settings open, results, photos sorted, the dialogs, the
// dark theme) at 1024×600, and fails where the content needs more room
// than that. Screens scroll vertically when they must; nothing may need
// more width.
func TestScreensFit(t *testing.T) {
	t.Run("no image model", func(t *testing.T) {
		w := newTestWindow(t, emptyApp(t), false)
		w.win.Resize(fitSize())
		assertFits(t, w, "empty")
		w.train.backbone.failed = &app.OfflineError{URL: "https://example.com/a/rather/long/address/of/the/weights/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", Err: errors.New("no such host")}
		w.train.backbone.refresh()
		assertFits(t, w, "offline")
	})

	w := newTestWindow(t, sharedApp(t), true)
	w.win.Resize(fitSize())
	assertFits(t, w, "test model")
	dir := longPets(t)
	w.data.open(dir)
	w.settle()
	if w.doc.data == nil || len(w.doc.data.Classes) != 37 {
		t.Fatalf("the pets sample under %s did not open with 37 kinds: %v", dir, w.data.err)
	}
	assertFits(t, w, "37 kinds, long folder name")
	w.train.advanced.Open(0)
	assertFits(t, w, "Advanced settings")
	w.train.advanced.Close(0)
	w.train.phase.SetText("Looking at each photo")
	w.train.detail.SetText("12 of 148 photos · 3.1 photos a second · about 44 seconds left")
	w.train.progress.Show()
	w.train.outcome.Set("success", "Training finished in 2 minutes: the model sorts 84% of the validation photos right. "+
		"It was fine-tuned for 5 epochs after the head learned for 30; see Results for every test photo.",
		widget.NewButton("See results", nil), widget.NewButton("Notes…", nil))
	w.train.outcome.Show()
	assertFits(t, w, "training finished")

	petResults(t, w)
	w.classify.preds = nil
	src, _ := filepath.Glob(filepath.Join(dir, "*", "*.jpg"))
	for i, p := range src {
		label := w.doc.model.Labels[i%37]
		w.classify.preds = append(w.classify.preds, app.Prediction{Path: p, Top: []app.Scored{{Label: label, Probability: 0.9}, {Label: "beagle", Probability: 0.1}},
			Stranger: i%5 == 1, StrangerScore: 0.7, Unsure: i%7 == 2})
	}
	w.classify.refresh()
	assertFits(t, w, "results and sorted photos")

	// After a retraining: before and after on Results (37 kinds, long
	// names), the corrections' counter on Classify.
	prev := w.doc.current()
	w.doc.previous = &prev
	c := &app.Comparison{Evaluated: "test", N: len(src), Before: 0.61, After: 0.67, LeftOut: 4}
	for _, p := range src[20:24] {
		c.LeftOutPhotos = append(c.LeftOutPhotos, app.LeftOutPhoto{Path: p,
			Why: "put among the test photos with its near-copy " + filepath.Join("staffordshire_bull_terrier", "a_rather_long_file_name_from_a_phone_IMG_20240501_120000.jpg") + " (the same shot), so that the model is not tested on a photo it learnt"})
	}
	for i, l := range w.doc.model.Labels {
		c.Kinds = append(c.Kinds, app.KindChange{Kind: l, Photos: 4, Before: 0.5, After: 0.25 * float64(i%5)})
	}
	for i, p := range src[:20] {
		ch := app.Changed{Path: p, Truth: "staffordshire_bull_terrier", Before: "american_pit_bull_terrier", After: "staffordshire_bull_terrier", Fixed: i < 14}
		if !ch.Fixed {
			ch.Before, ch.After = ch.After, ch.Before
			c.Broken = append(c.Broken, p)
		} else {
			c.Fixed = append(c.Fixed, p)
		}
		c.Changed = append(c.Changed, ch)
	}
	w.doc.comparison = c
	w.corrections, w.relabelled = 12, 3
	w.results.refresh()
	w.results.showComparison()
	w.classify.refresh()
	assertFits(t, w, "a retraining compared, corrections counted")
	w.results.compare.showLeftOut()
	w.settle()
	assertOverlayFits(t, w, "photos left out of the comparison")
	w.win.Canvas().Overlays().Remove(w.overlay())
	w.doc.wentBack = true
	w.results.refresh()
	assertFits(t, w, "went back to the previous model")
	w.doc.forgetPrevious()
	w.corrections, w.relabelled = 0, 0
	w.results.refresh()
	w.classify.refresh()

	dialogs := []struct {
		name string
		show func()
	}{
		{"Settings", w.showSettings},
		{"About", w.showAbout},
		{"How to arrange photos", w.showLayoutHelp},
		{"a photo", func() {
			w.showPhoto(photoDetail{path: src[0], truth: "Abyssinian", top: []app.Scored{{Label: "american_pit_bull_terrier", Probability: .5}, {Label: "Egyptian_Mau", Probability: .3}, {Label: "staffordshire_bull_terrier", Probability: .2}}})
		}},
		{"a photo not of its kinds", func() {
			w.showPhoto(photoDetail{path: src[1], stranger: true, top: []app.Scored{{Label: "american_pit_bull_terrier", Probability: .5}, {Label: "Egyptian_Mau", Probability: .3}, {Label: "staffordshire_bull_terrier", Probability: .2}}})
		}},
		{"a photo from elsewhere not of its kinds", func() {
			daisy, _ := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers", "daisy"), "*.jpg"))
			w.showPhoto(photoDetail{path: daisy[0], stranger: true, top: []app.Scored{{Label: "american_pit_bull_terrier", Probability: .5}, {Label: "Egyptian_Mau", Probability: .3}, {Label: "staffordshire_bull_terrier", Probability: .2}}})
		}},
		{"notes", func() {
			w.inform("Notes on this training", strings.Repeat("The folder's kinds are unbalanced: the largest has 40 times as many photos as the smallest. ", 8))
		}},
		{"an error", func() { w.showError("Cannot open the folder", fmt.Errorf("open %s: %w", dir, os.ErrPermission)) }},
		{"notes about the photos", func() { w.data.showAllIssues(w.doc.data.Summary()) }},
		{"sort into folders", func() {
			w.picks.folders = []string{filepath.Join(t.TempDir(), "Sorted photos of the family's cats and dogs, summer holidays in the mountains")}
			w.classify.sortInto()
		}},
		{"save first", func() {
			w.doc.dirty = true
			w.whenSaved("Quit", func() {})
		}},
	}
	for _, d := range dialogs {
		d.show()
		w.settle()
		assertOverlayFits(t, w, d.name)
		w.win.Canvas().Overlays().Remove(w.overlay())
	}
	w.doc.dirty = false

	w.fa.Settings().SetTheme(newTheme(appearanceDark))
	assertFits(t, w, "dark theme")
}

// assertFits shows each screen in turn and fails if the window's content
// needs more than fitSize, naming the widest parts.
func assertFits(t *testing.T, w *testWindow, state string) {
	t.Helper()
	w.settle()
	limit := fitSize()
	for s := range numSteps {
		w.show(step(s))
		w.win.Resize(limit)
		if min := w.win.Content().MinSize(); min.Width > limit.Width || min.Height > limit.Height {
			t.Errorf("%s, %s screen: the window needs %.0f×%.0f, more than %.0f×%.0f; wider than the screen's room:\n%s", state, stepTitles[s],
				min.Width, min.Height, limit.Width, limit.Height, strings.Join(widest(w.win.Content(), limit.Width-w.sideWidth(), ""), "\n"))
		}
	}
	w.show(stepData)
}

// assertOverlayFits fails if the dialog on top of the window needs more
// room than the window has.
func assertOverlayFits(t *testing.T, w *testWindow, name string) {
	t.Helper()
	o := w.overlay()
	if o == nil {
		t.Errorf("the %s dialog did not open", name)
		return
	}
	limit := fitSize()
	if min := o.MinSize(); min.Width > limit.Width || min.Height > limit.Height {
		t.Errorf("the %s dialog needs %.0f×%.0f, more than %.0f×%.0f; wider than that:\n%s", name, min.Width, min.Height,
			limit.Width, limit.Height, strings.Join(widest(o, limit.Width, ""), "\n"))
	}
}

// sideWidth is the sidebar's width: what a screen may use is the rest.
func (w *window) sideWidth() float32 {
	return w.win.Content().MinSize().Width - w.body.MinSize().Width
}

// widest lists the innermost objects under o whose minimum width is over
// limit: the ones to wrap or shorten.
func widest(o fyne.CanvasObject, limit float32, path string) []string {
	if o == nil || !o.Visible() || o.MinSize().Width <= limit {
		return nil
	}
	var kids []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		kids = v.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(v).Objects()
	}
	name := fmt.Sprintf("%s/%T", path, o)
	var out []string
	for _, k := range kids {
		out = append(out, widest(k, limit, name)...)
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("  %s needs %.0f: %q", name, o.MinSize().Width, texts(o)))
	}
	return out
}

// longPets returns the pets sample (37 kinds) linked under a folder with
// a long name, the way people name their folders.
func longPets(t *testing.T) string {
	t.Helper()
	src := mltest.Photos(t, "pets")
	dir := filepath.Join(t.TempDir(), "Photos of the family's cats and dogs from the summer holidays in the mountains, sorted by breed by Grandma")
	photos, err := filepath.Glob(filepath.Join(src, "*", "*.jpg"))
	if err != nil || len(photos) == 0 {
		t.Fatalf("no photos in %s: %v", src, err)
	}
	for _, p := range photos {
		to := filepath.Join(dir, filepath.Base(filepath.Dir(p)), filepath.Base(p))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(p, to); err != nil {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// petResults gives the document a model of the open folder's kinds and a
// made-up evaluation of its photos: a 37×37 confusion matrix.
func petResults(t *testing.T, w *testWindow) {
	t.Helper()
	d := w.doc.data
	labels := d.Classes
	var samples []train.Prediction
	var truth []int
	var probs []float32
	for i, it := range d.Items {
		p := make([]float32, len(labels))
		guess := it.Label
		if i%3 == 0 {
			guess = (it.Label + 1) % len(labels)
		}
		p[guess] = 1
		samples = append(samples, train.Prediction{Path: it.Path, Truth: it.Label, Probs: p})
		truth = append(truth, it.Label)
		probs = append(probs, p...)
	}
	r, err := eval.Compute(labels, truth, probs, 2)
	if err != nil {
		t.Fatal(err)
	}
	w.doc.model = &model.Model{Meta: model.Meta{Labels: labels, Backbone: model.Backbone{ID: app.OfflineBackboneID, Name: "test"}}, Head: tinyHead(t, len(labels))}
	w.doc.setEvaluation(r, samples, "test")
	w.results.refresh()
	w.classify.refresh()
	w.refresh()
}
