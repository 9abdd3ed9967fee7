package dataset

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Thresholds for the warnings in Summary.
const (
	// SmallClass is the number of photos below which a class is reported
	// as too small to learn or to check.
	SmallClass = 5
	// NewKindPhotos is the number of photos below which a kind that
	// corrections or relabels added photos to is reported as needing more before the
	// model recognises it reliably ("New kind…" in a correction makes a
	// kind with one photo).
	NewKindPhotos = 10
	// ImbalanceRatio is the ratio between the largest and the smallest
	// class above which the classes are reported as unbalanced.
	ImbalanceRatio = 3.0
)

// maxExamples bounds the paths listed per problem reason or warning, and
// maxGroupWarnings the per-photo warnings, so that a summary of a very messy
// folder stays readable and small.
const (
	maxExamples      = 5
	maxGroupWarnings = 20
)

// Summary describes a Dataset for people and for JSON output
// (`clasifica dataset inspect DIR --format json`).
type Summary struct {
	// Root is the folder that was scanned.
	Root string `json:"root"`
	// Layout is how the photos were found to be organised.
	Layout Layout `json:"layout"`
	// LayoutNote explains how the layout was recognised and the photos
	// divided.
	LayoutNote string `json:"layout_note"`
	// Classes lists every class in label order with its counts.
	Classes []ClassSummary `json:"classes"`
	// Totals counts all photos per split.
	Totals SplitCounts `json:"totals"`
	// Problems counts what was skipped, by reason, most frequent first.
	Problems []ProblemSummary `json:"problems"`
	// Warnings are things about the photos worth fixing before training.
	Warnings []Warning `json:"warnings"`
	// Decisions counts the user's decisions in effect.
	Decisions DecisionCounts `json:"decisions"`
}

// DecisionCounts counts the user's decisions a scan applied (see
// Dataset.Decided).
type DecisionCounts struct {
	// Total is the number of photos with a decision in effect.
	Total int `json:"total"`
	// Relabelled counts photos counted in another class than their
	// folder's.
	Relabelled int `json:"relabelled"`
	// LeftOut counts photos left out of the dataset.
	LeftOut int `json:"left_out"`
	// ForcedSplit counts photos put in a split by a decision.
	ForcedSplit int `json:"forced_split"`
	// NearCopies counts training photos Clasifica left out because a
	// near-copy of each is a validation or test photo.
	NearCopies int `json:"near_copies"`
}

// Count counts decisions by effect.
func Count(decided []Decided) DecisionCounts {
	c := DecisionCounts{Total: len(decided)}
	for _, d := range decided {
		switch {
		case d.NearCopy:
			c.NearCopies++
		case d.LeftOut:
			c.LeftOut++
		case d.Relabelled():
			c.Relabelled++
		}
		if d.Forced {
			c.ForcedSplit++
		}
	}
	return c
}

// ClassSummary is one class of a Summary.
type ClassSummary struct {
	// Name is the class name.
	Name string `json:"name"`
	// Counts is the number of photos per split.
	Counts SplitCounts `json:"counts"`
	// Weight is the balanced class weight for training (see
	// Dataset.ClassWeights).
	Weight float32 `json:"weight"`
}

// ProblemSummary counts the files skipped for one reason.
type ProblemSummary struct {
	// Reason is why the files were skipped.
	Reason Reason `json:"reason"`
	// Description explains the reason in plain words.
	Description string `json:"description"`
	// Count is the number of files or folders skipped for this reason.
	Count int `json:"count"`
	// Examples lists a few of their paths (none for hidden and system
	// files, which are only counted).
	Examples []string `json:"examples,omitempty"`
}

// WarningKind classifies a Warning.
type WarningKind string

// The kinds of warning Summary gives.
const (
	// WarnSmallClass: classes with fewer than SmallClass photos.
	WarnSmallClass WarningKind = "small-class"
	// WarnNewKind: kinds with photos copied in by corrections or
	// relabelled into them, and fewer than NewKindPhotos photos (instead
	// of WarnSmallClass).
	WarnNewKind WarningKind = "new-kind-needs-photos"
	// WarnImbalance: the largest class has more than ImbalanceRatio times
	// as many photos as the smallest.
	WarnImbalance WarningKind = "imbalance"
	// WarnSamePhotoInTwoClasses: the same photo (same content) is filed
	// under two or more classes.
	WarnSamePhotoInTwoClasses WarningKind = "same-photo-in-two-classes"
	// WarnDuplicates: exact copies of photos within a class.
	WarnDuplicates WarningKind = "duplicate-photos"
	// WarnSamePhotoInTwoSplits: the same photo is in two splits, which only
	// happens when the splits were given as folders.
	WarnSamePhotoInTwoSplits WarningKind = "same-photo-in-two-splits"
	// WarnMissingFromSplit: classes with no photos in a split that is in
	// use.
	WarnMissingFromSplit WarningKind = "class-missing-from-split"
)

// Warning is something about the photos worth fixing before training.
type Warning struct {
	// Kind classifies the warning for programs.
	Kind WarningKind `json:"kind"`
	// Message explains it in plain words.
	Message string `json:"message"`
	// Classes are the classes concerned, if any.
	Classes []string `json:"classes,omitempty"`
	// Paths are (some of) the photos concerned, if any.
	Paths []string `json:"paths,omitempty"`
}

// DuplicateGroup is a set of photos with identical content.
type DuplicateGroup struct {
	// Hash is their SHA-256.
	Hash [32]byte
	// Items indexes Dataset.Items, in increasing order.
	Items []int
}

// Duplicates returns the groups of two or more photos with the same
// content, ordered by their first item.
func (d *Dataset) Duplicates() []DuplicateGroup {
	// Sorting indexes by hash finds the groups without a map of every
	// hash, which matters little at 10,000 photos but costs nothing.
	idx := make([]int, len(d.Items))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(bytes.Compare(d.Items[a].Hash[:], d.Items[b].Hash[:]), cmp.Compare(a, b))
	})
	var groups []DuplicateGroup
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && d.Items[idx[j]].Hash == d.Items[idx[i]].Hash {
			j++
		}
		if j-i > 1 {
			groups = append(groups, DuplicateGroup{Hash: d.Items[idx[i]].Hash, Items: slices.Clone(idx[i:j])})
		}
		i = j
	}
	slices.SortFunc(groups, func(a, b DuplicateGroup) int { return cmp.Compare(a.Items[0], b.Items[0]) })
	return groups
}

// Summary describes the dataset: layout, counts per class and split,
// problems by reason, and warnings.
func (d *Dataset) Summary() Summary {
	counts := d.Counts()
	weights := d.ClassWeights()
	s := Summary{
		Root:       d.Root,
		Layout:     d.Layout,
		LayoutNote: d.LayoutNote,
		Classes:    make([]ClassSummary, len(d.Classes)),
		Problems:   []ProblemSummary{},
		Warnings:   []Warning{},
		Decisions:  Count(d.Decided),
	}
	for i, name := range d.Classes {
		s.Classes[i] = ClassSummary{Name: name, Counts: counts[i], Weight: weights[i]}
		for sp := range counts[i] {
			s.Totals[sp] += counts[i][sp]
		}
	}

	byReason := map[Reason]*ProblemSummary{}
	for r, n := range d.Skipped {
		byReason[r] = &ProblemSummary{Reason: r, Description: r.Describe(), Count: n}
	}
	for _, p := range d.Problems {
		ps, ok := byReason[p.Reason]
		if !ok {
			// Problems added by hand without counting them.
			ps = &ProblemSummary{Reason: p.Reason, Description: p.Reason.Describe()}
			byReason[p.Reason] = ps
		}
		if len(ps.Examples) < maxExamples {
			ps.Examples = append(ps.Examples, p.Path)
		}
		ps.Count = max(ps.Count, len(ps.Examples))
	}
	for _, ps := range byReason {
		s.Problems = append(s.Problems, *ps)
	}
	slices.SortFunc(s.Problems, func(a, b ProblemSummary) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(string(a.Reason), string(b.Reason)))
	})

	s.Warnings = append(s.Warnings, d.sizeWarnings(counts)...)
	s.Warnings = append(s.Warnings, d.splitWarnings(counts)...)
	s.Warnings = append(s.Warnings, d.duplicateWarnings()...)
	return s
}

// sizeWarnings reports small classes and imbalance, on total counts: what
// people can act on is how many photos of each kind they have.
func (d *Dataset) sizeWarnings(counts []SplitCounts) []Warning {
	var ws []Warning
	copied := make([]int, len(d.Classes))
	for _, dec := range d.Decided {
		if (dec.CopiedIn || dec.Relabelled()) && !dec.LeftOut {
			if i := slices.Index(d.Classes, dec.Label); i >= 0 {
				copied[i]++
			}
		}
	}
	newKind := func(i int) bool { return copied[i] > 0 && counts[i].Total() < NewKindPhotos }
	var small, desc []string
	for i, c := range counts {
		if c.Total() < SmallClass && !newKind(i) {
			small = append(small, d.Classes[i])
			desc = append(desc, fmt.Sprintf("%q (%d)", d.Classes[i], c.Total()))
		}
	}
	if len(small) > 0 {
		ws = append(ws, Warning{
			Kind: WarnSmallClass,
			Message: fmt.Sprintf("%s fewer than %d photos: %s. Add more photos of each kind; 20 or more works best.",
				pluralVerb(len(small), "This class has", "These classes have"), SmallClass, strings.Join(desc, ", ")),
			Classes: small,
		})
	}
	for i, c := range counts {
		if n := c.Total(); newKind(i) {
			ws = append(ws, Warning{
				Kind: WarnNewKind,
				Message: fmt.Sprintf("%q has %s (%d added by corrections or relabelled): a kind needs %d photos or more before the model recognises it reliably. Add more photos of it.",
					d.Classes[i], plural(n, "photo", "photos"), copied[i], NewKindPhotos),
				Classes: []string{d.Classes[i]},
			})
		}
	}
	if len(counts) >= 2 {
		lo, hi := 0, 0
		for i, c := range counts {
			if c.Total() < counts[lo].Total() {
				lo = i
			}
			if c.Total() > counts[hi].Total() {
				hi = i
			}
		}
		nlo, nhi := counts[lo].Total(), counts[hi].Total()
		if nlo > 0 && float64(nhi)/float64(nlo) > ImbalanceRatio {
			ws = append(ws, Warning{
				Kind: WarnImbalance,
				Message: fmt.Sprintf("The classes are unbalanced: %q has %d photos, %.1f times as many as %q (%d). Training gives the smaller classes more weight to compensate, but more photos of them would help more.",
					d.Classes[hi], nhi, float64(nhi)/float64(nlo), d.Classes[lo], nlo),
				Classes: []string{d.Classes[hi], d.Classes[lo]},
			})
		}
	}
	return ws
}

// splitWarnings reports classes absent from a split that other classes use.
func (d *Dataset) splitWarnings(counts []SplitCounts) []Warning {
	var used SplitCounts
	for _, c := range counts {
		for sp := range c {
			used[sp] += c[sp]
		}
	}
	consequence := [numSplits]string{
		Train:      "Clasifica cannot learn to recognise them",
		Validation: "training cannot check how well it recognises them",
		Test:       "the test results say nothing about them",
	}
	var ws []Warning
	for sp := Train; sp <= Test; sp++ {
		if used[sp] == 0 && sp != Train {
			continue
		}
		var missing []string
		for i, c := range counts {
			if c[sp] == 0 {
				missing = append(missing, d.Classes[i])
			}
		}
		if len(missing) == 0 {
			continue
		}
		ws = append(ws, Warning{
			Kind: WarnMissingFromSplit,
			Message: fmt.Sprintf("%s no %s photos: %s; %s. Add more photos of %s.",
				pluralVerb(len(missing), "This class has", "These classes have"), sp, quoteAll(missing), consequence[sp],
				pluralVerb(len(missing), "it", "them")),
			Classes: missing,
		})
	}
	return ws
}

// duplicateWarnings reports identical photos: in two classes (one warning
// each, since each needs a decision), in two splits, and within a class.
func (d *Dataset) duplicateWarnings() []Warning {
	var ws []Warning
	var crossGroups, splitPhotos, copies int
	var splitPaths, copyPaths []string
	for _, g := range d.Duplicates() {
		var labels []int
		var splits []Split
		for _, i := range g.Items {
			it := d.Items[i]
			if !slices.Contains(labels, it.Label) {
				labels = append(labels, it.Label)
			}
			if !slices.Contains(splits, it.Split) {
				splits = append(splits, it.Split)
			}
		}
		paths := make([]string, len(g.Items))
		for k, i := range g.Items {
			paths[k] = d.Items[i].Path
		}
		switch {
		case len(labels) > 1:
			crossGroups++
			if crossGroups <= maxGroupWarnings {
				ws = append(ws, crossClassWarning(d, labels, paths))
			}
		case len(splits) == 1:
			// Copies in different splits are reported below, as a leak
			// between splits, which is the worse problem.
			copies += len(g.Items) - 1
			for _, p := range paths[1:] {
				if len(copyPaths) < maxExamples {
					copyPaths = append(copyPaths, p)
				}
			}
		}
		if len(splits) > 1 {
			splitPhotos++
			for _, p := range paths {
				if len(splitPaths) < maxExamples {
					splitPaths = append(splitPaths, p)
				}
			}
		}
	}
	if crossGroups > maxGroupWarnings {
		ws = append(ws, Warning{
			Kind:    WarnSamePhotoInTwoClasses,
			Message: fmt.Sprintf("%d more photos are filed under more than one class.", crossGroups-maxGroupWarnings),
		})
	}
	if splitPhotos > 0 {
		ws = append(ws, Warning{
			Kind: WarnSamePhotoInTwoSplits,
			Message: fmt.Sprintf("%s in more than one of the train, validation and test folders, so test results will look better than they are. Keep each photo in one folder only.",
				pluralVerb(splitPhotos, "1 photo is", fmt.Sprintf("%d photos are", splitPhotos))),
			Paths: splitPaths,
		})
	}
	if copies > 0 {
		ws = append(ws, Warning{
			Kind: WarnDuplicates,
			Message: fmt.Sprintf("%s of another photo in the same class; copies count more than once in training. They can be deleted.",
				pluralVerb(copies, "1 photo is an exact copy", fmt.Sprintf("%d photos are exact copies", copies))),
			Paths: copyPaths,
		})
	}
	return ws
}

// crossClassWarning reports one photo filed under several classes.
func crossClassWarning(d *Dataset, labels []int, paths []string) Warning {
	slices.Sort(labels)
	names := make([]string, len(labels))
	for k, l := range labels {
		names[k] = d.Classes[l]
	}
	return Warning{
		Kind: WarnSamePhotoInTwoClasses,
		Message: fmt.Sprintf("The same photo is filed under %s: %s. A photo can only teach one answer; keep it in the right folder only.",
			joinAnd(quoteEach(names)), strings.Join(paths, ", ")),
		Classes: names,
		Paths:   paths,
	}
}

// pluralVerb picks the singular or plural wording.
func pluralVerb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// quoteEach quotes every name.
func quoteEach(names []string) []string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return q
}

// quoteAll quotes and joins names, listing at most a dozen.
func quoteAll(names []string) string {
	const most = 12
	if len(names) > most {
		return strings.Join(quoteEach(names[:most]), ", ") + fmt.Sprintf(" and %d more", len(names)-most)
	}
	return strings.Join(quoteEach(names), ", ")
}
