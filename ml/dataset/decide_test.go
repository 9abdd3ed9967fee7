package dataset

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
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

// TestWithChanges checks that fixes applied in memory give what a new scan
// with the same decisions and moves gives, without reading the folder.
func TestWithChanges(t *testing.T) {
	root := t.TempDir()
	for _, c := range []string{"a", "b"} {
		for i := range 4 {
			writeFile(t, filepath.Join(root, c, string(rune('0'+i))+".jpg"), fakePhoto(int(c[0]), i))
		}
	}
	d := mustScan(t, root, Options{Validation: 0.25})
	a0, a1, b0 := filepath.Join(root, "a", "0.jpg"), filepath.Join(root, "a", "1.jpg"), filepath.Join(root, "b", "0.jpg")
	moved := filepath.Join(root, "b", "moved.jpg")
	removed := itemMap(d)[b0]
	got := d.WithChanges([]Change{
		{Path: a0, NewPath: moved, Folder: "b", Label: "b"}, // moved
		{Path: a1, Folder: "a", Label: "c"},                 // relabelled, new class
		{Path: b0, Folder: "b", LeaveOut: true},             // left out
	})
	if err := os.Rename(a0, moved); err != nil {
		t.Fatal(err)
	}
	dm := &decisionMap{by: map[[32]byte]Decision{hashOf(t, a1): {Label: "c"}, hashOf(t, b0): {LeaveOut: true}}}
	want := mustScan(t, root, Options{Validation: 0.25, Decisions: dm})
	if !slices.Equal(got.Classes, want.Classes) || !slices.Equal(got.Items, want.Items) {
		t.Errorf("in memory: %q %v\nrescanned: %q %v", got.Classes, got.Items, want.Classes, want.Items)
	}
	if Count(got.Decided) != Count(want.Decided) {
		t.Errorf("decisions in memory %+v, rescanned %+v", Count(got.Decided), Count(want.Decided))
	}
	if len(d.Items) != 8 || d.Classes[1] != "b" {
		t.Error("WithChanges changed the original dataset")
	}
	// Put the left-out photo back.
	back := got.WithChanges([]Change{{Path: b0, Folder: "b", Label: "b", Restore: &removed}})
	if _, ok := itemMap(back)[b0]; !ok || Count(back.Decided).LeftOut != 0 || len(back.Items) != 8 {
		t.Errorf("put back: %d items, decided %+v", len(back.Items), Count(back.Decided))
	}
}

// pairDecisions adds near-copy pairs to a decision map.
type pairDecisions struct {
	decisionMap
	pairs [][2][32]byte
}

func (p *pairDecisions) NearCopies() [][2][32]byte { return p.pairs }

func TestNearCopiesKeptTogether(t *testing.T) {
	// Clasifica makes the split: many pairs of photos with independent
	// hashes; every pair must end in one split, the smaller hash's.
	root := t.TempDir()
	syntheticTree(t, root, []int{0, 1}, 0, 60)
	base := mustScan(t, root, Options{Validation: 0.3, Test: 0.3})
	split := map[[32]byte]Split{}
	for _, it := range base.Items {
		split[it.Hash] = it.Split
	}
	pd := &pairDecisions{}
	items := base.Items
	straddling := 0
	for i := 0; i+1 < len(items); i += 2 {
		pd.pairs = append(pd.pairs, [2][32]byte{items[i].Hash, items[i+1].Hash})
		if items[i].Split != items[i+1].Split {
			straddling++
		}
	}
	if straddling < 10 {
		t.Fatalf("only %d pairs straddle splits: the test needs more", straddling)
	}
	d := mustScan(t, root, Options{Validation: 0.3, Test: 0.3, Decisions: pd})
	got := map[[32]byte]Split{}
	for _, it := range d.Items {
		got[it.Hash] = it.Split
	}
	for _, p := range pd.pairs {
		small := p[0]
		if bytes.Compare(p[1][:], p[0][:]) < 0 {
			small = p[1]
		}
		if got[p[0]] != got[p[1]] || got[p[0]] != split[small] {
			t.Errorf("pair in %v and %v; want both in %v, the smaller hash's", got[p[0]], got[p[1]], split[small])
		}
	}
	if len(d.Items) != len(base.Items) || len(d.Decided) != 0 {
		t.Errorf("%d items, %d decided; want all %d kept and no photo left out", len(d.Items), len(d.Decided), len(base.Items))
	}

	// The folder gives the split: the training copy is left out, said so.
	root = t.TempDir()
	trainPhoto := filepath.Join(root, "train", "a", "1.jpg")
	testPhoto := filepath.Join(root, "test", "a", "copy.jpg")
	writeFile(t, trainPhoto, fakePhoto(1, 1))
	writeFile(t, testPhoto, fakePhoto(1, 2))
	writeFile(t, filepath.Join(root, "train", "a", "2.jpg"), fakePhoto(1, 3))
	writeFile(t, filepath.Join(root, "train", "b", "1.jpg"), fakePhoto(2, 1))
	writeFile(t, filepath.Join(root, "test", "b", "1.jpg"), fakePhoto(2, 2))
	pd = &pairDecisions{pairs: [][2][32]byte{{hashOf(t, testPhoto), hashOf(t, trainPhoto)}}}
	d = mustScan(t, root, Options{Decisions: pd})
	if _, ok := itemMap(d)[trainPhoto]; ok {
		t.Errorf("the training copy of a test photo is still in training")
	}
	if it, ok := itemMap(d)[testPhoto]; !ok || it.Split != Test {
		t.Errorf("the test photo: %+v, %v; want it kept in test", it, ok)
	}
	if c := Count(d.Decided); c.NearCopies != 1 || c.LeftOut != 0 || len(d.Decided) != 1 || d.Decided[0].Note == "" {
		t.Errorf("decided %+v (counts %+v); want one near-copy left out, with a note", d.Decided, c)
	}
}

// A pair found later never takes a photo out of the test split: the
// photo more held out stays, and its copy joins it, or, where it was
// forced into training (a correction), is left out with a note naming the
// test photo. A photo moved into the test split brings its own training
// near-copies with it.
func TestNearCopiesKeepTestPhotos(t *testing.T) {
	root := t.TempDir()
	syntheticTree(t, root, []int{0, 1}, 0, 60)
	opt := Options{Validation: 0.3, Test: 0.3}
	base := mustScan(t, root, opt)
	var train, test []Item
	for _, it := range base.Items {
		switch it.Split {
		case Train:
			train = append(train, it)
		case Test:
			test = append(test, it)
		}
	}
	if len(train) < 4 || len(test) < 2 {
		t.Fatalf("%d training and %d test photos: the test needs more", len(train), len(test))
	}
	// A correction (forced into training) paired with a test photo; a
	// chain of two training photos and a test photo.
	corr, held := train[0], test[0]
	x, y, z := train[1], train[2], test[1]
	pd := &pairDecisions{decisionMap: decisionMap{by: map[[32]byte]Decision{corr.Hash: {Split: Train, Forced: true, CopiedIn: true}}},
		pairs: [][2][32]byte{{held.Hash, corr.Hash}, {x.Hash, y.Hash}, {y.Hash, z.Hash}}}
	opt.Decisions = pd
	d := mustScan(t, root, opt)
	got := itemMap(d)
	if it, ok := got[held.Path]; !ok || it.Split != Test {
		t.Errorf("the test photo paired with a correction: %+v (kept %v), want it kept in test", it, ok)
	}
	if _, ok := got[corr.Path]; ok {
		t.Errorf("the correction that is a near-copy of a test photo is still used")
	}
	noted := false
	for _, dec := range d.Decided {
		if dec.Path == corr.Path && dec.NearCopy && dec.LeftOut && strings.Contains(dec.Note, held.Path) && strings.Contains(dec.Note, "a test photo") {
			noted = true
		}
	}
	if !noted {
		t.Errorf("no decision says why %s is left out: %+v", corr.Path, d.Decided)
	}
	for _, it := range []Item{x, y, z} {
		if got[it.Path].Split != Test {
			t.Errorf("%s of the chain is a %s photo; want all three in test", it.Path, got[it.Path].Split)
		}
	}
	if got[y.Path].KeptWith != z.Path || got[x.Path].KeptWith != y.Path || got[z.Path].KeptWith != "" || got[held.Path].KeptWith != "" {
		t.Errorf("kept with: %q, %q, %q, %q; want the chain's photos kept with the next, the test photos in their own split",
			got[x.Path].KeptWith, got[y.Path].KeptWith, got[z.Path].KeptWith, got[held.Path].KeptWith)
	}
	// Divided again without reading a file, the same.
	again, err := d.Resplit(0.3, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(itemMap(again), got) {
		t.Error("Resplit divides otherwise than Scan")
	}
}

// copiedDecisions adds photos copied in by Clasifica to a decision map.
type copiedDecisions struct {
	decisionMap
	names map[string]bool
}

func (c *copiedDecisions) CopiedInNames() map[string]bool { return c.names }

// TestPetsCopiedIn labels a photo copied into the Oxford-IIIT Pet images/
// folder, which the annotation lists do not name, from the decisions.
func TestPetsCopiedIn(t *testing.T) {
	root := t.TempDir()
	petsLayout(t, root)
	base := mustScan(t, root, Options{})
	copied := filepath.Join(root, "images", "copied_1.jpg")
	stray := filepath.Join(root, "images", "stray_1.jpg")
	writeFile(t, copied, variant(onePhoto(t), "copied"))
	writeFile(t, stray, variant(onePhoto(t), "stray"))
	cd := &copiedDecisions{
		decisionMap: decisionMap{breeds: true, by: map[[32]byte]Decision{hashOf(t, copied): {Label: "beagle", Split: Train, Forced: true}}},
		names:       map[string]bool{"copied_1.jpg": true},
	}
	d := mustScan(t, root, Options{Validation: 0.5, Decisions: cd})
	it, ok := itemMap(d)[copied]
	if !ok || d.Classes[it.Label] != "beagle" || it.Split != Train {
		t.Fatalf("copied-in photo: %+v (present %v), want beagle in training", it, ok)
	}
	if len(d.Items) != len(base.Items)+1 || !slices.Equal(d.Classes, base.Classes) {
		t.Errorf("%d items in %d classes, want %d in the same %d", len(d.Items), len(d.Classes), len(base.Items)+1, len(base.Classes))
	}
	if p, ok := problemMap(d)[stray]; !ok || p.Reason != ReasonUnlabelled {
		t.Errorf("a stray file not copied in: %+v, want unlabelled", p)
	}
	// By species the breed says nothing: the copy is unlabelled, and no
	// empty class appears.
	d = mustScan(t, root, Options{Granularity: Species, Decisions: cd})
	if p, ok := problemMap(d)[copied]; !ok || p.Reason != ReasonUnlabelled || !slices.Equal(d.Classes, []string{"cat", "dog"}) {
		t.Errorf("by species: problem %+v, classes %q", p, d.Classes)
	}
	for _, p := range d.Problems {
		if p.Reason == ReasonEmptyFolder {
			t.Errorf("empty folder reported: %s", p.Path)
		}
	}
}

// A kind that corrections made (photos copied in, or relabelled into it)
// is told it needs NewKindPhotos photos before the model recognises it
// reliably; other small classes keep the small-class warning.
func TestNewKindNeedsPhotos(t *testing.T) {
	root := t.TempDir()
	dm := &decisionMap{by: map[[32]byte]Decision{}}
	made := 0
	add := func(class string, n int, dec Decision) {
		for range n {
			made++
			p := filepath.Join(root, class, fmt.Sprintf("%s-%d.jpg", class, made))
			writeFile(t, p, fakePhoto(100+made, made))
			if dec != (Decision{}) {
				dm.by[hashOf(t, p)] = dec
			}
		}
	}
	add("a", 12, Decision{})
	add("b", 12, Decision{})
	add("tiny", 2, Decision{})
	add("fresh", 4, Decision{})
	add("fresh", 2, Decision{CopiedIn: true, Split: Train, Forced: true})
	d := mustScan(t, root, Options{Validation: 0.2, Decisions: dm})
	s := d.Summary()
	ws := warningsOf(s, WarnNewKind)
	if len(ws) != 1 || !slices.Equal(ws[0].Classes, []string{"fresh"}) || !bytes.Contains([]byte(ws[0].Message), []byte(`"fresh" has 6 photos (2 added by corrections or relabelled): a kind needs 10 photos or more`)) {
		t.Errorf("new-kind warnings %+v", ws)
	}
	if small := warningsOf(s, WarnSmallClass); len(small) != 1 || !slices.Equal(small[0].Classes, []string{"tiny"}) {
		t.Errorf("small-class warnings %+v", small)
	}

	add("fresh", 4, Decision{})
	d = mustScan(t, root, Options{Validation: 0.2, Decisions: dm})
	if ws := warningsOf(d.Summary(), WarnNewKind); len(ws) != 0 {
		t.Errorf("with 10 photos: %+v", ws)
	}
}
