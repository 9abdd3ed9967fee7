package dataset

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// decisionMap answers Scan by content hash, per layout and granularity
// (pets by breed only, like an override made while labelling by breed).
type decisionMap struct {
	by     map[[32]byte]Decision
	breeds bool // the decisions apply to the Oxford pets by breed only
	asked  int
}

func (m *decisionMap) Decide(h [32]byte, layout Layout, g Granularity) (Decision, bool) {
	m.asked++
	if m.breeds && (layout != OxfordPets || g != Breed) {
		return Decision{}, false
	}
	d, ok := m.by[h]
	return d, ok
}

func hashOf(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func classCount(d *Dataset) map[string]int {
	out := map[string]int{}
	for _, it := range d.Items {
		out[d.Classes[it.Label]]++
	}
	return out
}

func TestScanAppliesDecisions(t *testing.T) {
	root := t.TempDir()
	// Three classes of three photos; "c" is emptied by relabelling.
	var paths = map[string][]string{}
	for _, c := range []string{"a", "b", "c"} {
		for i := range 3 {
			p := filepath.Join(root, c, string(rune('0'+i))+".jpg")
			writeFile(t, p, fakePhoto(int(c[0]), i))
			paths[c] = append(paths[c], p)
		}
	}
	dm := &decisionMap{by: map[[32]byte]Decision{
		hashOf(t, paths["a"][0]): {Label: "b"},                 // to an existing class
		hashOf(t, paths["a"][1]): {Label: "new kind"},          // to a new class
		hashOf(t, paths["b"][0]): {LeaveOut: true},             // left out
		hashOf(t, paths["b"][1]): {Split: Test, Forced: true},  // forced split
		hashOf(t, paths["b"][2]): {Label: "b"},                 // its own class: no change
		hashOf(t, paths["c"][0]): {Label: "a"},                 // c is emptied...
		hashOf(t, paths["c"][1]): {Label: "a"},                 //
		hashOf(t, paths["c"][2]): {LeaveOut: true, Label: "a"}, // ...leave out wins
	}}
	d := mustScan(t, root, Options{Validation: 0.2, Decisions: dm})

	if want := []string{"a", "b", "new kind"}; !slices.Equal(d.Classes, want) {
		t.Fatalf("classes = %q, want %q (c emptied by decisions, new kind added, natural order)", d.Classes, want)
	}
	if got, want := classCount(d), map[string]int{"a": 3, "b": 3, "new kind": 1}; len(got) != len(want) || got["a"] != 3 || got["b"] != 3 || got["new kind"] != 1 {
		t.Errorf("photos per class = %v, want %v", got, want)
	}
	items := itemMap(d)
	if _, ok := items[paths["b"][0]]; ok {
		t.Errorf("left-out photo %s is among the items", paths["b"][0])
	}
	if it := items[paths["b"][1]]; it.Split != Test {
		t.Errorf("forced photo's split = %v, want test", it.Split)
	}
	for i := 1; i < len(d.Items); i++ {
		a, b := d.Items[i-1], d.Items[i]
		if a.Label > b.Label || (a.Label == b.Label && a.Path > b.Path) {
			t.Fatalf("items not ordered by label and path after decisions: %s before %s", a.Path, b.Path)
		}
	}
	if _, ok := problemMap(d)[filepath.Join(root, "c")]; ok {
		t.Errorf("folder c, emptied by decisions, is reported as a problem: %s", problemList(d))
	}
	c := Count(d.Decided)
	// b/2.jpg relabelled to its own class is a decision in effect that
	// changes nothing: counted, but not as relabelled.
	if want := (DecisionCounts{Total: 8, Relabelled: 4, LeftOut: 2, ForcedSplit: 1}); c != want {
		t.Errorf("decision counts = %+v, want %+v", c, want)
	}
	if s := d.Summary(); s.Decisions != c {
		t.Errorf("summary decisions = %+v, want %+v", s.Decisions, c)
	}
	for _, dec := range d.Decided {
		if dec.Path == paths["a"][1] && (dec.Folder != "a" || dec.Label != "new kind" || !dec.Relabelled()) {
			t.Errorf("decided %+v, want folder a, label new kind", dec)
		}
	}

	// Renaming and moving a photo keeps its decision: the key is the
	// content.
	moved := filepath.Join(root, "b", "sub", "renamed.jpg")
	if err := os.MkdirAll(filepath.Dir(moved), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(paths["a"][1], moved); err != nil {
		t.Fatal(err)
	}
	d = mustScan(t, root, Options{Validation: 0.2, Decisions: dm})
	if it, ok := itemMap(d)[moved]; !ok || d.Classes[it.Label] != "new kind" {
		t.Errorf("renamed photo: %+v in %q, want in class new kind", it, d.Classes)
	}

	// Without decisions the folders rule again.
	d = mustScan(t, root, Options{Validation: 0.2})
	if !slices.Equal(d.Classes, []string{"a", "b", "c"}) || len(d.Items) != 9 || d.Decided != nil {
		t.Errorf("without decisions: classes %q, %d items, decided %v", d.Classes, len(d.Items), d.Decided)
	}
}

func TestScanDecisionsLeaveTooFewClasses(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a", "1.jpg"), filepath.Join(root, "b", "1.jpg")
	writeFile(t, a, fakePhoto(1, 1))
	writeFile(t, b, fakePhoto(2, 1))
	dm := &decisionMap{by: map[[32]byte]Decision{hashOf(t, b): {LeaveOut: true}}}
	_, err := Scan(t.Context(), root, Options{Decisions: dm})
	if le := layoutError(t, err); le == nil {
		t.Fatalf("leaving out the only photo of b: err = %v, want a layout error", err)
	}
}

func TestScanForcedSplitRespectsGivenSplits(t *testing.T) {
	root := t.TempDir()
	train := filepath.Join(root, "train", "a", "1.jpg")
	test := filepath.Join(root, "test", "a", "1.jpg")
	writeFile(t, train, fakePhoto(1, 1))
	writeFile(t, test, fakePhoto(1, 2))
	writeFile(t, filepath.Join(root, "train", "b", "1.jpg"), fakePhoto(2, 1))
	writeFile(t, filepath.Join(root, "test", "b", "1.jpg"), fakePhoto(2, 2))
	dm := &decisionMap{by: map[[32]byte]Decision{
		hashOf(t, train): {Split: Test, Forced: true}, // across the folder's split: refused
		hashOf(t, test):  {Split: Train, Forced: true},
	}}
	d := mustScan(t, root, Options{Decisions: dm})
	items := itemMap(d)
	if items[train].Split != Train || items[test].Split != Test {
		t.Errorf("splits = %v, %v; a forced split must not cross the folders' split", items[train].Split, items[test].Split)
	}
	for _, dec := range d.Decided {
		if dec.Forced || dec.Note == "" {
			t.Errorf("decision on %s: forced %v, note %q; want not forced, with a note", dec.Path, dec.Forced, dec.Note)
		}
	}
}

func TestScanDecisionsPerGranularity(t *testing.T) {
	root := t.TempDir()
	petsLayout(t, root)
	d := mustScan(t, root, Options{})
	first := d.Items[0]
	dm := &decisionMap{breeds: true, by: map[[32]byte]Decision{first.Hash: {Label: "beagle"}}}
	if first.Label == slices.Index(d.Classes, "beagle") {
		t.Fatal("the first photo is a beagle already")
	}
	byBreed := mustScan(t, root, Options{Decisions: dm})
	if it := itemMap(byBreed)[first.Path]; byBreed.Classes[it.Label] != "beagle" {
		t.Errorf("by breed: %s counts as %s, want beagle", first.Path, byBreed.Classes[it.Label])
	}
	bySpecies := mustScan(t, root, Options{Decisions: dm, Granularity: Species})
	if !slices.Equal(bySpecies.Classes, []string{"cat", "dog"}) || len(bySpecies.Decided) != 0 {
		t.Errorf("by species: classes %q, decided %v; a breed override must not apply", bySpecies.Classes, bySpecies.Decided)
	}
}
