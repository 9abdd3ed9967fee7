package dataset

import "fmt"

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
	// split forced across one the folder gives).
	Note string
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
		if !found || (dec == Decision{}) {
			continue
		}
		a := Decided{Path: l.paths[i], Hash: r.hash, Folder: l.classes[l.labels[i]]}
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
