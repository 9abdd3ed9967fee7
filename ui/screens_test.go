package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clasifica/clasifica/ui/widgets"
	"github.com/clasifica/clasifica/ui/words"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/filelock"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/eval"
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ml/train"
)

func TestTrainScreenNeedsPhotosAndModel(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	if !w.train.trainBtn.Disabled() {
		t.Error("Train is enabled without photos")
	}
	if got := w.train.hint.Text(); !strings.Contains(got, "Choose your photos") {
		t.Errorf("hint %q", got)
	}
	// No backbone installed: the screen offers to get one.
	if w.engine.backbone != nil || w.engine.preparing {
		t.Fatalf("engine state %+v", w.engine)
	}
	mustShow(t, w.train.content, "needs its image model", "Download", "Import file…")
	mustShow(t, w.win.Content(), "No image model yet")

	w.data.open(flowers(t))
	w.settle()
	if !w.train.trainBtn.Disabled() {
		t.Error("Train is enabled without an image model")
	}
	if got := w.train.hint.Text(); !strings.Contains(got, "image model") {
		t.Errorf("hint %q", got)
	}
	// Starting anyway explains why not.
	w.train.start()
	if !strings.Contains(w.lastInfo, "image model") {
		t.Errorf("no explanation, last message %q", w.lastInfo)
	}
}

func TestTrainScreenAdvanced(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	o, d := w.train.choices()
	def := train.DefaultOptions()
	if o.Epochs != def.Epochs || o.LearningRate != def.LearningRate || o.BatchSize != def.BatchSize || o.Augment != 0 || o.Patience != def.Patience {
		t.Errorf("defaults %+v, want %+v", o.Hyperparameters, def.Hyperparameters)
	}
	if d.Validation != 0.2 || d.Test != 0.15 {
		t.Errorf("shares %v, %v", d.Validation, d.Test)
	}
	w.train.epochs.SetSelected("10")
	w.train.rate.SetSelected("0.0003")
	w.train.batch.SetSelected("64")
	w.train.augment.SetSelected(augmentChoices[2])
	w.train.early.SetChecked(false)
	w.train.val.SetValue(30)
	w.train.test.SetValue(0)
	o, d = w.train.choices()
	if o.Epochs != 10 || o.LearningRate != 0.0003 || o.BatchSize != 64 || o.Augment != 4 || o.Patience != 0 {
		t.Errorf("chosen %+v", o.Hyperparameters)
	}
	if d.Validation != 0.3 || d.Test != 0 || o.Validation != 0.3 {
		t.Errorf("shares %v, %v", d.Validation, d.Test)
	}
	if w.train.valText.Text() != "30%" || w.train.testText.Text() != "None" {
		t.Errorf("share labels %q, %q", w.train.valText.Text(), w.train.testText.Text())
	}
}

// syntheticResults gives the document a model and an evaluation made up
// from the flowers sample: three classes, nine photos, three mistakes.
func syntheticResults(t *testing.T, w *testWindow) *eval.Report {
	t.Helper()
	labels := []string{"daisy", "dandelion", "rose"}
	var samples []train.Prediction
	var truth []int
	var probs []float32
	guesses := [][3]float32{{.8, .1, .1}, {.6, .3, .1}, {.2, .7, .1}, {.1, .8, .1}, {.1, .7, .2}, {.5, .4, .1}, {.1, .1, .8}, {.2, .2, .6}, {.1, .6, .3}}
	for i, g := range guesses {
		label := i / 3
		paths, _ := filepath.Glob(filepath.Join(flowers(t), labels[label], "*.jpg"))
		samples = append(samples, train.Prediction{Path: paths[i%3], Truth: label, Probs: g[:]})
		truth = append(truth, label)
		probs = append(probs, g[:]...)
	}
	r, err := eval.Compute(labels, truth, probs, 2)
	if err != nil {
		t.Fatal(err)
	}
	w.doc.model = &model.Model{Meta: model.Meta{Labels: labels, Backbone: model.Backbone{ID: app.OfflineBackboneID, Name: "test"}}}
	w.doc.setEvaluation(r, samples, "test")
	w.results.refresh()
	w.refresh()
	w.settle()
	return r
}

func TestResultsScreen(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	mustShow(t, w.results.content, "No results yet")
	if got := w.steps[stepResults].Status(); got != "After training" {
		t.Errorf("sidebar %q", got)
	}
	r := syntheticResults(t, w)
	w.show(stepResults)
	mustShow(t, w.results.content, "67%", "of the test photos sorted right", "test image model")
	if got := w.steps[stepResults].Status(); got != "67% sorted right" {
		t.Errorf("sidebar %q", got)
	}
	// The per-class table shows the report.
	cell := func(row, col int) string {
		o := w.results.table.CreateCell()
		w.results.updateCell(widgetCell(row, col), o)
		return texts(o)[0]
	}
	for i, m := range r.PerClass {
		if cell(i, 0) != r.Labels[i] || cell(i, 1) != fmt.Sprint(m.Support) || cell(i, 2) != words.Percent(m.Recall) {
			t.Errorf("row %d: %q %q %q", i, cell(i, 0), cell(i, 1), cell(i, 2))
		}
	}
	// The gallery shows every photo, and filters to the mistakes.
	g := w.results.gallery
	if len(g.shown) != 9 {
		t.Fatalf("gallery shows %d photos", len(g.shown))
	}
	g.filter.set(1)
	if len(g.shown) != len(r.Mistakes) || len(g.shown) != 3 {
		t.Errorf("mistakes filter shows %d photos, the report has %d mistakes", len(g.shown), len(r.Mistakes))
	}
	for _, i := range g.shown {
		if g.items[i].Correct {
			t.Error("a right answer among the mistakes")
		}
	}
	if g.filter.buttons[0].Text != "All photos (9)" || g.filter.buttons[1].Text != "Mistakes (3)" {
		t.Errorf("filters %q, %q", g.filter.buttons[0].Text, g.filter.buttons[1].Text)
	}
	// A card shows its label, confidence and truth; tapping opens it.
	card := widgets.NewPhotoCard(w.thumbs)
	g.update(0, card)
	w.settle()
	if card.Tone() == "" || !strings.HasPrefix(card.Sub.Text(), "Really ") || card.Thumb.Image() == nil {
		t.Errorf("mistake card: tone %q, %q, thumbnail %v", card.Tone(), card.Sub.Text(), card.Thumb.Image() != nil)
	}
	test.Tap(card)
	w.settle()
	mustShow(t, w.overlay(), "Wrong: it is really", "Most likely", "1. ")
	w.dialog.Hide()

	// Clicking a cell of the confusion matrix shows its photos.
	w.results.matrix.OnTapped(0, 0)
	if w.results.tabs.SelectedIndex() != 1 || len(g.shown) != 2 {
		t.Errorf("tab %d, %d photos of daisy called daisy", w.results.tabs.SelectedIndex(), len(g.shown))
	}
	mustShow(t, g.content, "Showing the daisy photos recognised as such (2).")
	test.Tap(button(t, g.content, "Show all"))
	if len(g.shown) != 9 {
		t.Errorf("show all: %d", len(g.shown))
	}
}

func TestClassifyScreenWithoutModel(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	w.show(stepClassify)
	mustShow(t, w.classify.content, "No model yet", "Open model…")
	if !w.classify.openBtn.Disabled() || !w.classify.csvBtn.Disabled() {
		t.Error("buttons enabled without a model")
	}
	// Photos dropped without a model cannot be sorted: the window says so.
	photo, _ := filepath.Glob(filepath.Join(flowers(t), "rose", "*.jpg"))
	w.dropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(photo[0])})
	if !strings.Contains(w.lastInfo, "train or open a model first") {
		t.Errorf("dropping without a model says %q", w.lastInfo)
	}
	// A folder dropped without a model becomes the training photos,
	// whatever the step.
	w.dropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(flowers(t))})
	w.settle()
	if w.doc.data == nil || w.current != stepData {
		t.Errorf("dropped folder: data %v, step %d", w.doc.data != nil, w.current)
	}
}

func TestTitleMenusAndShortcuts(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	menu := w.win.MainMenu()
	if menu == nil || len(menu.Items) != 4 || menu.Items[0].Label != "Model" {
		t.Fatalf("menus %v", menu)
	}
	find := func(label string) *fyne.MenuItem {
		for _, m := range w.win.MainMenu().Items {
			for _, it := range m.Items {
				if it.Label == label {
					return it
				}
			}
		}
		t.Fatalf("no menu item %q", label)
		return nil
	}
	if !find("Save").Disabled || !find("Export ONNX…").Disabled || !find("Train").Disabled {
		t.Error("Save, Export or Train enabled with nothing to act on")
	}
	if find("Open…").Shortcut == nil || find("Save").Shortcut == nil || find("Train").Shortcut == nil || find("Classify Photo…").Shortcut == nil {
		t.Error("a menu item lacks its shortcut")
	}

	// The steps have shortcuts.
	sc := w.win.Canvas().(fyne.Shortcutable)
	sc.TypedShortcut(keySteps[stepResults])
	if w.current != stepResults {
		t.Errorf("Ctrl+3 shows step %d", w.current)
	}
	// Ctrl+O asks for a model; Ctrl+Shift+O for photos.
	sc.TypedShortcut(keyOpen)
	sc.TypedShortcut(keyFolder)
	if len(w.picks.asked) != 2 || !strings.Contains(w.picks.asked[0], "model") || !strings.Contains(w.picks.asked[1], "photos") {
		t.Errorf("asked %q", w.picks.asked)
	}

	// A trained model is unsaved: the title says so, and quitting asks.
	syntheticResults(t, w)
	w.doc.dirty = true
	w.doc.folder = "/photos/flowers"
	w.refresh()
	if w.win.Title() != "flowers • — Clasifica" {
		t.Errorf("title %q", w.win.Title())
	}
	if find("Save").Disabled {
		t.Error("Save disabled with a model")
	}
	closed := false
	w.closed = func() { closed = true }
	w.requestClose()
	if closed {
		t.Fatal("closed without asking about unsaved changes")
	}
	mustShow(t, w.overlay(), "has changes that are not saved", "Don't Save", "Cancel", "Save")
	test.Tap(button(t, w.overlay(), "Cancel"))
	if closed {
		t.Fatal("Cancel closed the window")
	}
	// Saving asks where, writes the file, then closes.
	dir := t.TempDir()
	w.picks.saves = []string{filepath.Join(dir, "flowers")}
	w.doc.model = validModel(t)
	w.requestClose()
	test.Tap(button(t, w.overlay(), "Save"))
	w.settle()
	if !closed {
		t.Fatal("not closed after saving")
	}
	if w.doc.path != filepath.Join(dir, "flowers.clasifica") || w.doc.dirty {
		t.Errorf("saved to %q, dirty %v", w.doc.path, w.doc.dirty)
	}
	if _, err := model.ReadFile(w.doc.path); err != nil {
		t.Errorf("the saved model cannot be read: %v", err)
	}
}

// validModel returns a small model that can be written and read back.
func validModel(t *testing.T) *model.Model {
	t.Helper()
	labels := []string{"daisy", "dandelion", "rose"}
	return &model.Model{Meta: model.Meta{Labels: labels, Created: time.Unix(0, 0).UTC(),
		Backbone: model.Backbone{ID: "x", Name: "x", SHA256: strings.Repeat("0", 64), ImageSize: 299}},
		Head: tinyHead(t, len(labels))}
}

func TestErrorsAreExplained(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	for _, c := range []struct {
		err  error
		want string
	}{
		{&app.RuntimeMissingError{Looked: []string{"/x"}}, "cannot find ONNX Runtime"},
		{&dataset.LayoutError{Root: "/photos", Found: "it is empty"}, "cannot tell what the photos in this folder show: it is empty."},
		{&app.OfflineError{URL: "https://x", Err: errors.New("no route")}, "seems to be offline"},
		{&model.NewerError{Version: 9}, "newer version of Clasifica"},
		{app.ErrNoBackbone, "No image model is installed"},
		{fmt.Errorf("another Clasifica is changing the decisions for /photos and has not finished: %w", &filelock.BusyError{File: "/d.json.lock", Waited: time.Second}),
			"Another Clasifica (a second window, or the command line) is changing the same files"},
		{fmt.Errorf("open /a/b.jpg: permission denied"), "open /a/b.jpg: permission denied"},
	} {
		if got := explain(c.err); !strings.Contains(got.what, c.want) {
			t.Errorf("%T: %q, want it to say %q", c.err, got.what, c.want)
		}
	}
	// The dialog says what happened and copies the details.
	w.showError("Training failed", &app.RuntimeMissingError{Looked: []string{"/somewhere"}})
	mustShow(t, w.overlay(), "cannot find ONNX Runtime", "Copy details", "OK")
	if !strings.Contains(w.lastError, "Install it as the details below say") {
		t.Errorf("explained as %q", w.lastError)
	}
	test.Tap(button(t, w.overlay(), "Copy details"))
	if got := w.fa.Clipboard().Content(); !strings.Contains(got, "/somewhere") || !strings.HasPrefix(got, "Training failed") {
		t.Errorf("copied %q", got)
	}
	// Cancelling is not an error.
	w.dialog = nil
	w.showError("x", fmt.Errorf("scan: %w", errCanceled()))
	if w.dialog != nil {
		t.Error("a cancellation was shown as an error")
	}
}

func TestSettingsPersist(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	w.showSettings()
	w.settle() // the device list's probe, which redraws the form
	f := w.settingsForm
	f.provider.SetSelected(providerChoices[1].label)
	f.threads.SetSelected("2")
	f.runtime.SetText("/opt/onnxruntime/libonnxruntime.so.1")
	f.appearance.SetSelected("Dark")
	f.apply(w.window)
	w.settle()
	if s := savedSettings(t, w.core); s.Provider != "cpu" || s.Threads != 2 || s.Runtime != "/opt/onnxruntime/libonnxruntime.so.1" || s.Appearance != "dark" {
		t.Errorf("saved %+v", s)
	}
	// Fyne's preferences are not written any more.
	if p := w.fa.Preferences(); p.String(prefProvider) != "" || p.String(prefAppearance) != "" {
		t.Errorf("Fyne's preferences written: %q %q", p.String(prefProvider), p.String(prefAppearance))
	}
	if th, ok := w.fa.Settings().Theme().(*appTheme); !ok || !th.forced || th.variant != theme.VariantDark {
		t.Errorf("theme %#v, want dark forced", w.fa.Settings().Theme())
	}
	// The menu shows the appearance chosen.
	for _, m := range w.win.MainMenu().Items {
		if m.Label == "View" {
			for _, it := range m.Items {
				if it.Label == "Appearance" {
					for _, c := range it.ChildMenu.Items {
						if c.Checked != (c.Label == "Dark") {
							t.Errorf("%q checked %v", c.Label, c.Checked)
						}
					}
				}
			}
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{words.Percent(0.934), "93%"},
		{words.Percent1(0.9346), "93.5%"},
		{words.Percent1(0.5), "50%"},
		{words.Plural(1, "photo", "photos"), "1 photo"},
		{words.Plural(5000, "photo", "photos"), "5,000 photos"},
		{words.Thousands(1234567), "1,234,567"},
		{words.RoughDuration(42 * time.Second), "about 40 s"},
		{words.RoughDuration(3 * time.Second), "a few seconds"},
		{words.RoughDuration(150 * time.Second), "about 3 min"},
		{words.ShortDuration(125 * time.Second), "2 min 5 s"},
		{words.Number(0.4567), "0.46"},
		{words.Number(12.34), "12.3"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestClassifyGalleryIsLazy(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	w.doc.model = validModel(t)
	w.refresh()
	// 5,000 photos: links to the flowers sample, each its own path.
	src, _ := filepath.Glob(filepath.Join(flowers(t), "*", "*.jpg"))
	dir := t.TempDir()
	for i := range 5000 {
		p := filepath.Join(dir, fmt.Sprintf("%04d.jpg", i))
		if err := os.Symlink(src[i%len(src)], p); err != nil {
			t.Skip("no symbolic links here:", err)
		}
		w.classify.preds = append(w.classify.preds, app.Prediction{Path: p, Top: []app.Scored{{Label: "daisy", Probability: 0.9}}})
	}
	w.classify.refresh()
	w.show(stepClassify)
	w.settle()
	loaded := func() (n int) {
		for i := range 5000 {
			if _, ok := w.thumbs.Cached(filepath.Join(dir, fmt.Sprintf("%04d.jpg", i))); ok {
				n++
			}
		}
		return n
	}
	first := loaded()
	if first == 0 || first > 60 {
		t.Fatalf("%d previews made for the first screen of 5,000 photos", first)
	}
	if _, ok := w.thumbs.Cached(filepath.Join(dir, "4999.jpg")); ok {
		t.Error("the last photo's preview was made before it was scrolled to")
	}
	w.classify.grid.ScrollToBottom()
	w.settle()
	if _, ok := w.thumbs.Cached(filepath.Join(dir, "4999.jpg")); !ok {
		t.Error("the last photo's preview was not made once shown")
	}
	if n := loaded(); n > 2*first+30 {
		t.Errorf("%d previews made after scrolling to the end: scrolling loads what is passed over", n)
	}
}

func TestImageModelSetup(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), true)
	if w.engine.backbone != nil {
		t.Fatal("an empty home has a backbone")
	}
	// Offline, the download fails: the screen says what to do instead.
	w.train.backbone.failed = &app.OfflineError{URL: "https://example.com/x.h5", Err: errors.New("no such host")}
	w.train.backbone.refresh()
	mustShow(t, w.train.content, "seems to be offline", "Copy link", "Import file…", "Try again")
	test.Tap(button(t, w.train.content, "Copy link"))
	if got := w.fa.Clipboard().Content(); !strings.HasSuffix(got, ".h5") || !strings.HasPrefix(got, "https://") {
		t.Errorf("copied %q", got)
	}

	// Importing the weights installs them and starts the image model.
	w.picks.opens = []string{filepath.Join(mltest.Backbone(t), "model.json")}
	test.Tap(button(t, w.train.content, "Import file…"))
	w.settle()
	if w.engine.backbone == nil || !w.engine.backbone.Offline() || w.engine.device == "" || w.engine.err != nil {
		t.Fatalf("after importing: %+v (%v)", w.engine, w.train.backbone.failed)
	}
	if w.settings.Backbone != app.OfflineBackboneID || savedSettings(t, w.core).Backbone != app.OfflineBackboneID {
		t.Error("the imported backbone is not the chosen one")
	}
	mustShow(t, w.train.content, "Using the test image model", "It runs on the processor (CPU).")
	mustShow(t, w.win.Content(), "Test image model", "Runs on CPU")
	// Settings lists it.
	w.showSettings()
	w.settle() // the device list's probe, which redraws the form
	if got := w.settingsForm.backbone.Selected; !strings.Contains(got, "for tests, not ImageNet") {
		t.Errorf("Settings shows the backbone as %q", got)
	}
}
