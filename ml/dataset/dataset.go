package dataset

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/clasifica/clasifica/ml/photo"
)

// Split says which part of the data a photo belongs to.
type Split int

// The three splits. Train is the zero value.
const (
	Train Split = iota
	Validation
	Test
)

// numSplits is the number of Split values, for arrays indexed by Split.
const numSplits = 3

// String returns "train", "validation" or "test".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Validation:
		return "validation"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// MarshalText writes the split by name, so that JSON stays readable.
func (s Split) MarshalText() ([]byte, error) {
	if s < Train || s > Test {
		return nil, fmt.Errorf("dataset: invalid split %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a split written by MarshalText.
func (s *Split) UnmarshalText(b []byte) error {
	switch string(b) {
	case "train":
		*s = Train
	case "validation":
		*s = Validation
	case "test":
		*s = Test
	default:
		return fmt.Errorf("dataset: unknown split %q", b)
	}
	return nil
}

// Layout names the way a folder's photos were found to be organised.
type Layout string

// The layouts Scan recognises.
const (
	// ClassFolders: one folder per class, photos at any depth below it.
	ClassFolders Layout = "class-folders"
	// SplitFolders: train/ and test/ (and optionally validation/ or val/),
	// each holding class folders.
	SplitFolders Layout = "split-folders"
	// OxfordPets: the Oxford-IIIT Pet dataset as downloaded.
	OxfordPets Layout = "oxford-iiit-pet"
)

// Granularity chooses the classes of the Oxford-IIIT Pet dataset. Other
// layouts ignore it.
type Granularity int

const (
	// Breed gives the dataset's 37 breeds as classes. It is the zero value
	// because it is the task the dataset was published for.
	Breed Granularity = iota
	// Species gives two classes, "cat" and "dog".
	Species
)

// String returns "breed" or "species".
func (g Granularity) String() string {
	switch g {
	case Breed:
		return "breed"
	case Species:
		return "species"
	}
	return fmt.Sprintf("Granularity(%d)", int(g))
}

// Options controls Scan. The zero value is valid and means: no validation or
// test photos are set aside, Oxford pets are labelled by breed, four workers
// and no progress reports. DefaultOptions gives what the app uses.
type Options struct {
	// Validation is the share of training photos set aside for validation,
	// in [0, 1). It applies to photos not already placed in a validation
	// folder: with train/ and val/ folders it is ignored.
	Validation float64
	// Test is the share of photos set aside for testing, in [0, 1), when the
	// layout has no test photos of its own. Layouts that come with a test
	// split (train/ and test/ folders, Oxford pets) ignore it.
	Test float64
	// Granularity chooses the classes of the Oxford-IIIT Pet dataset.
	Granularity Granularity
	// Workers is the number of files read at the same time; 0 or less
	// means 4, which keeps a disk busy without thrashing it.
	Workers int
	// Limits bound the photos' declared dimensions, checked from each
	// file's header during the scan; the zero value is photo's defaults,
	// which training uses too.
	Limits photo.Limits
	// Decisions, if not nil, are the user's decisions about photos (label
	// overrides, photos left out, forced splits), applied by content hash
	// before empty classes are dropped and the classes ordered; the
	// dataset's Decided lists those in effect.
	Decisions Decisions
	// Progress, if not nil, is called after each file is read with the
	// number of files read so far and the number to read. It is called from
	// one goroutine at a time, in increasing order of done, and should
	// return quickly; it is first called with done = 0.
	Progress func(done, total int)
}

// DefaultOptions returns the options the app starts from: 20% of the
// training photos for validation, no test photos unless the layout provides
// them, Oxford pets by breed, four workers.
func DefaultOptions() Options {
	return Options{Validation: 0.2, Test: 0, Granularity: Breed, Workers: 4}
}

// defaultWorkers is the number of files read in parallel when Options does
// not say: reading is mostly waiting for the disk, so a few more than the
// cores of a small machine still helps, and many more only seeks.
const defaultWorkers = 4

// validate checks the shares and the granularity before any file is read.
func (o Options) validate() error {
	for _, s := range []struct {
		name string
		v    float64
	}{{"validation", o.Validation}, {"test", o.Test}} {
		if math.IsNaN(s.v) || s.v < 0 || s.v >= 1 {
			return fmt.Errorf("dataset: %s share %v is not in [0, 1)", s.name, s.v)
		}
	}
	if o.Validation+o.Test >= 1 {
		return fmt.Errorf("dataset: validation share %v and test share %v leave no training photos", o.Validation, o.Test)
	}
	if o.Granularity != Breed && o.Granularity != Species {
		return fmt.Errorf("dataset: unknown granularity %d", int(o.Granularity))
	}
	return nil
}

// Item is one usable photo. It is kept small because a dataset may hold
// tens of thousands of them: the photo itself is never kept in memory.
type Item struct {
	// Path is the file as the operating system names it (possibly not valid
	// UTF-8 on Linux); it is absolute when Scan was given a folder that
	// exists.
	Path string
	// Label indexes Dataset.Classes.
	Label int
	// Split says whether the photo is for training, validation or testing.
	Split Split
	// Hash is the SHA-256 of the file's content.
	Hash [32]byte
	// Size is the file's size in bytes when it was read.
	Size int64
	// KeptWith, when not empty, is the path of the near-copy whose split
	// the photo was put in (see NearCopies); otherwise the photo is in
	// the split its folder, content or a decision gives it.
	KeptWith string

	// What Resplit needs to divide the photo again as Scan would: how
	// its folder constrains its split, and whether a decision forced the
	// split it has.
	pool   pool
	pinned bool
}

// Dataset is the result of Scan: the classes, the usable photos and
// everything that was skipped.
type Dataset struct {
	// Root is the folder Scan was given, made absolute.
	Root string
	// Layout is how the photos were found to be organised.
	Layout Layout
	// LayoutNote explains in plain words how the layout was recognised and
	// how the photos were divided.
	LayoutNote string
	// Classes are the class names in natural, case-insensitive order
	// ("cat 2" before "Cat 10"); labels index this slice.
	Classes []string
	// Items are the usable photos, ordered by label and then path.
	Items []Item
	// Problems lists every file or folder that was skipped for a reason
	// worth showing, in the order they were found. Hidden and system files
	// are only counted in Skipped.
	Problems []Problem
	// Skipped counts skipped files and folders by reason, including hidden
	// and system files. A hidden or system folder counts once, whatever it
	// holds.
	Skipped map[Reason]int
	// Decided lists the user's decisions Scan applied (see
	// Options.Decisions), in the order the photos were listed; left-out
	// photos are here and not in Items.
	Decided []Decided
	// Options are those Scan was given (without Progress): the split
	// depends on them. Resplit changes the shares.
	Options Options

	// note writes LayoutNote for some options (the note names the
	// shares); nil for a Dataset not made by Scan, which Resplit refuses.
	note func(Options) string
	// pairs are the near-copy pairs of the decisions, as Scan saw them.
	pairs [][2][32]byte
	// nearOut are the photos left out of training for a near-copy held
	// out: another split may bring them back.
	nearOut []Item
}

// SplitCounts holds a number of photos per split, indexed by Split.
type SplitCounts [numSplits]int

// Total returns the sum over the splits.
func (c SplitCounts) Total() int { return c[Train] + c[Validation] + c[Test] }

// MarshalJSON writes the counts as an object with one field per split and
// the total, which is what people reading the JSON expect.
func (c SplitCounts) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Train      int `json:"train"`
		Validation int `json:"validation"`
		Test       int `json:"test"`
		Total      int `json:"total"`
	}{c[Train], c[Validation], c[Test], c.Total()})
}

// Counts returns the number of photos of each class (indexed by label) in
// each split.
func (d *Dataset) Counts() []SplitCounts {
	c := make([]SplitCounts, len(d.Classes))
	for _, it := range d.Items {
		c[it.Label][it.Split]++
	}
	return c
}

// ClassWeights returns balanced class weights for training:
// n_total / (n_classes · n_c), counted over the training split, so that
// every class weighs as much in the loss as if all classes had the same
// number of photos. n_classes counts only classes with training photos; a
// class without any gets weight 0 rather than an infinity. Whether the
// weights are used is the caller's choice.
func (d *Dataset) ClassWeights() []float32 {
	counts := d.Counts()
	var total, present int
	for _, c := range counts {
		if c[Train] > 0 {
			total += c[Train]
			present++
		}
	}
	w := make([]float32, len(counts))
	for i, c := range counts {
		if c[Train] > 0 {
			w[i] = float32(float64(total) / (float64(present) * float64(c[Train])))
		}
	}
	return w
}
