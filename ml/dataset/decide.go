package dataset

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Decision is what the user decided about one photo, whatever folder it
// sits in: the class it counts in, whether it is used at all, and the split
// it was forced into. The zero value changes nothing.
type Decision struct {
	// Label, if not empty, is the class the photo counts in instead of the
	// one its folder (or annotation) gives; a name that is not one of the
	// folder's classes makes a new class.
	Label string
	// LeaveOut keeps the photo out of the dataset (and so out of training,
	// validation and test) without touching the file.
	LeaveOut bool
	// Split, when Forced, is the split the photo goes to. It applies only
	// where Clasifica makes the split: a photo in a test/ or validation/
	// folder, or on Oxford's test list, stays where the folder puts it,
	// and a photo in train/ may only be forced into validation or training.
	Split  Split
	Forced bool
	// CopiedIn reports that Clasifica copied the photo into the folder (a
	// correction or a confirmation). It changes nothing about the photo;
	// the summary counts such photos to tell a kind made by corrections
	// that it needs more photos.
	CopiedIn bool
}

// Decisions gives the user's decisions to Scan. Scan asks about every photo
// it reads, by content hash, so that a decision follows a photo through
// renames and moves inside the folder. Implementations must be safe for
// calls from one goroutine at a time; Scan calls Decide only from its own.
type Decisions interface {
	// Decide returns the decision about the photo with content hash h in a
	// folder of the given layout, labelled with granularity g (which only
	// the Oxford-IIIT Pet layout uses), and whether there is one.
	Decide(h [32]byte, layout Layout, g Granularity) (Decision, bool)
}

// Decided records a decision Scan applied, so that people can see how many
// decisions are in effect and undo each.
type Decided struct {
	// Path is the photo's file.
	Path string
	// Hash is the SHA-256 of its content.
	Hash [32]byte
	// Folder is the class its folder (or annotation) gives it.
	Folder string
	// Label is the class it counts in: Folder, or the override; empty when
	// the photo is left out.
	Label string
	// LeftOut reports that the photo is not in the dataset's Items.
	LeftOut bool
	// Split is the split it was put in, and Forced whether a decision
	// chose it.
	Split  Split
	Forced bool
	// Note says why part of the decision could not be applied, if so (a
	// split forced across one the folder gives), or why Clasifica left a
	// photo out.
	Note string
	// NearCopy reports that Clasifica left the photo out of training
	// because a near-copy of it is a validation or test photo.
	NearCopy bool
	// CopiedIn reports that Clasifica copied the photo into the folder.
	CopiedIn bool
}

// Relabelled reports that the photo counts in another class than its
// folder's.
func (d Decided) Relabelled() bool { return !d.LeftOut && d.Label != d.Folder }

// forcedSplit returns the split a forced decision can give a photo from
// pool p, or false where the folder's own split must stand: Clasifica never
// moves a photo across a split the folder gives, which would make the
// folder's test results lie.
func forcedSplit(p pool, s Split) (Split, bool) {
	switch p {
	case poolAll:
		return s, true
	case poolTrain:
		return s, s == Train || s == Validation
	case poolTrainOnly:
		return s, s == Train
	case poolValidation:
		return s, s == Validation
	case poolTest:
		return s, s == Test
	}
	return s, false
}

// givenSplit names the split a pool's folder fixes, for notes.
func givenSplit(p pool) string {
	switch p {
	case poolValidation:
		return "validation"
	case poolTest:
		return "test"
	}
	return "training or validation"
}

// decide applies the decisions to the photos read: it returns, for each
// listed file, its provisional label after overrides (new classes added to
// l), whether it stays, the forced split if any, and the decisions applied.
// It runs before empty classes are dropped, so that a class whose photos
// were all relabelled disappears and a new class appears.
func (s *scanner) decide(layout Layout, l *listing, res []hashed, ok []bool) (forced []int8, applied []Decided) {
	forced = make([]int8, len(res))
	for i := range forced {
		forced[i] = -1
	}
	if s.opt.Decisions == nil {
		return forced, nil
	}
	for i, r := range res {
		if !ok[i] {
			continue
		}
		dec, found := s.opt.Decisions.Decide(r.hash, layout, s.opt.Granularity)
		pending := l.classes[l.labels[i]] == pendingClass
		if pending && (dec.Label == "" || dec.LeaveOut) {
			// Copied in, but not labelled in this labelling (or left out).
			ok[i] = false
			if !dec.LeaveOut {
				s.t.add(l.paths[i], ReasonUnlabelled, "copied in by Clasifica, with no "+s.opt.Granularity.String()+" recorded for it")
			}
			continue
		}
		if !found || (dec == Decision{}) {
			continue
		}
		a := Decided{Path: l.paths[i], Hash: r.hash, Folder: l.classes[l.labels[i]], CopiedIn: dec.CopiedIn}
		if dec.LeaveOut {
			ok[i] = false
			a.LeftOut = true
			applied = append(applied, a)
			continue
		}
		if dec.Label != "" && dec.Label != a.Folder {
			l.labels[i] = l.class(dec.Label, "")
		}
		a.Label = l.classes[l.labels[i]]
		if dec.Forced {
			if sp, can := forcedSplit(l.pools[i], dec.Split); can {
				forced[i] = int8(sp)
				a.Forced = true
			} else {
				a.Note = fmt.Sprintf("kept in the %s split the folder gives, not moved to %s", givenSplit(l.pools[i]), dec.Split)
			}
		}
		applied = append(applied, a)
	}
	return forced, applied
}

// Change is one fix to a scanned dataset that WithChanges applies without
// reading the folder again: a photo moved to another class folder,
// relabelled, left out, or put back.
type Change struct {
	// Path is the photo's path in the dataset.
	Path string
	// NewPath is where the file is now, if it was moved.
	NewPath string
	// Folder is the class its folder gives after the change, Label the
	// class it counts in (they differ for a relabel).
	Folder, Label string
	// LeaveOut takes the photo out of the items.
	LeaveOut bool
	// Restore, if not nil, is a left-out photo to put back (its Label is
	// ignored: Label names the class).
	Restore *Item
}

// WithChanges returns a copy of d with the changes applied: items moved,
// relabelled, left out or put back, classes added or dropped as they gain
// or lose their last photo, and Decided brought up to date. Splits stay as
// they were (they depend on the photos' content, not their folders), so
// counts and the split bar update without rereading any photo.
func (d *Dataset) WithChanges(changes []Change) *Dataset {
	byPath := make(map[string]Change, len(changes))
	for _, c := range changes {
		byPath[c.Path] = c
	}
	out := *d
	type named struct {
		it    Item
		class string
	}
	var items []named
	for _, it := range d.Items {
		c, ok := byPath[it.Path]
		if !ok {
			items = append(items, named{it, d.Classes[it.Label]})
			continue
		}
		if c.LeaveOut {
			continue
		}
		if c.NewPath != "" {
			it.Path = c.NewPath
		}
		items = append(items, named{it, c.Label})
	}
	for _, c := range changes {
		if c.Restore != nil && !c.LeaveOut {
			it := *c.Restore
			if c.NewPath != "" {
				it.Path = c.NewPath
			}
			items = append(items, named{it, c.Label})
		}
	}
	seen := map[string]bool{}
	out.Classes = nil
	for _, n := range items {
		if !seen[n.class] {
			seen[n.class] = true
			out.Classes = append(out.Classes, n.class)
		}
	}
	slices.SortFunc(out.Classes, naturalCompare)
	index := make(map[string]int, len(out.Classes))
	for i, c := range out.Classes {
		index[c] = i
	}
	out.Items = make([]Item, len(items))
	for i, n := range items {
		n.it.Label = index[n.class]
		out.Items[i] = n.it
	}
	slices.SortStableFunc(out.Items, func(a, b Item) int {
		return cmp.Or(cmp.Compare(a.Label, b.Label), strings.Compare(a.Path, b.Path))
	})

	out.Decided = nil
	for _, dec := range d.Decided {
		if _, ok := byPath[dec.Path]; !ok {
			out.Decided = append(out.Decided, dec)
		}
	}
	for _, c := range changes {
		if !c.LeaveOut && c.Label == c.Folder {
			continue
		}
		path := c.Path
		if c.NewPath != "" {
			path = c.NewPath
		}
		dec := Decided{Path: path, Folder: c.Folder, Label: c.Label, LeftOut: c.LeaveOut}
		for _, it := range out.Items {
			if it.Path == path {
				dec.Hash, dec.Split = it.Hash, it.Split
			}
		}
		if c.LeaveOut {
			dec.Label = ""
			for _, it := range d.Items {
				if it.Path == c.Path {
					dec.Hash, dec.Split = it.Hash, it.Split
				}
			}
		}
		out.Decided = append(out.Decided, dec)
	}
	return &out
}

// NearCopies is implemented by Decisions that know pairs of photos that are
// the same shot (a resized, recompressed or cropped copy), by content hash.
// Scan keeps the two photos of a pair on one side of the training/test
// divide: a copy in training and one in the test would make the test
// score lie. Pairs are never chained into groups (look-alikes would
// chain).
type NearCopies interface {
	NearCopies() [][2][32]byte
}

// keepPairsTogether applies near-copy pairs to items in Scan's listing
// order. Of a pair in two splits, the photo more held out (test, then
// validation) stays where it is, so that a pair found later never takes a
// photo out of the test split a model was tested on: its copy joins it
// where Clasifica makes both photos' splits and the copy's split was not
// forced; otherwise (the folder gives the split, or the copy was forced
// into training, as corrections are) a training copy is left out, and the
// decisions say so, and a validation copy stays (no training photo sees
// either). It returns the items kept, the decisions and the items left out.
func keepPairsTogether(items []Item, pairs [][2][32]byte, applied []Decided, classes []string) (kept []Item, _ []Decided, out []Item) {
	if len(pairs) == 0 {
		return items, applied, nil
	}
	at := make(map[[32]byte]int, len(items))
	for i, it := range items {
		if _, dup := at[it.Hash]; !dup {
			at[it.Hash] = i
		}
	}
	drop := make([]bool, len(items))
	// A photo moved out of training may have a near-copy of its own in
	// training, paired before it moved: the pairs are gone through again
	// until none straddles. Photos only leave training, so this ends.
	for moved := true; moved; {
		moved = false
		for _, p := range pairs {
			a, okA := at[p[0]]
			b, okB := at[p[1]]
			if !okA || !okB || a == b || drop[a] || drop[b] || items[a].Split == items[b].Split {
				continue
			}
			// tr is the photo less held out (training, or validation
			// beside a test photo), held the other, which stays.
			tr, held := a, b
			if heldOut(items[a].Split) > heldOut(items[b].Split) {
				tr, held = b, a
			}
			if clasificaSplits(items[tr].pool) && clasificaSplits(items[held].pool) && !items[tr].pinned {
				if sp, can := forcedSplit(items[tr].pool, items[held].Split); can {
					items[tr].Split, items[tr].KeptWith = sp, items[held].Path
					moved = true
					continue
				}
			}
			if items[tr].Split != Train {
				continue // validation and test: no training photo sees the other
			}
			moved = true
			drop[tr] = true
			applied = append(applied, Decided{Path: items[tr].Path, Hash: items[tr].Hash, Folder: classes[items[tr].Label],
				LeftOut: true, Split: Train, NearCopy: true,
				Note: fmt.Sprintf("left out of training: a near-copy of %s, a %s photo", items[held].Path, items[held].Split)})
		}
	}
	kept = items[:0]
	for i, it := range items {
		if drop[i] {
			out = append(out, it)
		} else {
			kept = append(kept, it)
		}
	}
	return kept, applied, out
}

// heldOut ranks splits by how far they are held out of training: a pair
// straddling two goes to the higher.
func heldOut(s Split) int {
	switch s {
	case Test:
		return 2
	case Validation:
		return 1
	}
	return 0
}

// clasificaSplits reports whether Clasifica chooses the split of a photo
// from pool p (rather than the folder).
func clasificaSplits(p pool) bool { return p == poolAll || p == poolTrain }

// pendingClass is the provisional class of a photo that only a decision
// labels: a photo Clasifica copied into an Oxford-IIIT Pet images/ folder,
// where labels come from the annotation lists. No folder name can be
// empty, so it never meets a real class.
const pendingClass = ""

// CopiedIn is implemented by Decisions that record photos Clasifica copied
// into the folder. In the Oxford-IIIT Pet layout, where a photo in images/
// is labelled only by the annotation lists, Scan reads those photos too and
// labels them from the decisions.
type CopiedIn interface {
	// CopiedInNames returns the file names of the photos copied in.
	CopiedInNames() map[string]bool
}

// copiedIn returns the names of the photos the decisions say were copied
// in, if they say.
func copiedIn(d Decisions) map[string]bool {
	if c, ok := d.(CopiedIn); ok {
		return c.CopiedInNames()
	}
	return nil
}
