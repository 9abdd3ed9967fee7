package app

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/clasifica/clasifica/internal/safemove"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/decisions"
	"github.com/clasifica/clasifica/ml/doctor"
	"github.com/clasifica/clasifica/ml/model"
)

// HideConfirmed removes from a label check's report the photos the user
// said are right ("it's right": never suggested again), and near-copy
// pairs whose two photos were both confirmed.
func (a *App) HideConfirmed(root string, r doctor.Report) (doctor.Report, error) {
	s, err := a.LoadDecisions(root)
	if err != nil {
		return r, err
	}
	right := func(hexHash string) bool {
		h, err := decisions.ParseHash(hexHash)
		return err == nil && s.Right(h)
	}
	out := r
	out.Mislabeled = nil
	for _, x := range r.Mislabeled {
		if !right(x.SHA256) {
			out.Mislabeled = append(out.Mislabeled, x)
		}
	}
	out.Outliers = nil
	for _, x := range r.Outliers {
		if !right(x.SHA256) {
			out.Outliers = append(out.Outliers, x)
		}
	}
	out.NearDuplicates = nil
	for _, x := range r.NearDuplicates {
		if !right(x.SHA256[0]) || !right(x.SHA256[1]) {
			out.NearDuplicates = append(out.NearDuplicates, x)
		}
	}
	return out, nil
}

// FixKind names a fix of the label check.
type FixKind string

// The fixes of a label check.
const (
	FixMove     FixKind = "move"      // the file moved into another class folder
	FixRelabel  FixKind = "relabel"   // counted in another class, file untouched
	FixRight    FixKind = "right"     // its label confirmed
	FixLeaveOut FixKind = "leave-out" // left out of training
)

// Fix is one fix applied to a photo: what changed on disk or in the
// decision record, the change to the scanned dataset, and what Undo needs.
type Fix struct {
	Kind  FixKind
	Photo DecidedPhoto
	// Class is the class moved or relabelled to.
	Class string
	// Change updates the scanned dataset without reading the folder again.
	Change dataset.Change
	// Undone is the change that puts the dataset back.
	Undone dataset.Change
	// Note, when not empty, says why the fix is not the one asked for
	// (a relabel where a move was refused), for people.
	Note string

	root    string
	prev    decisions.Record // the photo's record before, for undo
	hadPrev bool
	after   decided      // the record the fix left, which undo expects
	item    dataset.Item // the photo's item, to put a left-out one back
}

// Describe says what the fix did, for the undo button and messages.
func (f Fix) Describe() string {
	name := filepath.Base(f.Photo.Path)
	switch f.Kind {
	case FixMove:
		return fmt.Sprintf("moved %s to %s", name, f.Class)
	case FixRelabel:
		return fmt.Sprintf("counted %s as %s", name, f.Class)
	case FixRight:
		return fmt.Sprintf("kept %s as %s", name, f.Photo.Label)
	}
	return fmt.Sprintf("left %s out", name)
}

// ApplyFix applies one fix to photo p of d: a safe move (FixMove, where
// CanMove), a relabel in Clasifica only, "it's right" or leave out (kept in
// the decision record). The returned Fix carries the dataset change and
// what UndoFix needs.
func (a *App) ApplyFix(d *dataset.Dataset, p DecidedPhoto, kind FixKind, class string) (Fix, error) {
	f := Fix{Kind: kind, Photo: p, Class: class, root: d.Root}
	if s, err := a.LoadDecisions(d.Root); err == nil {
		f.prev, f.hadPrev = s.Get(p.Hash)
	} else {
		return f, err
	}
	for _, it := range d.Items {
		if it.Path == p.Path {
			f.item = it
		}
	}
	keep := dataset.Change{Path: p.Path, Folder: p.Folder, Label: p.Label}
	var err error
	switch kind {
	case FixMove:
		var mv safemove.Move
		mv, err = a.MovePhoto(d, p, class)
		label := class
		if p.Label != p.Folder {
			label = p.Label // an override follows the photo's content
		}
		f.Change = dataset.Change{Path: p.Path, NewPath: mv.To, Folder: class, Label: label}
		f.Undone = dataset.Change{Path: mv.To, NewPath: p.Path, Folder: p.Folder, Label: p.Label}
	case FixRelabel:
		_, f.after, _, err = a.relabel(d, p, class)
		f.Change = dataset.Change{Path: p.Path, Folder: p.Folder, Label: class}
		f.Undone = keep
	case FixRight:
		f.after, _, err = a.mark(d, p, (*decisions.Store).SetRight, true)
		f.Change, f.Undone = keep, keep
	case FixLeaveOut:
		f.after, _, err = a.mark(d, p, (*decisions.Store).SetLeaveOut, true)
		f.Change = dataset.Change{Path: p.Path, Folder: p.Folder, LeaveOut: true}
		f.Undone = dataset.Change{Path: p.Path, Folder: p.Folder, Label: p.Label, Restore: &f.item}
	default:
		return f, fmt.Errorf("unknown fix %q", kind)
	}
	return f, err
}

// UndoFix undoes a fix: a move is moved back (it must be the session's
// last move), a decision is restored to what it was, unless the photo's
// record changed since the fix (in another window or process, or by a
// later fix): then nothing changes and the error says so, rather than
// undoing that later change too.
func (a *App) UndoFix(f Fix) error {
	if f.Kind == FixMove {
		moved := a.Mover().Moved()
		if len(moved) == 0 || moved[len(moved)-1].From != f.Photo.Path {
			return fmt.Errorf("undo: %s is not the last photo moved; undo the later moves first", f.Photo.Path)
		}
		_, _, err := a.Mover().Undo()
		return err
	}
	_, err := a.ChangeDecisions(f.root, func(s *decisions.Store) error {
		if now, had := s.Get(f.Photo.Hash); had != f.after.had || !sameRecord(now, f.after.rec) {
			return &DecisionChangedError{Fix: f.Describe(), Photo: f.Photo.Path}
		}
		s.Put(f.Photo.Hash, f.prev, f.hadPrev)
		return nil
	})
	return err
}

// DecisionChangedError is UndoFix's error for a fix whose photo's decision
// changed after it: undoing it would undo that change too, so it stays
// as it is, and the fix can no longer be undone.
type DecisionChangedError struct {
	// Fix describes the fix (Fix.Describe); Photo is the photo's file.
	Fix, Photo string
}

func (e *DecisionChangedError) Error() string {
	return fmt.Sprintf("undo %s: the decision about %s changed after it (in another window, another Clasifica or a later fix), so it is left as it is now", e.Fix, filepath.Base(e.Photo))
}

// sameRecord reports whether two decision records say the same, as the
// record file keeps them: a record read back from the file has, say, no
// map where the one changed in memory had an empty one.
func sameRecord(a, b decisions.Record) bool {
	ja, err := json.Marshal(a)
	if err != nil {
		return false
	}
	jb, err := json.Marshal(b)
	return err == nil && bytes.Equal(ja, jb)
}

// RecordNearCopies keeps the near-copy pairs a label check (or a training
// run) found in the folder's decision record, beside those found before,
// so that every later scan (inspect, the Data screen, train, eval) keeps
// each pair on one side of the training/test divide. It reports whether a pair straddles splits now, in which case
// the folder should be scanned again.
func (a *App) RecordNearCopies(root string, pairs []doctor.NearCopy) (bool, error) {
	rec := make([]decisions.Pair, len(pairs))
	straddle := false
	for i, p := range pairs {
		rec[i] = decisions.Pair{SHA256: p.SHA256, Similarity: p.Similarity}
		straddle = straddle || p.CrossSplit()
	}
	_, err := a.ChangeDecisions(root, func(s *decisions.Store) error { return s.AddNearCopies(rec) })
	return straddle, err
}

// ChangedSinceTraining counts the test photos recorded in m whose label a
// decision has changed since (relabelled or left out in d): the model's
// results keep the labels it was trained and tested with, and people
// should know when those differ from what they decided since.
func ChangedSinceTraining(m *model.Model, d *dataset.Dataset) int {
	if m == nil || m.Training == nil || d == nil || len(d.Decided) == 0 {
		return 0
	}
	now := map[string]string{}
	for _, dec := range d.Decided {
		if dec.Relabelled() || dec.LeftOut {
			now[hex.EncodeToString(dec.Hash[:])] = dec.Label
		}
	}
	n := 0
	for _, s := range m.Training.Test {
		if label, ok := now[s.SHA256]; ok && (s.Label < 0 || s.Label >= len(m.Labels) || m.Labels[s.Label] != label) {
			n++
		}
	}
	return n
}
