package ui

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

// TestTrainOnFlowers goes through the four steps on real photos as a
// person would: choose the flowers sample, start training and cancel it,
// train for real while the chart grows, look at the results, sort photos,
// save, reopen and export the model. Each screen, filled with the real
// results, is checked against reviewed markup in testdata/.
func TestTrainOnFlowers(t *testing.T) {
	// Paths show from the home folder ("~/flowers"): with the
	// sample's folder as home, the markup is the same wherever the
	// repository is.
	home := filepath.Dir(flowers(t))
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	// Caches that follow HOME (Fyne's font index) stay out of the
	// repository's sample folder.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	w := newTestWindow(t, sharedApp(t), true)
	if w.engine.err != nil || w.engine.backbone == nil || w.engine.device != "CPU" {
		t.Fatalf("engine: %+v", w.engine)
	}
	mustShow(t, w.win.Content(), "Test image model", "Runs on CPU")
	mustShow(t, w.train.content, "Using the test image model (nsfwjs InceptionV3), not the ImageNet one")

	w.picks.folders = []string{flowers(t)}
	w.win.Canvas().(fyne.Shortcutable).TypedShortcut(keyFolder)
	w.settle()
	if w.doc.data == nil {
		t.Fatalf("no data: %v", w.data.err)
	}
	w.show(stepData)
	assertScreen(t, w, "data")

	t.Run("cancel", func(t *testing.T) {
		stopped := false
		w.train.onEvent = func(ev app.Event) {
			if _, ok := ev.(train.Extraction); ok && !stopped {
				stopped = true
				if w.train.cancelBtn.Hidden || !w.train.trainBtn.Disabled() {
					t.Error("while training, Cancel is hidden or Train enabled")
				}
				test.Tap(w.train.cancelBtn)
			}
		}
		test.Tap(w.train.trainBtn)
		w.settle()
		w.train.onEvent = nil
		if !stopped {
			t.Fatal("no extraction progress was reported")
		}
		if w.doc.model != nil || w.doc.dirty {
			t.Fatal("a cancelled training changed the model")
		}
		mustShow(t, w.train.content, "Training was cancelled. The model was not changed.")
		if w.train.trainBtn.Disabled() || w.train.task.running() {
			t.Error("Train is not available again after cancelling")
		}
	})

	var epochs []train.EpochFinished
	var phases []train.Phase
	w.train.onEvent = func(ev app.Event) {
		switch e := ev.(type) {
		case train.EpochFinished:
			epochs = append(epochs, e)
			// The chart grows as each epoch ends.
			if n := w.train.loss.Points(0); n != e.Epoch.Epoch {
				t.Errorf("after epoch %d the loss chart has %d points", e.Epoch.Epoch, n)
			}
			if !strings.Contains(w.train.detail.Text(), fmt.Sprintf("Epoch %d of at most", e.Epoch.Epoch)) {
				t.Errorf("progress says %q", w.train.detail.Text())
			}
		case train.PhaseStarted:
			phases = append(phases, e.Phase)
		case train.Extraction:
			if e.Done > 0 && !strings.Contains(w.train.detail.Text(), "photos") {
				t.Errorf("extraction progress says %q", w.train.detail.Text())
			}
		}
	}
	w.win.Canvas().(fyne.Shortcutable).TypedShortcut(keyTrain)
	w.settle()
	w.train.onEvent = nil
	m := w.doc.model
	if m == nil {
		t.Fatalf("training produced no model; the screen says %q", texts(w.train.outcome))
	}
	// Extraction, training, the test photos, the "not sure" threshold's
	// out-of-fold heads.
	if len(phases) != 4 || phases[3] != train.Calibrating || len(epochs) == 0 || len(epochs) != len(m.Training.Epochs) {
		t.Fatalf("phases %v, %d epochs shown, %d recorded", phases, len(epochs), len(m.Training.Epochs))
	}
	if !w.doc.dirty || !strings.Contains(w.win.Title(), "•") {
		t.Errorf("a new model is unsaved: dirty %v, title %q", w.doc.dirty, w.win.Title())
	}
	if w.doc.report == nil || w.doc.evaluated != "test" {
		t.Fatalf("no test report (%q)", w.doc.evaluated)
	}
	mustShow(t, w.train.content, "Finished in", fmt.Sprintf("The model got %s of the %d test photos right.", words.Percent(w.doc.report.Accuracy), w.doc.report.N), "See results")
	if got := w.train.loss.Epochs(); got != len(epochs) {
		t.Errorf("the chart's axis runs to %d, %d epochs were done", got, len(epochs))
	}
	w.show(stepTrain)
	assertScreen(t, w, "train")

	t.Run("results, after training", func(t *testing.T) {
		r := w.doc.report
		test.Tap(button(t, w.train.content, "See results"))
		if w.current != stepResults {
			t.Fatalf("See results shows step %d", w.current)
		}
		w.settle()
		mustShow(t, w.results.content, words.Percent(r.Accuracy), fmt.Sprintf("the %d test photos", r.N))
		if len(w.results.matrix.Labels()) != 5 {
			t.Errorf("confusion matrix of %d classes", len(w.results.matrix.Labels()))
		}
		for tr, row := range w.results.matrix.Counts() {
			for p, n := range row {
				if n != r.Confusion[tr][p] {
					t.Errorf("cell (%d, %d) shows %d, the report says %d", tr, p, n, r.Confusion[tr][p])
				}
			}
		}
		assertScreen(t, w, "results")

		g := w.results.gallery
		w.results.tabs.SelectIndex(1)
		g.filter.set(1)
		w.settle()
		if len(g.shown) != len(r.Mistakes) {
			t.Errorf("%d mistakes shown, %d in the report", len(g.shown), len(r.Mistakes))
		}
		assertScreen(t, w, "results-mistakes")
		g.filter.set(0)
		w.results.tabs.SelectIndex(0)
	})

	t.Run("not sure, after training", func(t *testing.T) {
		th := w.doc.model.Threshold
		if th == nil {
			t.Fatal("the trained model has no \"not sure\" threshold")
		}
		w.show(stepResults)
		w.results.tabs.SelectIndex(2)
		w.settle()
		p := w.results.unsure
		mustShow(t, p.content, "Right when it answers, at least", "validation photos", "test photos it had never seen")
		if p.target.Selected != "95%" || p.target.Disabled() {
			t.Errorf("target shows %q", p.target.Selected)
		}
		// A lower target answers more photos; the model changes, to be saved.
		p.target.SetSelected("80%")
		w.settle()
		got := w.doc.model.Threshold
		if got.TargetAccuracy != 0.8 || got.Value > th.Value || got.Coverage < th.Coverage || !w.doc.dirty {
			t.Errorf("retargeted to 80%%: %+v (was %+v), dirty %v", got, th, w.doc.dirty)
		}
		w.results.tabs.SelectIndex(0)
	})

	t.Run("classify, with the trained model", func(t *testing.T) {
		daisies := filepath.Join(flowers(t), "daisy")
		roses, _ := filepath.Glob(filepath.Join(flowers(t), "rose", "*.jpg"))
		junk := filepath.Join(t.TempDir(), "notes.txt")
		os.WriteFile(junk, []byte("not a photo"), 0o644)
		// Dropping a folder and files anywhere on the window sorts them.
		w.show(stepResults)
		w.dropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(daisies), storage.NewFileURI(roses[0]), storage.NewFileURI(junk)})
		w.settle()
		if w.current != stepClassify {
			t.Errorf("dropping photos shows step %d", w.current)
		}
		if len(w.classify.preds) != 32 {
			t.Fatalf("%d photos shown, want 32", len(w.classify.preds))
		}
		for _, p := range w.classify.preds {
			if (p.Err != nil) != (p.Path == junk) || (p.Err == nil && len(p.Top) != 5) {
				t.Errorf("%s: %v %v", p.Path, p.Err, p.Top)
			}
		}
		mustShow(t, w.classify.content, "31 photos sorted:", "1 photo could not be read.")
		// Below the model's threshold a photo is "not sure".
		th := w.doc.model.Threshold.Value
		unsure := 0
		for _, p := range w.classify.preds {
			if p.Err == nil && p.Unsure != (p.Confidence() < th) {
				t.Errorf("%s at %.3f: unsure %v with threshold %.3f", p.Path, p.Confidence(), p.Unsure, th)
			}
			if p.Unsure && !p.Stranger {
				unsure++
			}
		}
		if unsure > 0 {
			mustShow(t, w.classify.content, fmt.Sprintf("%d not sure", unsure))
		}
		// Dropping the same photos again adds nothing.
		w.dropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(roses[0])})
		w.settle()
		if len(w.classify.preds) != 32 || !strings.Contains(w.lastInfo, "No photos were found there that are not already shown") {
			t.Errorf("%d photos after dropping one again; said %q", len(w.classify.preds), w.lastInfo)
		}
		w.dialog.Hide()
		assertScreen(t, w, "classify")
		checkLookedAt(t, w)
		checkTeach(t, w)

		// Export CSV.
		out := t.TempDir()
		w.picks.saves = []string{filepath.Join(out, "sorted.csv")}
		test.Tap(w.classify.csvBtn)
		w.settle()
		f, err := os.Open(filepath.Join(out, "sorted.csv"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(rows) != 33 || rows[0][0] != "path" {
			t.Fatalf("CSV: %d rows, %v", len(rows), err)
		}
		w.dialog.Hide()

		// Sort into folders: copies, and says so.
		w.picks.folders = []string{out}
		test.Tap(w.classify.sortBtn)
		// The slider starts at the model's threshold and says what it
		// promises.
		mustShow(t, w.overlay(), "It starts at the model's own threshold", "photos its threshold was chosen on")
		test.Tap(button(t, w.overlay(), "Copy photos"))
		w.settle()
		copied := 0
		filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".jpg") {
				copied++
			}
			return nil
		})
		if copied != 31 {
			t.Errorf("%d photos copied, want 31", copied)
		}
		if _, err := os.Stat(roses[0]); err != nil {
			t.Error("a photo was moved, not copied")
		}
		if !strings.Contains(w.lastInfo, "Copied 31 photos") || !strings.Contains(w.lastInfo, "Nothing was moved or overwritten") {
			t.Errorf("said %q", w.lastInfo)
		}
		w.dialog.Hide()
	})

	t.Run("save, open and export, the trained model", func(t *testing.T) {
		dir := t.TempDir()
		w.picks.saves = []string{filepath.Join(dir, "flowers")}
		w.win.Canvas().(fyne.Shortcutable).TypedShortcut(keySave)
		w.settle()
		path := filepath.Join(dir, "flowers.clasifica")
		if w.doc.path != path || w.doc.dirty || w.win.Title() != "flowers — Clasifica" {
			t.Fatalf("after saving: path %q, dirty %v, title %q", w.doc.path, w.doc.dirty, w.win.Title())
		}
		if got := savedSettings(t, w.core).RecentModels; len(got) == 0 || got[0] != path {
			t.Errorf("recent models %q", got)
		}

		// New forgets everything; Open brings the model back and checks
		// it on its recorded test photos.
		w.newModel()
		w.settle()
		if w.doc.model != nil || w.doc.data != nil || w.win.Title() != "Clasifica" {
			t.Fatal("New kept the model or the photos")
		}
		w.picks.opens = []string{path}
		w.win.Canvas().(fyne.Shortcutable).TypedShortcut(keyOpen)
		w.settle()
		if w.doc.model == nil || w.doc.path != path || w.doc.dirty || w.doc.trained {
			t.Fatalf("opened: %+v", w.doc)
		}
		if w.doc.report == nil || w.doc.report.N != len(w.doc.model.Training.Test) {
			t.Fatalf("the opened model was not checked on its %d test photos", len(w.doc.model.Training.Test))
		}
		if got := w.train.loss.Points(0); got != len(w.doc.model.Training.Epochs) {
			t.Errorf("the chart shows %d recorded epochs of %d", got, len(w.doc.model.Training.Epochs))
		}
		mustShow(t, w.train.content, "Opened flowers.clasifica: trained on")

		// Export ONNX writes the model and its labels.
		w.picks.saves = []string{filepath.Join(dir, "flowers.onnx")}
		w.win.Canvas().(fyne.Shortcutable).TypedShortcut(keyExport)
		w.settle()
		labels, err := os.ReadFile(filepath.Join(dir, "labels.txt"))
		if err != nil || !strings.HasPrefix(string(labels), "daisy\n") {
			t.Errorf("labels.txt: %q, %v", labels, err)
		}
		if st, err := os.Stat(filepath.Join(dir, "flowers.onnx")); err != nil || st.Size() < 1<<20 {
			t.Errorf("flowers.onnx: %v", err)
		}
		if _, err := model.ReadFile(path); err != nil {
			t.Error(err)
		}
	})
}
