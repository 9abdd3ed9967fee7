package dataset

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

// resplitCase is a folder, its decisions, and the near-copy pairs to
// give them, built from a first plain scan of the folder.
type resplitCase struct {
	name string
	// build writes the folder and returns its root and the options to
	// scan it with (granularity).
	build func(t *testing.T) (string, Options)
	// decide chooses decisions and pairs from a plain scan's items.
	decide func(t *testing.T, d *Dataset, pd *pairDecisions)
}

// pairUp pairs items i and i+step for every k-th i, so that many pairs
// straddle splits.
func pairUp(pd *pairDecisions, items []Item, step, every int) {
	for i := 0; i+step < len(items); i += every {
		pd.pairs = append(pd.pairs, [2][32]byte{items[i].Hash, items[i+step].Hash})
	}
}

// splitFolder writes n distinct photos, numbered from first, into each
// of the class folders a and b of root/split.
func splitFolder(t *testing.T, root, split string, n, first int) {
	for c, class := range []string{"a", "b"} {
		for i := range n {
			writeFile(t, filepath.Join(root, split, class, fmt.Sprintf("%02d.jpg", i)), fakePhoto(c, first+i))
		}
	}
}

// forceSome forces a few photos into each split and relabels and leaves
// out one each, so that every kind of decision takes part.
func forceSome(d *Dataset, pd *pairDecisions) {
	for i, it := range d.Items {
		switch i % 11 {
		case 3:
			pd.by[it.Hash] = Decision{Split: Test, Forced: true}
		case 5:
			pd.by[it.Hash] = Decision{Split: Validation, Forced: true}
		case 7:
			pd.by[it.Hash] = Decision{Split: Train, Forced: true}
		}
	}
	pd.by[d.Items[1].Hash] = Decision{LeaveOut: true}
	pd.by[d.Items[2].Hash] = Decision{Label: "relabelled"}
}

func TestResplitEqualsScan(t *testing.T) {
	cases := []resplitCase{
		{
			name: "class folders",
			build: func(t *testing.T) (string, Options) {
				root := t.TempDir()
				syntheticTree(t, root, []int{0, 1, 2}, 0, 40)
				// An exact copy, a problem and a hidden file stay as
				// they are whatever the split.
				copyFile(t, filepath.Join(root, "class0", "00001.jpg"), filepath.Join(root, "class1", "copy.jpg"))
				writeFile(t, filepath.Join(root, "class0", "notes.txt"), []byte("not a photo"))
				writeFile(t, filepath.Join(root, "class1", ".DS_Store"), []byte("x"))
				return root, Options{}
			},
			decide: func(t *testing.T, d *Dataset, pd *pairDecisions) {
				forceSome(d, pd)
				pairUp(pd, d.Items, 1, 2)
				pairUp(pd, d.Items, 41, 5) // across classes
				// Both forced, to test and to training: the training
				// copy is left out.
				pd.pairs = append(pd.pairs, [2][32]byte{d.Items[3].Hash, d.Items[7].Hash})
			},
		},
		{
			name: "train and test folders",
			build: func(t *testing.T) (string, Options) {
				root := t.TempDir()
				splitFolder(t, root, "train", 30, 0)
				splitFolder(t, root, "test", 8, 100)
				return root, Options{}
			},
			decide: func(t *testing.T, d *Dataset, pd *pairDecisions) {
				forceSome(d, pd)
				var train, test []Item
				for _, it := range d.Items {
					if it.Split == Test {
						test = append(test, it)
					} else {
						train = append(train, it)
					}
				}
				// Test photos with copies in train/: whether the copy
				// is left out depends on the validation share.
				for i, it := range test {
					pd.pairs = append(pd.pairs, [2][32]byte{it.Hash, train[3*i].Hash})
				}
				pairUp(pd, train, 1, 3)
			},
		},
		{
			name: "train, validation and test folders",
			build: func(t *testing.T) (string, Options) {
				root := t.TempDir()
				splitFolder(t, root, "train", 20, 0)
				splitFolder(t, root, "val", 5, 100)
				splitFolder(t, root, "test", 5, 200)
				return root, Options{}
			},
			decide: func(t *testing.T, d *Dataset, pd *pairDecisions) {
				forceSome(d, pd)
				pairUp(pd, d.Items, 7, 3)
			},
		},
		{
			name: "Oxford pets by species",
			build: func(t *testing.T) (string, Options) {
				root := t.TempDir()
				petsLayout(t, root)
				return root, Options{Granularity: Species}
			},
			decide: func(t *testing.T, d *Dataset, pd *pairDecisions) {
				forceSome(d, pd)
				pairUp(pd, d.Items, 1, 2)
			},
		},
	}
	shares := [][2]float64{{0, 0}, {0.2, 0}, {0.2, 0.15}, {0.35, 0.3}, {0.05, 0.4}, {0.4, 0.05}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, opt := c.build(t)
			plain := mustScan(t, root, opt)
			pd := &pairDecisions{decisionMap: decisionMap{by: map[[32]byte]Decision{}}}
			c.decide(t, plain, pd)
			opt.Decisions = pd
			opt.Validation, opt.Test = 0.1, 0.1
			first := mustScan(t, root, opt)
			if len(first.Decided) == 0 {
				t.Fatal("no decision applied: the case tests nothing")
			}
			nearOut := 0
			for _, sh := range shares {
				asked := pd.asked
				got, err := first.Resplit(sh[0], sh[1])
				if err != nil {
					t.Fatalf("Resplit(%v, %v): %v", sh[0], sh[1], err)
				}
				if pd.asked != asked {
					t.Errorf("Resplit asked the decisions %d times; it must use what the scan found", pd.asked-asked)
				}
				o := opt
				o.Validation, o.Test = sh[0], sh[1]
				want := mustScan(t, root, o)
				sameDataset(t, fmt.Sprintf("Resplit(%v, %v)", sh[0], sh[1]), got, want)
				nearOut += Count(want.Decided).NearCopies
				// And back: a resplit of a resplit is the first scan.
				back, err := got.Resplit(0.1, 0.1)
				if err != nil {
					t.Fatal(err)
				}
				sameDataset(t, fmt.Sprintf("Resplit(%v, %v) and back", sh[0], sh[1]), back, first)
			}
			t.Logf("%d photos, %d decisions, %d pairs, %d near-copies left out over the shares", len(first.Items), len(first.Decided), len(pd.pairs), nearOut)
		})
	}
}

// sameDataset fails the test unless got and want are equal in every
// field; the note functions (closures) are compared by what they write.
func sameDataset(t *testing.T, what string, got, want *Dataset) {
	t.Helper()
	g, w := *got, *want
	g.note, w.note = nil, nil
	if reflect.DeepEqual(g, w) {
		return
	}
	switch {
	case g.LayoutNote != w.LayoutNote:
		t.Errorf("%s: note\n%q\nwant\n%q", what, g.LayoutNote, w.LayoutNote)
	case !reflect.DeepEqual(g.Items, w.Items):
		t.Errorf("%s: %d items, splits %v; want %d, splits %v", what, len(g.Items), totals(&g), len(w.Items), totals(&w))
		for i := range min(len(g.Items), len(w.Items)) {
			if g.Items[i] != w.Items[i] {
				t.Errorf("first difference: %+v, want %+v", g.Items[i], w.Items[i])
				break
			}
		}
	case !reflect.DeepEqual(g.Decided, w.Decided):
		t.Errorf("%s: decided\n%+v\nwant\n%+v", what, g.Decided, w.Decided)
	default:
		t.Errorf("%s:\n%+v\nwant\n%+v", what, g, w)
	}
}

// TestResplitKeepsWhatScanCannotSee checks that a resplit keeps the full
// decode check's findings, refuses a dataset Scan did not make, and
// fails like Scan when a train/ folder would be left without training
// photos.
func TestResplitKeepsWhatScanCannotSee(t *testing.T) {
	root, _ := badPhotosTree(t)
	d := mustScan(t, root, Options{Validation: 0.2})
	checked, err := Check(context.Background(), d, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(checked.Problems) == len(d.Problems) {
		t.Fatal("Check found nothing: the test needs photos only decoding finds")
	}
	r, err := checked.Resplit(0.3, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Problems, checked.Problems) || !reflect.DeepEqual(r.Skipped, checked.Skipped) || len(r.Items) != len(checked.Items) {
		t.Errorf("after Resplit: %d problems, %d photos; want the check's %d problems and %d photos",
			len(r.Problems), len(r.Items), len(checked.Problems), len(checked.Items))
	}
	if r.Options.Validation != 0.3 || r.Options.Test != 0.2 || checked.Options.Validation != 0.2 {
		t.Errorf("options %+v (original %+v); want the new shares on the copy only", r.Options, checked.Options)
	}

	if !d.CanResplit() || !r.CanResplit() || !checked.CanResplit() {
		t.Error("a scan, its check or its resplit cannot be resplit")
	}
	hand := &Dataset{Items: d.Items, Classes: d.Classes}
	if hand.CanResplit() {
		t.Error("a hand-made dataset can be resplit")
	}
	if _, err := hand.Resplit(0.2, 0); err != ErrNotScanned {
		t.Errorf("Resplit of a hand-made dataset: %v; want ErrNotScanned", err)
	}
	if _, err := d.Resplit(0.5, 0.5); err == nil {
		t.Error("Resplit with no training share left: no error")
	}
}
