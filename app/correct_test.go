package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
)

// Corrections are copied into the kind's folder, never over a file, and
// always join the training split, whatever their content hash would say.
func TestAddCorrection(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 6)
	daisies, _ := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers", "daisy"), "*.jpg"))
	sunflowers, _ := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers", "sunflower"), "*.jpg"))
	var added []string
	for _, src := range daisies[10:18] {
		c, err := a.AddCorrection(root, src, "daisy")
		if err != nil {
			t.Fatal(err)
		}
		if c.NewKind || filepath.Dir(c.To) != filepath.Join(root, "daisy") {
			t.Fatalf("correction %+v", c)
		}
		if _, err := os.Stat(src); err != nil {
			t.Fatalf("the original was moved: %v", err)
		}
		added = append(added, c.To)
	}
	// A new kind gets its folder.
	c, err := a.AddCorrection(root, sunflowers[0], "sunflower")
	if err != nil || !c.NewKind {
		t.Fatalf("new kind: %+v, %v", c, err)
	}
	added = append(added, c.To)
	// The same photo again is refused; another photo of the same name
	// gets a numbered name.
	if _, err := a.AddCorrection(root, daisies[10], "daisy"); err == nil || !strings.Contains(err.Error(), "already holds the same photo") {
		t.Errorf("the same photo twice: %v", err)
	}
	other := filepath.Join(t.TempDir(), filepath.Base(daisies[10]))
	data, _ := os.ReadFile(sunflowers[1])
	os.WriteFile(other, data, 0o644)
	c, err = a.AddCorrection(root, other, "daisy")
	if err != nil || filepath.Base(c.To) == filepath.Base(daisies[10]) {
		t.Fatalf("name taken: %+v, %v", c, err)
	}
	added = append(added, c.To)

	d, err := a.Scan(context.Background(), root, dataset.Options{Validation: 0.5, Test: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	assertTraining(t, d, added)

	gone := filepath.Join(t.TempDir(), "moved-away")
	if _, err := a.AddCorrection(gone, daisies[0], "daisy"); err == nil || !strings.Contains(err.Error(), "is gone") {
		t.Errorf("a gone folder: %v", err)
	}
	if _, err := a.AddCorrection(root, daisies[0], "a/b"); err == nil {
		t.Error("a kind with a slash was accepted")
	}
	if err := readOnly(fmt.Errorf("open: %w", fs.ErrPermission), root); !strings.Contains(err.Error(), "is read-only") {
		t.Errorf("permission error says %q", err)
	}
}

// A correction that would copy in a copy or a near-copy of a photo that
// is, or may be, a validation or test photo is refused, and nothing is
// added; a near-copy of an earlier correction (always a training photo) is
// not.
func TestCorrectionOfHeldOutCopyRefused(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 6)
	count := func(kind string) int {
		ents, _ := os.ReadDir(filepath.Join(root, kind))
		return len(ents)
	}
	daisy, _ := filepath.Glob(filepath.Join(root, "daisy", "*.jpg"))
	near := filepath.Join(t.TempDir(), "resaved.jpg")
	recompress(t, daisy[0], near)
	_, err := a.AddCorrection(root, near, "daisy")
	var refused *CopyOfPhotoError
	if !errors.As(err, &refused) || refused.Exact || refused.Twin != daisy[0] || !strings.Contains(err.Error(), "near-copy") {
		t.Errorf("a near-copy of %s: %v", daisy[0], err)
	}
	if count("daisy") != 6 {
		t.Errorf("the refused correction left %d photos in daisy", count("daisy"))
	}

	rose, _ := filepath.Glob(filepath.Join(root, "rose", "*.jpg"))
	same := filepath.Join(t.TempDir(), "same.jpg")
	data, _ := os.ReadFile(rose[2])
	os.WriteFile(same, data, 0o644)
	_, err = a.AddCorrection(root, same, "sunflower")
	if !errors.As(err, &refused) || !refused.Exact || refused.Twin != rose[2] {
		t.Errorf("the same photo as %s: %v", rose[2], err)
	}
	if _, err := os.Stat(filepath.Join(root, "sunflower")); !os.IsNotExist(err) {
		t.Errorf("the refused correction made the new kind's folder: %v", err)
	}

	others, _ := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers", "daisy"), "*.jpg"))
	first, err := a.AddCorrection(root, others[20], "daisy")
	if err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(t.TempDir(), "resaved-correction.jpg")
	recompress(t, first.To, again)
	if _, err := a.AddCorrection(root, again, "daisy"); err != nil {
		t.Errorf("a near-copy of a correction (a training photo) was refused: %v", err)
	}
}

// A scan never lists a correction without its decision: one that was
// asked for (its decisions read) before the copy was made, and lists the
// folder after, finds the copy a training photo. And corrections made at
// once, each in a goroutine of its own as the app makes them, all keep
// their decision.
func TestCorrectionsRecordedBeforeScansSeeThem(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 6)
	opt := dataset.Options{Validation: 0.3, Test: 0.5}
	asked, err := a.WithDecisions(root, opt)
	if err != nil {
		t.Fatal(err)
	}
	daisies, _ := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers", "daisy"), "*.jpg"))
	var wg sync.WaitGroup
	copies := make([]string, 12)
	for i, src := range daisies[10:22] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := a.AddCorrection(root, src, "daisy")
			if err != nil {
				t.Error(err)
				return
			}
			copies[i] = c.To
		}()
	}
	wg.Wait()
	s, err := a.LoadDecisions(root)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != len(copies) {
		t.Errorf("%d corrections made at once left %d decisions", len(copies), s.Len())
	}
	ents, _ := os.ReadDir(filepath.Join(root, "daisy"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("a temporary file is left in the folder: %s", e.Name())
		}
	}
	// One a crash left (hours old) goes at the next correction; one of
	// a correction under way (new) stays.
	dir := filepath.Join(root, "daisy")
	stale, fresh := filepath.Join(dir, ".clasifica-correction-1.jpg"), filepath.Join(dir, ".clasifica-correction-2.jpg")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half a photo"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-3 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddCorrection(root, daisies[22], "daisy"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a correction's file left by a crash is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a correction's file of a correction under way was removed: %v", err)
	}
	copies = append(copies, filepath.Join(dir, filepath.Base(daisies[22])))
	d, err := ScanFolder(context.Background(), root, asked)
	if err != nil {
		t.Fatal(err)
	}
	assertTraining(t, d, copies)
}

// assertTraining fails unless each of paths is a training photo of d.
func assertTraining(t *testing.T, d *dataset.Dataset, paths []string) {
	t.Helper()
	split := map[string]dataset.Split{}
	for _, it := range d.Items {
		split[it.Path] = it.Split
	}
	for _, p := range paths {
		if s, ok := split[p]; !ok || s != dataset.Train {
			t.Errorf("%s: in split %v (listed %v), want training", p, s, ok)
		}
	}
}
