package ui

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
)

func TestDataScreenEmpty(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	if w.current != stepData {
		t.Fatalf("the window opens on step %d, want Data", w.current)
	}
	mustShow(t, w.data.content, "Start with your photos", "Choose folder…")
	if got := w.steps[stepData].Status(); got != "Choose your photos" {
		t.Errorf("sidebar says %q", got)
	}
	if w.win.Title() != "Clasifica" {
		t.Errorf("title %q", w.win.Title())
	}
	// Choosing is cancelled: nothing changes.
	test.Tap(button(t, w.data.content, "Choose folder…"))
	if len(w.picks.asked) != 1 || w.doc.data != nil {
		t.Errorf("asked %q, data %v", w.picks.asked, w.doc.data)
	}
}

func TestDataScreenShowsFolder(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	dir := flowers(t)
	w.picks.folders = []string{dir}
	test.Tap(button(t, w.data.content, "Choose folder…"))
	w.settle()

	d := w.doc.data
	if d == nil {
		t.Fatalf("no data after choosing %s: %v", dir, w.data.err)
	}
	if len(d.Classes) != 5 || len(d.Items) != 150 {
		t.Fatalf("%d classes, %d photos; want 5 and 150", len(d.Classes), len(d.Items))
	}
	mustShow(t, w.data.content, "150 photos · 5 kinds", "No problems found")
	counts := d.Summary().Totals
	mustShow(t, w.data.content, fmt.Sprintf("%d for the final test", counts[dataset.Test]))
	if counts[dataset.Test] == 0 {
		t.Error("the app sets photos aside for a final test by default")
	}
	if w.data.classes.Length() != 5 {
		t.Errorf("the class list has %d rows", w.data.classes.Length())
	}
	if got := w.steps[stepData].Status(); got != "150 photos · 5 kinds" {
		t.Errorf("sidebar says %q", got)
	}
	if got := w.steps[stepTrain].Status(); got != "Ready to train" {
		t.Errorf("train step says %q", got)
	}
	if w.win.Title() != "flowers — Clasifica" {
		t.Errorf("title %q", w.win.Title())
	}

	// The folder is remembered, in the settings file too.
	abs, _ := filepath.Abs(dir)
	if got := savedSettings(t, w.core).RecentFolders; len(got) == 0 || got[0] != abs {
		t.Errorf("recent folders %q, want %s first", got, abs)
	}
	// A class row shows the class's first photos, loaded lazily.
	row := newClassRow(w.thumbs)
	row.Resize(fyne.NewSize(1000, 100))
	w.data.updateRow(0, row)
	w.settle()
	if row.name.Text != "daisy" || row.count.Text != "30 photos" {
		t.Errorf("row: %q, %q", row.name.Text, row.count.Text)
	}
	if got := row.strip.Paths(); len(got) != 30 || filepath.Base(filepath.Dir(got[0])) != "daisy" {
		t.Errorf("the daisy row's strip shows %d photos", len(got))
	}
}

func TestDataScreenExplainsLayout(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	// Photos straight in the folder: nothing says what they show.
	flat := t.TempDir()
	src, _ := filepath.Glob(filepath.Join(flowers(t), "daisy", "*.jpg"))
	for _, p := range src[:3] {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(flat, filepath.Base(p)), data, 0o644)
	}
	w.data.open(flat)
	w.settle()
	if w.doc.data != nil || w.data.err == nil {
		t.Fatal("a flat folder was accepted")
	}
	mustShow(t, w.data.content, "cannot tell what the photos", "my-photos/", "Choose another folder…")
	if got := w.steps[stepData].Status(); got != "This folder needs sorting" {
		t.Errorf("sidebar says %q", got)
	}
	if w.train.trainBtn.Disabled() == false {
		t.Error("Train is enabled without photos")
	}
}

func TestDataScreenOxfordPets(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	dir := oxfordPets(t)
	// Dropped on the Data step, a folder becomes the training photos.
	w.dropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(dir)})
	w.settle()
	if w.doc.data == nil || w.doc.data.Layout != dataset.OxfordPets {
		t.Fatalf("not recognised as Oxford pets: %v", w.data.err)
	}
	if !w.data.petsRow.Visible() || w.data.pets.Selected != petsBreeds {
		t.Fatalf("pets choice visible %v, selected %q", w.data.petsRow.Visible(), w.data.pets.Selected)
	}
	breeds := len(w.doc.data.Classes)
	w.data.pets.SetSelected(petsSpecies)
	w.settle()
	if got := w.doc.data.Classes; !slices.Equal(got, []string{"cat", "dog"}) {
		t.Fatalf("by species the classes are %q (by breed %d)", got, breeds)
	}
	if w.doc.dataOpt.Granularity != dataset.Species {
		t.Error("the choice is not kept")
	}
	// The folder has its own test photos: the test share does not apply.
	if !w.train.test.Disabled() || w.train.testText.Text() != "Folder's own" {
		t.Errorf("test share enabled %v, %q", !w.train.test.Disabled(), w.train.testText.Text())
	}
}

// oxfordPets lays out part of the pets sample as the Oxford-IIIT Pet
// dataset is downloaded: images/ and annotations/ with its lists.
func oxfordPets(t *testing.T) string {
	t.Helper()
	src := mltest.Photos(t, "pets")
	dir := t.TempDir()
	images := filepath.Join(dir, "images")
	ann := filepath.Join(dir, "annotations")
	os.MkdirAll(images, 0o755)
	os.MkdirAll(ann, 0o755)
	var trainval, testList strings.Builder
	breeds := []string{"Abyssinian", "Bengal", "beagle", "boxer"}
	for id, breed := range breeds {
		species, breedID := 1, id+1
		if breed[0] >= 'a' {
			species, breedID = 2, id-1
		}
		photos, _ := filepath.Glob(filepath.Join(src, breed, "*.jpg"))
		for k, p := range photos {
			name := strings.TrimSuffix(filepath.Base(p), ".jpg")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(images, name+".jpg"), data, 0o644)
			line := fmt.Sprintf("%s %d %d %d\n", name, id+1, species, breedID)
			if k == 0 {
				testList.WriteString(line)
			} else {
				trainval.WriteString(line)
			}
		}
	}
	os.WriteFile(filepath.Join(ann, "trainval.txt"), []byte(trainval.String()), 0o644)
	os.WriteFile(filepath.Join(ann, "test.txt"), []byte(testList.String()), 0o644)
	return dir
}

// TestDataScreenFindsDamagedPhotos checks that the problems shown on the
// Data screen are those training would skip: the scan finds a declared
// 100000×100000 PNG from its header, and the background check that
// follows finds a truncated JPEG.
func TestDataScreenFindsDamagedPhotos(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	openDamaged(t, w)
	reasons := map[string]dataset.Reason{}
	for _, p := range w.doc.data.Problems {
		reasons[filepath.Base(p.Path)] = p.Reason
	}
	if reasons["bomb.png"] != dataset.ReasonTooLarge || reasons["truncated.jpg"] != dataset.ReasonUndecodable {
		t.Errorf("problems %v, want bomb.png too large and truncated.jpg undecodable", reasons)
	}
	if w.data.checkRow.Visible() {
		t.Error("the check's progress still shows after it finished")
	}
	mustShow(t, w.data.content, "2 files or folders were left out")
}

// openDamaged opens a folder of six good photos, a truncated JPEG that
// only the full-decode check finds and a PNG whose header declares
// 100000×100000 pixels, and waits for the check to finish.
func openDamaged(t *testing.T, w *testWindow) string {
	t.Helper()
	dir := t.TempDir()
	var jpeg []byte
	for _, class := range []string{"daisy", "rose"} {
		src, _ := filepath.Glob(filepath.Join(flowers(t), class, "*.jpg"))
		os.MkdirAll(filepath.Join(dir, class), 0o755)
		for _, p := range src[:3] {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			jpeg = data
			os.WriteFile(filepath.Join(dir, class, filepath.Base(p)), data, 0o644)
		}
	}
	os.WriteFile(filepath.Join(dir, "rose", "truncated.jpg"), jpeg[:len(jpeg)/3], 0o644)
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32([]byte("IHDR"), 100000), 100000)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	bomb := append(binary.BigEndian.AppendUint32([]byte("\x89PNG\r\n\x1a\n"), 13), ihdr...)
	os.WriteFile(filepath.Join(dir, "daisy", "bomb.png"), binary.BigEndian.AppendUint32(bomb, crc32.ChecksumIEEE(ihdr)), 0o644)

	w.data.open(dir)
	// The check starts when the scan's result reaches the window, and
	// reports the same way: wait for both.
	// The result is applied on Fyne's goroutine: look at it from there,
	// or the document may be seen before its screen is redrawn.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.settle()
		var done bool
		fyne.DoAndWait(func() {
			d := w.doc.data
			done = d != nil && len(d.Items) == 6 && !w.data.checkRow.Visible()
		})
		if done {
			break
		}
	}
	if w.doc.data == nil {
		t.Fatalf("not loaded: %v", w.data.err)
	}
	if n := len(w.doc.data.Items); n != 6 {
		t.Fatalf("%d photos to train on, want 6", n)
	}
	return dir
}

// TestSliderResplitsInMemory checks that moving the validation and test
// sliders divides the photos again at once, as a new scan would, without
// reading the folder: no scan starts, the full-decode check's findings
// stay on the Data screen, and its split shows the new counts.
func TestSliderResplitsInMemory(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	dir := openDamaged(t, w)
	before := w.doc.data
	fyne.DoAndWait(func() {
		w.train.val.SetValue(40)
		w.train.test.SetValue(30)
	})
	var d *dataset.Dataset
	var scanning, checking bool
	fyne.DoAndWait(func() {
		d, scanning, checking = w.doc.data, w.data.task.running(), w.data.check.running()
	})
	if scanning || checking {
		t.Fatalf("moving the sliders started a scan (%v) or a check (%v)", scanning, checking)
	}
	if d == before || d.Options.Validation != 0.4 || d.Options.Test != 0.3 || w.doc.dataOpt.Test != 0.3 {
		t.Fatalf("data shares %v/%v, document's %v/%v; want 0.4/0.3 on a new dataset",
			d.Options.Validation, d.Options.Test, w.doc.dataOpt.Validation, w.doc.dataOpt.Test)
	}
	found := false
	for _, p := range d.Problems {
		found = found || (filepath.Base(p.Path) == "truncated.jpg" && p.Reason == dataset.ReasonUndecodable)
	}
	if !found {
		t.Errorf("the check's finding (truncated.jpg) is gone: %v", d.Problems)
	}
	// The split is a new scan's with those shares, less the photo the
	// check took out.
	fresh, err := app.ScanFolder(context.Background(), dir, d.Options)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]dataset.Split{}
	for _, it := range fresh.Items {
		want[it.Path] = it.Split
	}
	var counts dataset.SplitCounts
	for _, it := range d.Items {
		counts[it.Split]++
		if want[it.Path] != it.Split {
			t.Errorf("%s in %v, a new scan puts it in %v", it.Path, it.Split, want[it.Path])
		}
	}
	mustShow(t, w.data.content, fmt.Sprintf("%d for validation", counts[dataset.Validation]))
	mustShow(t, w.data.content, fmt.Sprintf("%d for the final test", counts[dataset.Test]))
	// With so few photos the warnings about splits come first; the note
	// on the skipped files is still among those the screen lists.
	if got := describeSkipped(d.Summary().Problems); !strings.HasPrefix(got, "2 files or folders were left out") {
		t.Errorf("skipped files: %q; want the scan's and the check's two", got)
	}
}
