package app

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/decisions"
	"github.com/clasifica/clasifica/ml/doctor"
	"github.com/clasifica/clasifica/ml/model"
)

// TestFixesAndUndo applies each fix of the label check to a scanned
// folder, checks that the dataset changed in memory matches a new scan,
// then undoes them all, newest first.
func TestFixesAndUndo(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 3)
	ctx := context.Background()
	d, err := a.Scan(ctx, root, dataset.Options{Validation: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	orig := d
	photo := func(i int) DecidedPhoto {
		p, err := FindPhoto(d, orig.Items[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	steps := []struct {
		kind  FixKind
		item  int
		class string
	}{
		{FixMove, 0, "rose"},
		{FixRelabel, 1, "tulip"},
		{FixLeaveOut, 3, ""},
		{FixRight, 4, ""},
	}
	var fixes []Fix
	for _, s := range steps {
		f, err := a.ApplyFix(d, photo(s.item), s.kind, s.class)
		if err != nil {
			t.Fatalf("%s: %v", s.kind, err)
		}
		d = d.WithChanges([]dataset.Change{f.Change})
		fixes = append(fixes, f)
	}
	fresh, err := a.Scan(ctx, root, dataset.Options{Validation: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Classes, fresh.Classes) || !slices.Equal(d.Items, fresh.Items) {
		t.Errorf("after fixes, in memory:\n%v\nrescanned:\n%v", d.Items, fresh.Items)
	}

	// "It's right" hides the photo from the next check's lists.
	h := orig.Items[4].Hash
	rep := doctor.Report{Mislabeled: []doctor.Suspect{{Path: orig.Items[4].Path, SHA256: hex.EncodeToString(h[:])}, {Path: "other", SHA256: "00"}}}
	got, err := a.HideConfirmed(root, rep)
	if err != nil || len(got.Mislabeled) != 1 || got.Mislabeled[0].Path != "other" {
		t.Errorf("HideConfirmed: %+v, %v", got.Mislabeled, err)
	}

	for i := len(fixes) - 1; i >= 0; i-- {
		if err := a.UndoFix(fixes[i]); err != nil {
			t.Fatalf("undo %s: %v", fixes[i].Describe(), err)
		}
		d = d.WithChanges([]dataset.Change{fixes[i].Undone})
	}
	fresh, err = a.Scan(ctx, root, dataset.Options{Validation: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fresh.Items, orig.Items) || len(fresh.Decided) != 0 {
		t.Errorf("after undoing every fix: %d items, %d decisions; want the original %d and none", len(fresh.Items), len(fresh.Decided), len(orig.Items))
	}
	if !slices.Equal(d.Items, orig.Items) {
		t.Errorf("after undo in memory:\n%v\nwant\n%v", d.Items, orig.Items)
	}
}

// TestCopiedInJoinsTraining copies a photo into a folder as a correction
// would: it counts in training whatever its hash says, and undo deletes
// only that copy.
func TestCopiedInJoinsTraining(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 3)
	ctx := context.Background()
	opt := dataset.Options{Validation: 0.5, Test: 0.45}
	before, err := a.Scan(ctx, root, opt)
	if err != nil {
		t.Fatal(err)
	}
	// Copy in held-out photos of another folder: by their hash most
	// would land in validation or test.
	other := smallFolder(t, 3)
	var copies []string
	for _, class := range []string{"daisy", "rose", "tulip"} {
		ents, _ := os.ReadDir(filepath.Join(other, class))
		for _, e := range ents {
			src := filepath.Join(other, class, e.Name())
			dst := filepath.Join(root, class, "copied-"+e.Name())
			b, _ := os.ReadFile(src)
			if err := os.WriteFile(dst, append(b, "correction"...), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := a.RecordCopiedIn(before, dst, src, class); err != nil {
				t.Fatal(err)
			}
			copies = append(copies, dst)
		}
	}
	after, err := a.Scan(ctx, root, opt)
	if err != nil {
		t.Fatal(err)
	}
	split := map[string]dataset.Split{}
	for _, it := range after.Items {
		split[it.Path] = it.Split
	}
	for _, c := range copies {
		if split[c] != dataset.Train {
			t.Errorf("copied-in %s is in %v, want train", c, split[c])
		}
	}
	for _, it := range before.Items {
		if split[it.Path] != it.Split {
			t.Errorf("%s moved from %v to %v when photos were copied in", it.Path, it.Split, split[it.Path])
		}
	}
	// Undo deletes the copy; a user's own file is never deleted.
	if err := a.UndoCopyIn(root, copies[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(copies[0]); !os.IsNotExist(err) {
		t.Errorf("the undone copy is still there (%v)", err)
	}
	if err := a.UndoCopyIn(root, before.Items[0].Path); err == nil {
		t.Error("UndoCopyIn deleted a file Clasifica did not copy")
	}
	if _, err := os.Stat(before.Items[0].Path); err != nil {
		t.Errorf("a user's file is gone: %v", err)
	}
}

func TestChangedSinceTraining(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 3)
	d, err := a.Scan(context.Background(), root, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := &model.Model{}
	m.Labels, m.Training = d.Classes, &model.Training{}
	for _, it := range d.Items[:3] {
		m.Training.Test = append(m.Training.Test, model.Sample{Path: it.Path, SHA256: hex.EncodeToString(it.Hash[:]), Label: it.Label})
	}
	if n := ChangedSinceTraining(m, d); n != 0 {
		t.Errorf("before any decision: %d changed", n)
	}
	p0, _ := FindPhoto(d, d.Items[0].Path)
	p1, _ := FindPhoto(d, d.Items[1].Path)
	p5, _ := FindPhoto(d, d.Items[5].Path) // not a test photo
	a.Relabel(d, p0, "tulip")
	a.LeaveOut(d, p1, true)
	a.Relabel(d, p5, "daisy")
	d, _ = a.Scan(context.Background(), root, dataset.Options{})
	if n := ChangedSinceTraining(m, d); n != 2 {
		t.Errorf("%d test photos changed, want 2 (one relabelled, one left out)", n)
	}
}

// TestUndoFixKeepsLaterChange undoes fixes whose photo's decision changed
// after them: a change by another App on the same folder (another window
// or process) is kept and the undo refused with a specific error, while
// two fixes of one photo undone newest first both undo.
func TestUndoFixKeepsLaterChange(t *testing.T) {
	dirs := testDirs(t)
	a, other := New(dirs), New(dirs)
	root := smallFolder(t, 3)
	ctx := context.Background()
	d, err := a.Scan(ctx, root, dataset.Options{Validation: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	photo := func(i int) DecidedPhoto {
		p, err := FindPhoto(d, d.Items[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	decision := func(p DecidedPhoto) (string, bool, bool) {
		s, err := a.LoadDecisions(root)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := s.Get(p.Hash)
		return r.Override[decisions.SchemeFolder], r.LeaveOut, r.Right
	}

	// Relabelled here, then left out by another process: undoing the
	// relabel would also bring the photo back in.
	p := photo(1)
	f, err := a.ApplyFix(d, p, FixRelabel, "tulip")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.LeaveOut(d, p, true); err != nil {
		t.Fatal(err)
	}
	err = a.UndoFix(f)
	if err == nil || !strings.Contains(err.Error(), "changed after it") || !strings.Contains(err.Error(), filepath.Base(p.Path)) {
		t.Errorf("undo after another change: %v, want an error saying the decision about %s changed", err, filepath.Base(p.Path))
	}
	if label, out, _ := decision(p); label != "tulip" || !out {
		t.Errorf("after the refused undo: counted as %q, left out %v; want tulip, left out", label, out)
	}

	// Two fixes of one photo, undone newest first.
	q := photo(2)
	f1, err := a.ApplyFix(d, q, FixRelabel, "rose")
	if err != nil {
		t.Fatal(err)
	}
	f2, err := a.ApplyFix(d, q, FixRight, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.UndoFix(f1); err == nil {
		t.Error("the older fix undone while a later one stands")
	}
	for _, f := range []Fix{f2, f1} {
		if err := a.UndoFix(f); err != nil {
			t.Fatalf("undo %s: %v", f.Describe(), err)
		}
	}
	if label, out, right := decision(q); label != "" || out || right {
		t.Errorf("after undoing both: counted as %q, left out %v, right %v; want no decision", label, out, right)
	}
}

// TestChangeDecisionsRemovesStaleTemp changes a decision where a save cut
// short left its temporary file: the change removes it.
func TestChangeDecisionsRemovesStaleTemp(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 3)
	d, err := a.Scan(context.Background(), root, dataset.Options{Validation: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	p, err := FindPhoto(d, d.Items[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	file, err := a.LeaveOut(d, p, true)
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(filepath.Dir(file), "."+filepath.Base(file)+".tmp-killed")
	if err := os.WriteFile(stale, []byte(`{"version":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := a.LeaveOut(d, p, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s is still there after a change (%v)", stale, err)
	}
}
