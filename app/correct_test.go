package app

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	split := map[string]dataset.Split{}
	for _, it := range d.Items {
		split[it.Path] = it.Split
	}
	for _, p := range added {
		if s, ok := split[p]; !ok || s != dataset.Train {
			t.Errorf("%s: in split %v (found %v), want training", p, s, ok)
		}
	}

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
