package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ui/words"
)

// loopFolder copies the first n photos of two flower kinds into a
// training folder of the test's own, and returns it with the remaining
// photos of those kinds, which are new to it.
func loopFolder(t *testing.T, n int) (root string, others []string) {
	t.Helper()
	root = t.TempDir()
	for _, kind := range []string{"daisy", "dandelion"} {
		photos, _ := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers", kind), "*.jpg"))
		slices.Sort(photos)
		if len(photos) < n+3 {
			t.Fatalf("%d %s photos", len(photos), kind)
		}
		os.MkdirAll(filepath.Join(root, kind), 0o755)
		for _, p := range photos[:n] {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(root, kind, filepath.Base(p)), data, 0o644)
		}
		others = append(others, photos[n:n+3]...)
	}
	return root, others
}

// openAndTrain opens a window on the folder root, as a person would
// (Open folder), trains, and returns the window and the model.
func openAndTrain(t *testing.T, root string) (*testWindow, *model.Model) {
	t.Helper()
	w := newTestWindow(t, sharedApp(t), true)
	w.picks.folders = []string{root}
	w.win.Canvas().(fyne.Shortcutable).TypedShortcut(keyFolder)
	w.settle()
	if w.doc.data == nil {
		t.Fatalf("no data: %v", w.data.err)
	}
	test.Tap(w.train.trainBtn)
	w.settle()
	if w.doc.model == nil || w.doc.report == nil {
		t.Fatalf("the first training gave no model: %q", texts(w.train.content))
	}
	return w, w.doc.model
}

// teachPhoto teaches the model a sorted photo of Classify as its folder's
// kind, as a person would in its large view ("Right" where the model
// says that kind, "It's a…" otherwise), waits for the copy, and returns
// the teaching part.
func teachPhoto(t *testing.T, w *testWindow, p app.Prediction) fyne.CanvasObject {
	t.Helper()
	kind := filepath.Base(filepath.Dir(p.Path))
	o := w.teach(photoDetail{path: p.Path, top: p.Top, stranger: p.Stranger})
	if o == nil {
		t.Fatalf("%s: no way to teach the model", p.Path)
	}
	if p.Label() == kind && !p.Stranger {
		test.Tap(button(t, o, "Right"))
	} else {
		find(o, func(s *widget.Select) bool { return true }).SetSelected(kind)
	}
	// The copy starts a scan of the training folder; under the test
	// driver its updates run on the job's goroutine, so the test waits
	// for it as a person would before the next photo.
	w.settle()
	return o
}

// TestRetrainLoop goes round the loop as a person would: train, save,
// correct photos on Classify ("Right", "It's a…") and a test photo from
// Results, retrain from the counter's button, read the before and after
// on the same test photos, go back to the previous model and forward
// again, never writing the saved file behind the user's back.
func TestRetrainLoop(t *testing.T) {
	root, others := loopFolder(t, 20)
	w, first := openAndTrain(t, root)
	if slices.Contains(w.results.tabs.Items, w.results.compareTab) {
		t.Error("Results compares before and after a first training")
	}
	saved := filepath.Join(t.TempDir(), "flowers.clasifica")
	w.picks.saves = []string{saved}
	w.win.Canvas().(fyne.Shortcutable).TypedShortcut(keySave)
	w.settle()
	onDisk, err := os.ReadFile(saved)
	if err != nil || w.doc.dirty {
		t.Fatalf("save: %v, dirty %v", err, w.doc.dirty)
	}

	t.Run("a test photo, corrected where it is", func(t *testing.T) { checkTeachInFolder(t, w) })

	// Corrections on Classify: each photo confirmed or corrected to its
	// folder's kind, copied into the training folder and counted.
	w.classify.add(others)
	w.settle()
	if len(w.classify.preds) != len(others) {
		t.Fatalf("%d photos sorted of %d", len(w.classify.preds), len(others))
	}
	if !w.classify.retrain.Hidden {
		t.Error("the retrain counter shows before any correction")
	}
	for _, p := range w.classify.preds {
		kind := filepath.Base(filepath.Dir(p.Path))
		o := teachPhoto(t, w, p)
		mustShow(t, o, "Copied into the training photos as "+kind)
		if _, err := os.Stat(filepath.Join(root, kind, filepath.Base(p.Path))); err != nil {
			t.Errorf("%s was not copied into %s: %v", p.Path, kind, err)
		}
	}
	w.settle()
	want := "6 new photos — Retrain"
	if w.classify.retrain.Hidden || w.classify.retrainBtn.Text != want {
		t.Fatalf("the counter shows %q (hidden %v), want %q", w.classify.retrainBtn.Text, w.classify.retrain.Hidden, want)
	}

	// The counter's button retrains, from the current model.
	test.Tap(w.classify.retrainBtn)
	w.settle()
	retrained := w.doc.model
	if retrained == first || retrained == nil || w.doc.previous == nil || w.doc.previous.model != first {
		t.Fatalf("after retraining: model %p (first %p), previous %+v", retrained, first, w.doc.previous)
	}
	if n := len(retrained.History); n != len(first.History)+1 || !retrained.History[n-1].Continued {
		t.Errorf("history %+v", retrained.History)
	}
	if !w.classify.retrain.Hidden {
		t.Error("the counter still shows after retraining")
	}
	mustShow(t, w.train.content, "Retrained in", "See before and after")
	// The same test photos, so that the two models are compared fairly.
	if !slices.Equal(first.Training.TestHashes(), retrained.Training.TestHashes()) {
		t.Errorf("the test photos changed: %d before, %d after", len(first.Training.Test), len(retrained.Training.Test))
	}
	c := w.doc.comparison
	if c == nil || c.N != w.doc.report.N || c.After != w.doc.report.Accuracy || len(c.Changed) != len(c.Fixed)+len(c.Broken) {
		t.Fatalf("comparison %+v, report of %d photos at %.3f", c, w.doc.report.N, w.doc.report.Accuracy)
	}
	w.show(stepResults)
	if w.results.tabs.Selected() != w.results.compareTab {
		t.Error("Results does not open on before and after")
	}
	panel := w.results.compare
	mustShow(t, panel.content, words.Percent(c.Before)+" → "+words.Percent(c.After), "of the same", "Kind by kind", "Photos that changed answer", "The retrained model is in use.")
	if len(c.Changed) > 0 {
		d := panel.detail(c.Changed[0])
		if d.path != c.Changed[0].Path || d.truth != c.Changed[0].Truth || len(d.top) == 0 {
			t.Errorf("a changed photo opens as %+v", d)
		}
	}

	// Going back brings the previous model and its results; its file
	// still holds it, so nothing is unsaved, and the file is untouched.
	test.Tap(button(t, panel.content, "Go back to the previous model"))
	w.settle()
	if w.doc.model != first || w.doc.dirty || w.doc.path != saved || !w.doc.wentBack {
		t.Fatalf("went back: model %p (first %p), dirty %v, path %q", w.doc.model, first, w.doc.dirty, w.doc.path)
	}
	if got, _ := os.ReadFile(saved); !bytes.Equal(got, onDisk) {
		t.Error("going back wrote the saved model file")
	}
	mustShow(t, panel.content, "You went back", "Use the retrained model again")
	// Forward again: the retrained model was never saved. Its results,
	// were they missing, are worked out again from its test photos.
	w.doc.previous.report, w.doc.previous.reviewed = nil, nil
	test.Tap(button(t, panel.content, "Use the retrained model again"))
	w.settle()
	if w.doc.model != retrained || !w.doc.dirty {
		t.Fatalf("forward again: model %p (retrained %p), dirty %v", w.doc.model, retrained, w.doc.dirty)
	}
	if w.doc.report == nil || w.doc.report.N != len(retrained.Training.Test) || !slices.Contains(w.results.tabs.Items, w.results.compareTab) {
		t.Fatalf("forward again to a model without results: report %v", w.doc.report)
	}
	// Saved over the first model's file (the user's choice), going back
	// leaves the previous model unsaved and the file as saved.
	w.win.Canvas().(fyne.Shortcutable).TypedShortcut(keySave)
	w.settle()
	onDisk, _ = os.ReadFile(saved)
	test.Tap(button(t, panel.content, "Go back to the previous model"))
	w.settle()
	if w.doc.model != first || !w.doc.dirty {
		t.Errorf("back over a file that holds the retrained model: dirty %v", w.doc.dirty)
	}
	if got, _ := os.ReadFile(saved); !bytes.Equal(got, onDisk) {
		t.Error("going back wrote the saved model file")
	}
	if !strings.HasSuffix(w.win.Title(), "Clasifica") {
		t.Errorf("title %q", w.win.Title())
	}
}

// TestRetrainKeepsTheTestPhotos goes round the screenshot tour's loop on
// its folder (the sample flowers less the last 3 photos of each kind,
// whose near-copy pairs make the first training divide the photos again
// and send that scan): train, teach the 15 photos on Classify, retrain
// from the counter. The retrained model is tested on the same photos as
// the first (the tour's were 17 and 21: the retraining applied the
// decisions read before the corrections, kept with the scan's options),
// and before and after compares all of them.
func TestRetrainKeepsTheTestPhotos(t *testing.T) {
	root, others := mltest.TrainingFolder(t, "flowers", 3)
	w, first := openAndTrain(t, root)
	if w.doc.dataOpt.Decisions != nil {
		t.Error("the document's data options keep the decisions a scan read")
	}
	w.classify.add(others)
	w.settle()
	taught := 0
	for _, p := range w.classify.preds {
		kind := filepath.Base(filepath.Dir(p.Path))
		teachPhoto(t, w, p)
		if _, err := os.Stat(filepath.Join(root, kind, filepath.Base(p.Path))); err == nil {
			taught++
		}
	}
	if taught < len(others)-4 {
		t.Fatalf("%d of %d photos taught", taught, len(others))
	}
	test.Tap(w.classify.retrainBtn)
	w.settle()
	retrained := w.doc.model
	if retrained == first || retrained == nil {
		t.Fatalf("the retraining gave no new model: %q", texts(w.train.content))
	}
	if !slices.Equal(first.Training.TestHashes(), retrained.Training.TestHashes()) {
		t.Errorf("the test photos changed: %d before, %d after", len(first.Training.Test), len(retrained.Training.Test))
	}
	if c := w.doc.comparison; c == nil || c.LeftOut != 0 || c.N != len(first.Training.Test) {
		t.Errorf("comparison %+v; want all %d test photos compared", c, len(first.Training.Test))
	}
}
