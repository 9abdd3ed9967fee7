package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/doctor"
	"github.com/clasifica/clasifica/ml/eval"
)

// messyFolder copies four photos of three flower kinds, then files one
// daisy under rose (a wrong label) and one photo twice (a near-copy).
func messyFolder(t *testing.T) (root, wrong, copyA, copyB string) {
	t.Helper()
	root = t.TempDir()
	for _, class := range []string{"daisy", "rose", "tulip"} {
		src := filepath.Join(flowers(t), class)
		ents, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents[:4] {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, filepath.Join(root, class, e.Name()), b)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(flowers(t), "daisy"))
	b, _ := os.ReadFile(filepath.Join(flowers(t), "daisy", ents[10].Name()))
	wrong = filepath.Join(root, "rose", ents[10].Name())
	writeTestFile(t, wrong, b)
	copyA = filepath.Join(root, "tulip", "copy-a.jpg")
	copyB = filepath.Join(root, "tulip", "copy-b.jpg")
	b, _ = os.ReadFile(filepath.Join(root, "daisy", ents[0].Name()))
	writeTestFile(t, copyA, b)
	// The same picture with a different tail: another file, the same shot.
	writeTestFile(t, copyB, append(b, "copy"...))
	return root, wrong, copyA, copyB
}

func writeTestFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func hexOf(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func countsOf(d *dataset.Dataset) map[string]int {
	out := map[string]int{}
	for _, it := range d.Items {
		out[d.Classes[it.Label]]++
	}
	return out
}

// TestLabelCheckFixesAndUndo shows a label check's findings (the doctor's
// report, made here for the planted problems: the doctor is tested in
// ml/doctor) and applies the fixes a user would: move to the suggested
// kind, undo, leave out the copy, "it's right". The Data screen's counts
// follow without reading the folder again.
func TestLabelCheckFixesAndUndo(t *testing.T) {
	core := emptyApp(t)
	w := newTestWindow(t, core, false)
	root, wrong, copyA, copyB := messyFolder(t)
	w.data.open(root)
	w.settle()
	d := w.doc.data
	if d == nil || countsOf(d)["rose"] != 5 {
		t.Fatalf("scan: %v", countsOf(d))
	}
	split := splits(d)
	c := w.data.labelCheck()
	c.open()
	c.report = &doctor.Report{
		Mislabeled:      []doctor.Suspect{{Path: wrong, SHA256: hexOf(t, wrong), Label: "rose", Suggested: "daisy", Score: 0.91}},
		NearDuplicates:  []doctor.NearCopy{nearCopy(t, copyA, copyB, split)},
		StrangersJudged: true,
	}
	c.dataset = d
	c.show()
	mustShow(t, c.body, "In rose · probably daisy · 91% sure")
	mustTabs(t, c, "Wrong folder? (1)", "Near-copies (1)", "Strangers (0)")

	w.win.Resize(fitSize())
	c.open()
	assertOverlayFits(t, w, "Check labels")
	if os.Getenv("CLASIFICA_SHOTS") != "" {
		w.win.Resize(fyne.NewSize(1024, 600))
		c.open()
		shot(t, w, filepath.Join(os.Getenv("CLASIFICA_SHOTS"), "label-check-1024x600.png"))
	}

	// Move to daisy: the file moves, the counts follow.
	test.Tap(button(t, c.body, "Move to daisy"))
	w.settle()
	moved := filepath.Join(root, "daisy", filepath.Base(wrong))
	if _, err := os.Stat(moved); err != nil {
		t.Fatalf("after Move to daisy: %v", err)
	}
	if got := countsOf(w.doc.data); got["rose"] != 4 || got["daisy"] != 5 {
		t.Errorf("counts after the move: %v", got)
	}
	mustShow(t, c.body, "Done: moved")
	mustTabs(t, c, "Wrong folder? (0)", "Near-copies (1)", "Strangers (0)")

	// Undo puts the file and the line back.
	test.Tap(button(t, c.body, "Undo: moved "+filepath.Base(wrong)+" to daisy"))
	w.settle()
	mustShow(t, c.body, "Undone: moved "+filepath.Base(wrong)+" to daisy.")
	if _, err := os.Stat(wrong); err != nil {
		t.Fatalf("after undo: %v", err)
	}
	if got := countsOf(w.doc.data); got["rose"] != 5 || got["daisy"] != 4 {
		t.Errorf("counts after undo: %v", got)
	}
	mustTabs(t, c, "Wrong folder? (1)", "Near-copies (1)", "Strangers (0)")

	// Leave out the copy: the file stays, the photo leaves the counts, and
	// the Data screen says a decision is in effect.
	c.tabs.SelectIndex(listCopies)
	if os.Getenv("CLASIFICA_SHOTS") != "" {
		shot(t, w, filepath.Join(os.Getenv("CLASIFICA_SHOTS"), "near-copies-1024x600.png"))
	}
	drop := trainingCopy(split, copyA, copyB)
	test.Tap(button(t, c.body, "Leave out "+filepath.Base(drop)))
	w.settle()
	if _, err := os.Stat(drop); err != nil {
		t.Fatalf("a left-out photo must stay on disk: %v", err)
	}
	if got := countsOf(w.doc.data); got["tulip"] != 5 {
		t.Errorf("tulip after leaving out a copy: %d, want 5", got["tulip"])
	}
	mustShow(t, w.data.content, "Your decisions: 1 photos — 1 left out.")
	c.dlg.Hide()
	assertFits(t, w, "a decision in effect")
	w.data.showDecisions()
	assertOverlayFits(t, w, "Your decisions")
	mustShow(t, w.overlay(), filepath.Base(drop), "left out of training", "Undo")
	if os.Getenv("CLASIFICA_SHOTS") != "" {
		shot(t, w, filepath.Join(os.Getenv("CLASIFICA_SHOTS"), "your-decisions-1024x600.png"))
	}
	w.overlay().(interface{ Hide() }).Hide()
	w.settle()
	c.open()

	// A new scan agrees with the counts kept in memory.
	fresh, err := core.Scan(t.Context(), root, w.doc.dataOpt)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(w.doc.data), countsOf(fresh); len(got) != len(want) || got["tulip"] != want["tulip"] || got["rose"] != want["rose"] {
		t.Errorf("in memory %v, rescanned %v", got, want)
	}

	// "It's right" on the suspect hides it from the next check.
	c.tabs.SelectIndex(listWrong)
	c.chosen[c.items[listWrong][0].key()] = true
	c.refreshLists()
	test.Tap(button(t, c.body, "It's right"))
	w.settle()
	rep, err := core.HideConfirmed(root, doctor.Report{Mislabeled: []doctor.Suspect{{Path: wrong, SHA256: hexOf(t, wrong)}}})
	if err != nil || len(rep.Mislabeled) != 0 {
		t.Errorf("a confirmed photo is suggested again: %+v, %v", rep.Mislabeled, err)
	}
}

// checkWindow opens a messy folder on the Data screen of a test window
// and returns the window, its label check, the folder and the photo in
// the wrong folder.
func checkWindow(t *testing.T) (w *testWindow, c *labelCheck, root, wrong string) {
	w = newTestWindow(t, emptyApp(t), false)
	root, wrong, _, _ = messyFolder(t)
	w.data.open(root)
	w.settle()
	return w, w.data.labelCheck(), root, wrong
}

// TestLabelCheckFiltersPair opens the view for a confusion-matrix cell.
func TestLabelCheckFiltersPair(t *testing.T) {
	w, c, root, wrong := checkWindow(t)
	c.report = &doctor.Report{Mislabeled: []doctor.Suspect{
		{Path: wrong, Label: "rose", Suggested: "daisy", Score: 0.9},
		{Path: filepath.Join(root, "tulip", "x.jpg"), Label: "tulip", Suggested: "rose", Score: 0.8},
	}, StrangersJudged: false, StrangersReason: "this image model sees every photo unlike its own subject as alike",
		Warnings: []string{"The classes are unbalanced (4 to 5 photos)", "Another warning"}}
	c.dataset = w.doc.data
	c.open("daisy", "rose")
	mustShow(t, c.body, "Only photos of daisy and rose.", "Strangers were not looked for. This image model",
		"as alike. The classes are unbalanced (4 to 5 photos). Another warning.")
	c.tabs.SelectIndex(listCopies)
	mustShow(t, c.body, "No two photos are the same shot among the photos of daisy and rose.")
	c.tabs.SelectIndex(listStrangers)
	mustShow(t, c.body, "Not judged: this image model")
	// Strangers not looked for are not "(0)": that would say none were found.
	mustTabs(t, c, "Wrong folder? (1)", "Near-copies (0)", "Strangers (not judged)")
	test.Tap(button(t, c.body, "Show all"))
	mustTabs(t, c, "Wrong folder? (2)", "Near-copies (0)", "Strangers (not judged)")
	c.tabs.SelectIndex(listCopies)
	mustShow(t, c.body, "No two photos are the same shot.")
}

// mustTabs checks the titles of the view's tabs.
func mustTabs(t *testing.T, c *labelCheck, want ...string) {
	t.Helper()
	for i, it := range c.tabs.Items {
		if it.Text != want[i] {
			t.Errorf("tab %d is %q, want %q", i, it.Text, want[i])
		}
	}
}

// shot writes what the window shows, dialogs included, as a PNG.
func shot(t *testing.T, w *testWindow, path string) {
	t.Helper()
	img := w.win.Canvas().Capture()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// TestLabelCheckActions offers a move only where a class is a folder: in
// the Oxford-IIIT Pet layout the fix is a relabel in Clasifica.
func TestLabelCheckActions(t *testing.T) {
	suspect := checkItem{list: listWrong, paths: []string{"/p/images/Bengal_1.jpg"}, labels: []string{"Bengal"}, suggested: "Persian"}
	for _, tc := range []struct {
		layout  dataset.Layout
		primary string
		move    bool
	}{
		{dataset.OxfordPets, "Count as Persian", false},
		{dataset.ClassFolders, "Move to Persian", true},
		{dataset.SplitFolders, "Move to Persian", true},
	} {
		c := &labelCheck{dataset: &dataset.Dataset{Layout: tc.layout}}
		primary, more := c.actions(suspect)
		if primary.Label != tc.primary {
			t.Errorf("%s: main action %q, want %q", tc.layout, primary.Label, tc.primary)
		}
		moves := false
		for _, m := range more {
			moves = moves || m.Label == "Move to…"
		}
		if moves != tc.move {
			t.Errorf("%s: Move to… offered %v, want %v", tc.layout, moves, tc.move)
		}
	}
}

// TestConfusionCellOpensCheck taps cells of the Results' confusion matrix:
// a cell off the diagonal says how many photos the model mixed up and
// offers the label check limited to the two kinds, opened on its
// wrong-folder list; an empty cell just shows its (no) photos.
func TestConfusionCellOpensCheck(t *testing.T) {
	w, c, root, wrong := checkWindow(t)
	s := w.results
	s.report = &eval.Report{Labels: []string{"daisy", "rose", "tulip"}, Confusion: [][]int{{4, 0, 0}, {2, 3, 0}, {0, 0, 4}}}

	s.tappedCell("daisy", "rose")
	if w.overlay() != nil {
		t.Errorf("an empty cell opened a dialog")
	}

	c.report = &doctor.Report{Mislabeled: []doctor.Suspect{
		{Path: wrong, Label: "rose", Suggested: "daisy", Score: 0.9},
		{Path: filepath.Join(root, "tulip", "x.jpg"), Label: "tulip", Suggested: "rose", Score: 0.8},
	}, StrangersJudged: true}
	c.dataset = w.doc.data
	c.tabs.SelectIndex(listCopies) // left there by an earlier look

	s.tappedCell("rose", "daisy")
	top := w.overlay()
	if top == nil {
		t.Fatal("a cell off the diagonal opened no dialog")
	}
	mustShow(t, top, "The model called 2 of the 5 test photos in rose “daisy”.")
	test.Tap(button(t, top, "Check their labels"))
	mustShow(t, c.body, "Only photos of rose and daisy.", "In rose · probably daisy · 90% sure")
	if c.tabs.SelectedIndex() != listWrong {
		t.Errorf("the check opened on tab %d, want the wrong-folder list", c.tabs.SelectedIndex())
	}
	mustTabs(t, c, "Wrong folder? (1)", "Near-copies (0)", "Strangers (0)")
}

// TestLabelCheckStop: Stop during a check goes back to the start and says
// that the work done is kept.
func TestLabelCheckStop(t *testing.T) {
	_, c, _, _ := checkWindow(t)
	c.open()
	ctx, _ := c.task.begin() // a check under way, as start leaves it
	c.show()
	test.Tap(button(t, c.body, "Stop"))
	if ctx.Err() == nil {
		t.Error("Stop did not cancel the check")
	}
	mustShow(t, c.body, "Stopped. The photos it looked at are remembered")
	button(t, c.body, "Check the labels")
}

// splits maps each photo of d to its split's name.
func splits(d *dataset.Dataset) map[string]string {
	split := map[string]string{}
	for _, it := range d.Items {
		split[it.Path] = it.Split.String()
	}
	return split
}

// nearCopy is the doctor's finding for messyFolder's planted pair a, b.
func nearCopy(t *testing.T, a, b string, split map[string]string) doctor.NearCopy {
	return doctor.NearCopy{Paths: [2]string{a, b}, SHA256: [2]string{hexOf(t, a), hexOf(t, b)}, Similarity: 0.99, Labels: [2]string{"tulip", "tulip"}, Splits: [2]string{split[a], split[b]}}
}

// trainingCopy is the photo of the pair a, b that "Leave out" offers:
// the one on the training side.
func trainingCopy(split map[string]string, a, b string) string {
	if split[a] == "train" && split[b] != "train" {
		return a
	}
	return b
}

// TestLabelCheckUndoKeepsLaterDecision leaves a near-copy out in the label
// check, then another Clasifica (another App on the same folders) marks
// the same photo "right": Undo then leaves the photo as decided since,
// says so, and leaves the undo list and the pair off the lists, rather
// than undoing that decision too.
func TestLabelCheckUndoKeepsLaterDecision(t *testing.T) {
	w, c, root, _ := checkWindow(t)
	core := w.core
	copyA, copyB := filepath.Join(root, "tulip", "copy-a.jpg"), filepath.Join(root, "tulip", "copy-b.jpg") // messyFolder's
	d := w.doc.data
	split := splits(d)
	c.open()
	c.report = &doctor.Report{
		NearDuplicates:  []doctor.NearCopy{nearCopy(t, copyA, copyB, split)},
		StrangersJudged: true,
	}
	c.dataset = d
	c.show()
	c.tabs.SelectIndex(listCopies)
	drop := trainingCopy(split, copyA, copyB)
	test.Tap(button(t, c.body, "Leave out "+filepath.Base(drop)))
	w.settle()

	other := app.New(core.Dirs)
	p, err := app.FindPhoto(w.doc.data, drop)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ConfirmLabel(w.doc.data, p, true); err != nil {
		t.Fatal(err)
	}
	test.Tap(button(t, c.body, "Undo: left "+filepath.Base(drop)+" out"))
	w.settle()
	mustShow(t, c.body, "Not undone: "+filepath.Base(drop)+" was decided otherwise since (in another window or Clasifica), and is left as it is.")
	if contains(c.body, "Undo: left "+filepath.Base(drop)+" out") {
		t.Error("the fix that cannot be undone is still offered")
	}
	mustTabs(t, c, "Wrong folder? (0)", "Near-copies (0)", "Strangers (0)")
	s, err := core.LoadDecisions(root)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := s.Get(p.Hash); !ok || !r.LeaveOut || !r.Right {
		t.Errorf("after Undo: decision %+v (%v); want left out and right, as decided since", r, ok)
	}
}
