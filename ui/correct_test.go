package ui

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
)

// checkTeach checks how the large view offers to teach the model: a
// photo from outside the training folder is copied into it, a training
// photo corrected where it is.
func checkTeach(t *testing.T, w *testWindow) {
	t.Helper()
	p := w.classify.preds[0]
	inside := photoDetail{path: p.Path, top: p.Top}
	// A training photo is corrected where it is, not copied.
	if o := w.teach(inside); o == nil || !contains(o, "Your photos count it as") {
		t.Errorf("a training photo (%s) offers no correction where it is", p.Path)
	}
	outside := inside
	outside.path = filepath.Join(t.TempDir(), "new.jpg")
	o := w.teach(outside)
	if o == nil {
		t.Fatal("a new photo does not offer to teach the model")
	}
	mustShow(t, o, "Teach it", "Right")
	// A photo unlike all its kinds: the model's guess is no answer to
	// confirm, only a kind (or a new one) to name.
	stranger := outside
	stranger.stranger = true
	o = w.teach(stranger)
	if o == nil {
		t.Fatal("a photo not of its kinds does not offer to teach the model")
	}
	mustShow(t, o, "Teach it", "If it is one of the kinds, or a new one, say which:")
	if b := find(o, func(b *widget.Button) bool { return b.Text == "Right" }); b != nil {
		t.Error(`a photo not of its kinds offers "Right"`)
	}
	if s := find(o, func(s *widget.Select) bool { return s.PlaceHolder == "It's a…" }); s == nil || !slices.Contains(s.Options, newKindChoice) {
		t.Errorf(`a photo not of its kinds: "It's a…" is %v`, s)
	}
	if w.retrainText() != "" {
		t.Errorf("corrections counted before any: %q", w.retrainText())
	}

	// The same photo as a training photo, from elsewhere: refused, and
	// the view says why.
	data, err := os.ReadFile(p.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside.path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	o = w.teach(outside)
	test.Tap(find(o, func(b *widget.Button) bool { return b.Text == "Right" }))
	w.settle()
	mustShow(t, o, "Not added: it is the same photo as", "already in the training folder", "correct it on Results")
	if w.retrainText() != "" {
		t.Errorf("a refused correction was counted: %q", w.retrainText())
	}
}

// checkTeachInFolder corrects a test photo of Results where it is: "It's
// a…" asks whether to move the file or relabel it in Clasifica only;
// either is counted for the retrain and undone with Undo.
func checkTeachInFolder(t *testing.T, w *testWindow) {
	t.Helper()
	if len(w.doc.reviewed) == 0 {
		t.Fatal("no test photos in Results")
	}
	r := w.doc.reviewed[0]
	other := "daisy"
	if r.Truth == other {
		other = "dandelion"
	}
	label := func(path string) string {
		p, err := app.FindPhoto(w.doc.data, path)
		if err != nil {
			return "not found: " + err.Error()
		}
		return p.Label
	}
	for _, how := range []string{"Relabel in Clasifica only", "Move the file"} {
		o := w.teach(photoDetail{path: r.Path, truth: r.Truth, top: r.Top})
		if o == nil {
			t.Fatal("a test photo offers no correction")
		}
		mustShow(t, o, "Teach it", "Your photos count it as "+r.Truth)
		find(o, func(s *widget.Select) bool { return true }).SetSelected(other)
		mustShow(t, o, "Move the file into the "+other+" folder")
		test.Tap(button(t, o, how))
		w.settle()
		moved := filepath.Join(filepath.Dir(filepath.Dir(r.Path)), other, filepath.Base(r.Path))
		now := r.Path
		if how == "Move the file" {
			now = moved
			if _, err := os.Stat(moved); err != nil {
				t.Errorf("not moved to %s: %v", moved, err)
			}
		} else if _, err := os.Stat(moved); err == nil {
			t.Errorf("relabelling moved the file")
		}
		if got := label(now); got != other {
			t.Errorf("%s: counts as %q, want %q", how, got, other)
		}
		if got := w.retrainText(); got != "1 photo relabelled — Retrain" {
			t.Errorf("%s: counter %q", how, got)
		}
		mustShow(t, o, "Done:")
		test.Tap(button(t, o, "Undo"))
		w.settle()
		if got := label(r.Path); got != r.Truth {
			t.Errorf("%s undone: counts as %q, want %q", how, got, r.Truth)
		}
		if w.retrainText() != "" {
			t.Errorf("%s undone: counter %q", how, w.retrainText())
		}
	}
}
