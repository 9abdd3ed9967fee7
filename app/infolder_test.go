package app

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
)

// classOf returns the class the scan of root counts the photo at path in,
// or "" when it is not among the photos.
func classOf(t *testing.T, a *App, root, path string, opt dataset.Options) string {
	t.Helper()
	d, err := a.Scan(context.Background(), root, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range d.Items {
		if it.Path == path {
			return d.Classes[it.Label]
		}
	}
	return ""
}

// A photo of the folder is corrected by a journaled, undoable move into
// its kind's folder; where the folder cannot be written, by a label
// override with a note saying why.
func TestCorrectInFolderMoves(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 4)
	ctx := context.Background()
	d, err := a.Scan(ctx, root, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(root, "daisy"))
	photo := filepath.Join(root, "daisy", ents[0].Name())

	if _, err := a.CorrectInFolder(d, photo, "daisy"); err == nil || !strings.Contains(err.Error(), "already counts as daisy") {
		t.Errorf("a correction to its own kind: %v", err)
	}
	if _, err := a.CorrectInFolder(d, filepath.Join(root, "nowhere.jpg"), "rose"); err == nil {
		t.Error("a photo not in the folder was corrected")
	}

	f, err := a.CorrectInFolder(d, photo, "rose")
	if err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(root, "rose", ents[0].Name())
	if f.Kind != FixMove || f.Note != "" || f.Change.NewPath != moved {
		t.Fatalf("fix %+v, want a move to %s", f, moved)
	}
	if _, err := os.Stat(photo); !os.IsNotExist(err) {
		t.Errorf("the old name is still there: %v", err)
	}
	if got := classOf(t, a, root, moved, dataset.Options{}); got != "rose" {
		t.Errorf("after the move the scan counts it as %q", got)
	}
	// The dataset in memory follows without a rescan.
	d2 := d.WithChanges([]dataset.Change{f.Change})
	if p, err := FindPhoto(d2, moved); err != nil || p.Label != "rose" {
		t.Errorf("updated dataset: %+v, %v", p, err)
	}
	if err := a.UndoFix(f); err != nil {
		t.Fatal(err)
	}
	if got := classOf(t, a, root, photo, dataset.Options{}); got != "daisy" {
		t.Errorf("after the undo the scan counts it as %q", got)
	}

	// A read-only folder (for root, an immutable one): nothing moves,
	// the photo is relabelled in Clasifica only, and says so.
	if os.Geteuid() != 0 {
		os.Chmod(filepath.Join(root, "tulip"), 0o555)
		t.Cleanup(func() { os.Chmod(filepath.Join(root, "tulip"), 0o755) })
	} else if out, err := exec.Command("chattr", "+i", filepath.Join(root, "tulip")).CombinedOutput(); err != nil {
		t.Skipf("running as root and chattr +i failed (%v: %s): no way to make a folder read-only here", err, out)
	} else {
		t.Cleanup(func() { exec.Command("chattr", "-i", filepath.Join(root, "tulip")).Run() })
	}
	f, err = a.CorrectInFolder(d, photo, "tulip")
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != FixRelabel || !strings.Contains(f.Note, "not moved") || !strings.Contains(f.Note, "cannot be written") {
		t.Errorf("read-only folder: fix %v, note %q", f.Kind, f.Note)
	}
	if _, err := os.Stat(photo); err != nil {
		t.Errorf("the photo moved: %v", err)
	}
	if got := classOf(t, a, root, photo, dataset.Options{}); got != "tulip" {
		t.Errorf("after the relabel the scan counts it as %q", got)
	}
	if err := a.UndoFix(f); err != nil {
		t.Fatal(err)
	}
	if got := classOf(t, a, root, photo, dataset.Options{}); got != "daisy" {
		t.Errorf("after undoing the relabel the scan counts it as %q", got)
	}
}

// petsFolder builds a small Oxford-IIIT Pet download from the sample
// photos: images/ and the annotation lists, two cat and two dog breeds.
func petsFolder(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "images"), 0o755)
	os.MkdirAll(filepath.Join(root, "annotations"), 0o755)
	header := "#Image CLASS-ID SPECIES BREED ID\n"
	lists := map[string]*strings.Builder{"list.txt": {}, "trainval.txt": {}, "test.txt": {}}
	for _, b := range lists {
		b.WriteString(header)
	}
	// Breeds numbered alphabetically without regard to case, as the
	// dataset does.
	breeds := []struct {
		name             string
		species, breedID int
	}{{"Abyssinian", 1, 1}, {"american_bulldog", 2, 1}, {"Bengal", 1, 2}, {"beagle", 2, 2}}
	for id, br := range breeds {
		files, _ := filepath.Glob(filepath.Join(mltest.Photos(t, "pets", br.name), "*.jpg"))
		for k, src := range files {
			name := strings.TrimSuffix(filepath.Base(src), ".jpg")
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(root, "images", name+".jpg"), data, 0o644)
			line := fmt.Sprintf("%s %d %d %d\n", name, id+1, br.species, br.breedID)
			lists["list.txt"].WriteString(line)
			if k == len(files)-1 {
				lists["test.txt"].WriteString(line)
			} else {
				lists["trainval.txt"].WriteString(line)
			}
		}
	}
	for name, b := range lists {
		if err := os.WriteFile(filepath.Join(root, "annotations", name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// In the Oxford-IIIT Pet layout a correction is a label override: the
// file stays where it is, and the override belongs to the labelling the
// dataset was scanned with.
func TestCorrectInFolderOxford(t *testing.T) {
	a := New(testDirs(t))
	root := petsFolder(t)
	opt := dataset.Options{Granularity: dataset.Species}
	d, err := a.Scan(context.Background(), root, opt)
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout != dataset.OxfordPets {
		t.Fatalf("layout %v", d.Layout)
	}
	var cat string
	for _, it := range d.Items {
		if d.Classes[it.Label] == "cat" {
			cat = it.Path
			break
		}
	}
	f, err := a.CorrectInFolder(d, cat, "dog")
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != FixRelabel || !strings.Contains(f.Note, "Oxford-IIIT Pet") {
		t.Errorf("fix %v, note %q", f.Kind, f.Note)
	}
	if _, err := os.Stat(cat); err != nil {
		t.Errorf("the file moved: %v", err)
	}
	if got := classOf(t, a, root, cat, opt); got != "dog" {
		t.Errorf("by species it counts as %q, want dog", got)
	}
	if got := classOf(t, a, root, cat, dataset.Options{Granularity: dataset.Breed}); got == "dog" || got == "" {
		t.Errorf("by breed it counts as %q: a species override changed the breeds", got)
	}
	if err := a.UndoFix(f); err != nil {
		t.Fatal(err)
	}
	if got := classOf(t, a, root, cat, opt); got != "cat" {
		t.Errorf("after the undo it counts as %q", got)
	}
}
