package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// syntheticTree writes n distinct small photos into each of the given
// class folders, numbered from first.
func syntheticTree(t testing.TB, root string, classes []int, first, n int) {
	t.Helper()
	for _, c := range classes {
		dir := filepath.Join(root, fmt.Sprintf("class%d", c))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := first; i < first+n; i++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%05d.jpg", i)), fakePhoto(c, i), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestSplitStableWhenAddingPhotos(t *testing.T) {
	opts := []Options{
		{Validation: 0.2, Test: 0.1},
		{Validation: 0.2},
		{Validation: 0.15, Test: 0.15, Workers: 1},
	}
	root := t.TempDir()
	syntheticTree(t, root, []int{0, 1, 2}, 0, 300)
	before := make([]map[string]Item, len(opts))
	for i, opt := range opts {
		before[i] = itemMap(mustScan(t, root, opt))
	}

	// More photos in the old classes, and a new class.
	syntheticTree(t, root, []int{0, 1, 2}, 300, 200)
	syntheticTree(t, root, []int{3}, 0, 100)
	for i, opt := range opts {
		after := mustScan(t, root, opt)
		if len(after.Items) != 1600 {
			t.Fatalf("%d items after adding, want 1600", len(after.Items))
		}
		now := itemMap(after)
		moved := 0
		for path, it := range before[i] {
			if now[path].Split != it.Split {
				moved++
			}
		}
		if moved > 0 {
			t.Errorf("options %+v: %d of %d photos changed split after photos were added", opt, moved, len(before[i]))
		}
	}
}

func TestSplitSharesPerClass(t *testing.T) {
	root := t.TempDir()
	syntheticTree(t, root, []int{0, 1, 2}, 0, 1500)
	opt := Options{Validation: 0.2, Test: 0.1}
	d := mustScan(t, root, opt)
	for i, c := range d.Counts() {
		n := float64(c.Total())
		val, test := float64(c[Validation])/n, float64(c[Test])/n
		// Binomial standard deviations are 0.010 and 0.008 at n = 1500:
		// these bounds are four of them. The files are fixed, so the
		// outcome is too: this test cannot flake.
		if math.Abs(val-opt.Validation) > 0.04 || math.Abs(test-opt.Test) > 0.03 {
			t.Errorf("class %s: validation %.3f, test %.3f; want about %.2f and %.2f", d.Classes[i], val, test, opt.Validation, opt.Test)
		}
	}
}

// TestAssign checks the split rule on many hash values: shares respected,
// and raising a share only moves photos out of training.
func TestAssign(t *testing.T) {
	const n = 100000
	hashes := make([][32]byte, n)
	for i := range hashes {
		hashes[i] = sha256.Sum256(binary.LittleEndian.AppendUint32(nil, uint32(i)))
	}
	tests := []struct {
		pool      pool
		val, test float64
		want      [numSplits]float64
	}{
		{poolAll, 0.2, 0.1, [numSplits]float64{0.7, 0.2, 0.1}},
		{poolAll, 0, 0, [numSplits]float64{1, 0, 0}},
		{poolTrain, 0.2, 0.5, [numSplits]float64{0.8, 0.2, 0}},
		{poolTrainOnly, 0.2, 0.1, [numSplits]float64{1, 0, 0}},
		{poolValidation, 0, 0, [numSplits]float64{0, 1, 0}},
		{poolTest, 0.3, 0, [numSplits]float64{0, 0, 1}},
	}
	for _, tc := range tests {
		var got [numSplits]float64
		for _, h := range hashes {
			got[assign(tc.pool, h, tc.val, tc.test)] += 1.0 / n
		}
		for sp := range got {
			if math.Abs(got[sp]-tc.want[sp]) > 0.005 {
				t.Errorf("pool %d val %v test %v: shares %.3f, want %.3f", tc.pool, tc.val, tc.test, got, tc.want)
				break
			}
		}
	}
	for _, h := range hashes {
		small, large := assign(poolAll, h, 0.1, 0.1), assign(poolAll, h, 0.3, 0.1)
		if small != large && small != Train {
			t.Fatalf("raising the validation share moved a photo from %s to %s", small, large)
		}
		// A photo of a layout's training folder lands where it would
		// without the folder.
		if a, b := assign(poolAll, h, 0.2, 0), assign(poolTrain, h, 0.2, 0); a != b {
			t.Fatalf("poolAll %s, poolTrain %s", a, b)
		}
	}
}

func TestDuplicates(t *testing.T) {
	root := t.TempDir()
	jpeg := onePhoto(t)
	for _, f := range []struct {
		rel  string
		data []byte
	}{
		{"cats/a.jpg", variant(jpeg, "a")},
		{"dogs/a-copy.jpg", variant(jpeg, "a")}, // same photo, two classes
		{"cats/b.jpg", variant(jpeg, "b")},
		{"cats/old/b.jpg", variant(jpeg, "b")}, // copy within a class
		{"cats/b (1).jpg", variant(jpeg, "b")}, // and another
		{"dogs/c.jpg", variant(jpeg, "c")},
	} {
		writeFile(t, filepath.Join(root, f.rel), f.data)
	}
	d := mustScan(t, root, Options{Validation: 0.5})

	groups := d.Duplicates()
	if len(groups) != 2 || len(groups[0].Items)+len(groups[1].Items) != 5 {
		t.Fatalf("duplicate groups %+v", groups)
	}
	for _, g := range groups {
		for _, i := range g.Items[1:] {
			if d.Items[i].Split != d.Items[g.Items[0]].Split {
				t.Errorf("identical photos in different splits: %+v", g)
			}
		}
	}
	s := d.Summary()
	cross := warningsOf(s, WarnSamePhotoInTwoClasses)
	if len(cross) != 1 || !slices.Equal(cross[0].Classes, []string{"cats", "dogs"}) ||
		!slices.Equal(cross[0].Paths, []string{filepath.Join(root, "cats/a.jpg"), filepath.Join(root, "dogs/a-copy.jpg")}) {
		t.Errorf("same photo in two classes: %+v", cross)
	}
	dups := warningsOf(s, WarnDuplicates)
	if len(dups) != 1 || len(dups[0].Paths) != 2 {
		t.Errorf("copies within a class: %+v", dups)
	}
	if ws := warningsOf(s, WarnSamePhotoInTwoSplits); len(ws) != 0 {
		t.Errorf("splits by content cannot separate copies, got %+v", ws)
	}
}

func TestSamePhotoInTwoSplitFolders(t *testing.T) {
	root := t.TempDir()
	jpeg := onePhoto(t)
	writeFile(t, filepath.Join(root, "train/cats/a.jpg"), variant(jpeg, "a"))
	writeFile(t, filepath.Join(root, "train/dogs/b.jpg"), variant(jpeg, "b"))
	writeFile(t, filepath.Join(root, "test/cats/a.jpg"), variant(jpeg, "a"))
	writeFile(t, filepath.Join(root, "test/dogs/c.jpg"), variant(jpeg, "c"))
	d := mustScan(t, root, Options{})
	ws := warningsOf(d.Summary(), WarnSamePhotoInTwoSplits)
	if len(ws) != 1 || len(ws[0].Paths) != 2 {
		t.Errorf("leak between train and test: %+v", ws)
	}
}

func TestSizeWarningsAndWeights(t *testing.T) {
	root := t.TempDir()
	syntheticTree(t, root, []int{0}, 0, 30)
	syntheticTree(t, root, []int{1}, 0, 4)
	syntheticTree(t, root, []int{2}, 0, 10)
	d := mustScan(t, root, Options{})

	w := d.ClassWeights()
	want := []float32{44.0 / (3 * 30), 44.0 / (3 * 4), 44.0 / (3 * 10)}
	for i := range want {
		if math.Abs(float64(w[i]-want[i])) > 1e-6 {
			t.Errorf("weights %v, want %v", w, want)
			break
		}
	}
	s := d.Summary()
	if ws := warningsOf(s, WarnSmallClass); len(ws) != 1 || !slices.Equal(ws[0].Classes, []string{"class1"}) {
		t.Errorf("small class warning: %+v", ws)
	}
	if ws := warningsOf(s, WarnImbalance); len(ws) != 1 || !slices.Equal(ws[0].Classes, []string{"class0", "class1"}) {
		t.Errorf("imbalance warning: %+v", ws)
	}
	if s.Classes[1].Weight != w[1] || s.Totals.Total() != 44 {
		t.Errorf("summary classes %+v totals %v", s.Classes, s.Totals)
	}
}

func TestClassWeightsEdgeCases(t *testing.T) {
	d := &Dataset{
		Classes: []string{"a", "b", "c"},
		Items: []Item{
			{Label: 0, Split: Train}, {Label: 0, Split: Train}, {Label: 0, Split: Validation},
			{Label: 1, Split: Train},
			{Label: 2, Split: Test}, // no training photos
		},
	}
	got := d.ClassWeights()
	want := []float32{3.0 / (2 * 2), 3.0 / (2 * 1), 0}
	if !slices.Equal(got, want) {
		t.Errorf("weights %v, want %v", got, want)
	}
	ws := warningsOf(d.Summary(), WarnMissingFromSplit)
	if len(ws) != 3 { // c has no training, b and c no validation, a and b no test
		t.Errorf("missing-from-split warnings: %+v", ws)
	}
}
