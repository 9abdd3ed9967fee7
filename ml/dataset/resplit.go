package dataset

import (
	"cmp"
	"errors"
	"slices"
	"strings"
)

// ErrNotScanned is Resplit's error for a Dataset that Scan did not make,
// whose photos do not say how their folders constrain the split.
var ErrNotScanned = errors.New("dataset: not made by Scan, so it cannot be divided again; scan the folder")

// Resplit returns a copy of d divided with other validation and test
// shares, exactly as Scan of the same folder with those shares would
// divide it, without reading a file: the split is a function of each
// photo's content hash, its folder, the user's forced splits and the
// near-copy pairs, all of which d holds. Whatever else d carries stays:
// the problems (those Check found included), the decisions, photos moved
// or relabelled by WithChanges. Layouts whose folders fix a split keep it
// as Scan does (a test share does not apply to train/ and test/ folders
// or to the Oxford-IIIT Pet lists). The granularity cannot change this
// way: it changes the classes, which only Scan reads. d is not modified.
func (d *Dataset) Resplit(validation, test float64) (*Dataset, error) {
	opt := d.Options
	opt.Validation, opt.Test = validation, test
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if d.note == nil {
		return nil, ErrNotScanned
	}
	items := make([]Item, 0, len(d.Items)+len(d.nearOut))
	items = append(append(items, d.Items...), d.nearOut...)
	var applied []Decided
	for _, a := range d.Decided {
		if !a.NearCopy {
			applied = append(applied, a)
		}
	}
	out := *d
	out.Options = opt
	out.LayoutNote = d.note(opt)
	if err := out.divide(items, applied); err != nil {
		return nil, err
	}
	return &out, nil
}

// CanResplit reports whether Resplit can divide d again: whether Scan
// made it (directly or through Check, WithChanges or Resplit).
func (d *Dataset) CanResplit() bool { return d.note != nil }

// divide gives each photo of items its split with d's shares, unless a
// decision forced it, keeps near-copy pairs together, and sets d's Items
// (ordered by label and path), Decided and nearOut. It fails, as Scan
// does, when a train/ folder is left with no training photo.
func (d *Dataset) divide(items []Item, applied []Decided) error {
	// Sorted first: of two identical files, a near-copy pair names the
	// first in this order, whatever order the items came in (Scan's
	// listing, or Resplit's items and left-out copies).
	slices.SortStableFunc(items, func(a, b Item) int {
		return cmp.Or(cmp.Compare(a.Label, b.Label), strings.Compare(a.Path, b.Path))
	})
	for i := range items {
		items[i].KeptWith = ""
		if !items[i].pinned {
			items[i].Split = assign(items[i].pool, items[i].Hash, d.Options.Validation, d.Options.Test)
		}
	}
	items, applied, d.nearOut = keepPairsTogether(items, d.pairs, applied, d.Classes)
	if applied != nil {
		splits := make(map[string]Split, len(items))
		for _, it := range items {
			splits[it.Path] = it.Split
		}
		for i := range applied {
			if !applied[i].LeftOut {
				applied[i].Split = splits[applied[i].Path]
			}
		}
	}
	d.Items, d.Decided = items, applied
	if d.Layout == SplitFolders {
		for _, it := range items {
			if it.Split == Train {
				return nil
			}
		}
		return &LayoutError{Root: d.Root, Found: "its train folder holds no photos"}
	}
	return nil
}

// WithNearCopies returns a copy of d divided again, without reading a
// file, as Scan would divide it if the decisions held the near-copy pairs
// given (by content hash) instead of those Scan saw: the photo of a pair
// more held out stays, its copy joins it where Clasifica makes the split,
// and a training copy is left out where the folder gives the split or the
// copy was forced into training (see keepPairsTogether). Training calls it once its extraction has
// fingerprinted the photos. d is not modified.
func (d *Dataset) WithNearCopies(pairs [][2][32]byte) (*Dataset, error) {
	if d.note == nil {
		return nil, ErrNotScanned
	}
	out := *d
	out.pairs = slices.Clone(pairs)
	return out.Resplit(d.Options.Validation, d.Options.Test)
}

// NearCopyPairs returns the near-copy pairs the division keeps together
// (by content hash): the decisions' at Scan, or those given to
// WithNearCopies. Training keeps each pair in one of its out-of-fold
// folds too.
func (d *Dataset) NearCopyPairs() [][2][32]byte { return slices.Clone(d.pairs) }
