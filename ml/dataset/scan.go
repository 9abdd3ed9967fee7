package dataset

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// hooks lets tests reach situations a real file system produces only by
// chance, such as a file deleted between listing and reading. Scan uses the
// zero value.
type hooks struct {
	// open replaces openRegular when not nil.
	open func(name string) (io.ReadCloser, error)
	// afterList, when not nil, is called with the listed paths before any
	// file is read.
	afterList func(paths []string)
}

// scanner holds the state of one Scan call.
type scanner struct {
	ctx   context.Context
	opt   Options
	hooks hooks
	t     *tally
}

// pool says how a listed file's split is decided.
type pool uint8

const (
	poolAll        pool = iota // test, validation or training, by hash
	poolTrain                  // validation or training, by hash
	poolTrainOnly              // training (a validation folder exists)
	poolValidation             // given: validation
	poolTest                   // given: test
)

// listing is every file found in a recognised layout, before reading any.
type listing struct {
	classes   []string // provisional class names; labels index this
	classDirs []string // for each class, the first folder it was found in
	paths     []string
	labels    []int32
	pools     []pool
	index     map[string]int32 // class name → provisional label
}

// class returns the provisional label of a class name, adding it if new.
func (l *listing) class(name, dir string) int32 {
	if i, ok := l.index[name]; ok {
		return i
	}
	i := int32(len(l.classes))
	l.index[name] = i
	l.classes = append(l.classes, name)
	l.classDirs = append(l.classDirs, dir)
	return i
}

// add lists one file.
func (l *listing) add(path string, label int32, p pool) {
	l.paths = append(l.paths, path)
	l.labels = append(l.labels, label)
	l.pools = append(l.pools, p)
}

// Scan finds the labelled photos in root, reads every file once to
// recognise photos by their content and hash them, and divides the photos
// into training, validation and test splits as opt asks. Files that cannot
// be used are recorded in the result's Problems and skipped; Scan fails
// only when root cannot be read, when its layout is not recognised (a
// *LayoutError that explains the expected layouts), when opt is invalid, or
// when ctx is done, in which case it returns ctx.Err().
func Scan(ctx context.Context, root string, opt Options) (*Dataset, error) {
	return scan(ctx, root, opt, hooks{})
}

// scan is Scan with test hooks.
func scan(ctx context.Context, root string, opt Options, h hooks) (*Dataset, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("scan %s: not a folder; choose the folder that holds the photos' folders", abs)
	}
	s := &scanner{ctx: ctx, opt: opt, hooks: h, t: newTally()}

	f, err := recognise(abs, abs, 0)
	if err != nil {
		return nil, err
	}
	s.t.merge(f.t)
	l := &listing{index: map[string]int32{}}
	var note func(Options) string
	switch f.layout {
	case OxfordPets:
		note, err = s.listPets(f, l)
	case SplitFolders:
		note, err = s.listSplits(abs, f, l)
	default:
		note, err = s.listClasses(abs, f, l)
	}
	if err != nil {
		return nil, err
	}
	if rel, err := filepath.Rel(abs, f.dir); err == nil && rel != "." {
		prefix, layoutNote := fmt.Sprintf("Looked inside %q, the only folder in the chosen folder. ", rel), note
		note = func(o Options) string { return prefix + layoutNote(o) }
	}
	// A layout with fewer than two classes holding any file is refused
	// before reading thousands of files.
	if err := enoughClasses(abs, f.layout, l, nil); err != nil {
		return nil, err
	}

	if h.afterList != nil {
		h.afterList(l.paths)
	}
	res, err := s.hashAll(l.paths)
	if err != nil {
		return nil, err
	}
	return s.finish(abs, f.layout, note, l, res)
}

// listClasses lists the class-folders layout: every folder of dir is a
// class, and every file at any depth below it belongs to that class.
func (s *scanner) listClasses(root string, f *found, l *listing) (func(Options) string, error) {
	above := realAbove(root, f.dir)
	w := &walker{ctx: s.ctx, t: s.t}
	for _, d := range f.dirs {
		if !utf8.ValidString(d.name) {
			s.t.add(d.path, ReasonBadName, "class names must be valid text; rename the folder")
			continue
		}
		label := l.class(d.name, d.path)
		err := w.walkClass(d.path, above, func(p string) { l.add(p, label, poolAll) })
		if err != nil {
			return nil, err
		}
	}
	for _, file := range f.files {
		s.t.add(file.path, ReasonUnlabelled, "not inside a class folder")
	}
	note := fmt.Sprintf("Found %s in %s; each folder's name is the class of the photos inside it, at any depth.",
		plural(len(f.dirs), "folder", "folders"), f.dir)
	return func(o Options) string { return note + " " + shareNote(o, true, true) }, nil
}

// listSplits lists the split-folders layout: train/, test/ and optionally
// validation/, each holding class folders.
func (s *scanner) listSplits(root string, f *found, l *listing) (func(Options) string, error) {
	hasVal := len(f.splits[Validation]) > 0
	w := &walker{ctx: s.ctx, t: s.t}
	var names []string
	for split, dirs := range f.splits {
		p := poolTest
		switch Split(split) {
		case Train:
			p = poolTrain
			if hasVal {
				p = poolTrainOnly
			}
		case Validation:
			p = poolValidation
		}
		for _, sd := range dirs {
			names = append(names, sd.name+"/")
			above := append(realAbove(root, f.dir), realOrSelf(sd.path))
			classDirs, files, _ := readDir(sd.path, s.t)
			for _, file := range files {
				s.t.add(file.path, ReasonUnlabelled, "not inside a class folder")
			}
			for _, d := range classDirs {
				if !utf8.ValidString(d.name) {
					s.t.add(d.path, ReasonBadName, "class names must be valid text; rename the folder")
					continue
				}
				label := l.class(d.name, d.path)
				if err := w.walkClass(d.path, above, func(path string) { l.add(path, label, p) }); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, d := range f.otherDirs {
		s.t.add(d.path, ReasonIgnoredFolder, "")
	}
	for _, file := range f.files {
		s.t.add(file.path, ReasonUnlabelled, "not inside a train, validation or test folder")
	}
	given := fmt.Sprintf("Found %s in %s, each holding class folders; the photos were kept in the splits they were given.",
		joinAnd(names), f.dir)
	return func(o Options) string {
		note := given
		if !hasVal {
			note += " " + shareNote(o, false, true)
		}
		if o.Test > 0 {
			note += " The test share was not used: the test photos are the ones in the test folder."
		}
		return note
	}, nil
}

// listPets lists the Oxford-IIIT Pet dataset: photos are images/<Image>.jpg
// for every line of annotations/test.txt (test split) and
// annotations/trainval.txt (training and validation).
func (s *scanner) listPets(f *found, l *listing) (func(Options) string, error) {
	subdirs, files, err := readDir(f.images.path, s.t)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", f.images.path, err)
	}
	for _, d := range subdirs {
		s.t.add(d.path, ReasonIgnoredFolder, "the Oxford-IIIT Pet images are directly in images/")
	}
	present := make(map[string]string, len(files))
	for _, file := range files {
		present[file.name] = file.path
	}
	used := make(map[string]bool, len(files))
	// test.txt first: a photo listed in both files stays out of training,
	// where it would inflate the test score.
	for _, src := range []struct {
		path string
		pool pool
	}{{f.test, poolTest}, {f.trainval, poolTrain}} {
		recs, err := readPetAnnotations(src.path, s.t)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			name := rec.image + ".jpg"
			if used[name] {
				s.t.add(filepath.Join(f.images.path, name), ReasonBadAnnotation, "listed more than once in the annotations; used once, as listed in "+filepath.Base(f.test))
				continue
			}
			p, ok := present[name]
			if !ok {
				s.t.add(filepath.Join(f.images.path, name), ReasonMissing, "listed in annotations/"+filepath.Base(src.path))
				continue
			}
			used[name] = true
			class := rec.breed
			if s.opt.Granularity == Species {
				class = "cat"
				if rec.species == petDog {
					class = "dog"
				}
			}
			l.add(p, l.class(class, f.images.path), src.pool)
		}
	}
	copied := copiedIn(s.opt.Decisions)
	for _, file := range files {
		switch {
		case used[file.name]:
		case copied[file.name]:
			// A photo Clasifica copied in: its label is in the
			// decisions, found by its content once it is read.
			l.add(file.path, l.class(pendingClass, f.images.path), poolTrain)
		default:
			s.t.add(file.path, ReasonUnlabelled, "not listed in annotations/trainval.txt or annotations/test.txt")
		}
	}
	what := "breed"
	if s.opt.Granularity == Species {
		what = "species (cat or dog)"
	}
	given := fmt.Sprintf("Found images/ and annotations/ in %s: the Oxford-IIIT Pet dataset, labelled by %s. Its official split was kept: the photos listed in annotations/test.txt for testing, those in annotations/trainval.txt for training. ",
		f.dir, what)
	return func(o Options) string {
		note := given + shareNote(o, false, true)
		if o.Test > 0 {
			note += " The test share was not used: the dataset has its own test photos."
		}
		return note
	}, nil
}

// shareNote says how photos were set aside by content hash with o's
// shares.
func shareNote(o Options, test, val bool) string {
	var parts []string
	if test && o.Test > 0 {
		parts = append(parts, percent(o.Test)+" for testing")
	}
	if val && o.Validation > 0 {
		from := ""
		if !test {
			from = " of the training photos"
		}
		parts = append(parts, percent(o.Validation)+from+" for validation")
	}
	if len(parts) == 0 {
		return "No photos were set aside for validation or testing."
	}
	return "Photos were set aside by their content, so adding photos never moves the others: " + joinAnd(parts) + "."
}

// realAbove returns the real paths of the chosen folder and of the folder
// holding the layout, to detect links that lead back up to them.
func realAbove(root, dir string) []string {
	above := []string{realOrSelf(root)}
	if dir != root {
		above = append(above, realOrSelf(dir))
	}
	return above
}

// realOrSelf is realPath, falling back to the path itself if it cannot be
// resolved (the folder was just listed, so this only matters in a race).
func realOrSelf(p string) string {
	if r, err := realPath(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

// enoughClasses refuses a listing with fewer than two classes holding
// photos. Before reading the files (ok nil) any listed file counts; after,
// only photos (ok[i] true).
func enoughClasses(root string, layout Layout, l *listing, ok []bool) error {
	has := make([]bool, len(l.classes))
	for i, label := range l.labels {
		if (ok == nil || ok[i]) && l.classes[label] != pendingClass {
			has[label] = true
		}
	}
	var with []string
	for c, h := range has {
		if h {
			with = append(with, l.classes[c])
		}
	}
	if len(with) >= 2 {
		return nil
	}
	what := "photos"
	if ok == nil {
		what = "files"
	}
	var found string
	switch {
	case len(with) == 1 && layout == OxfordPets:
		found = fmt.Sprintf("the annotations list photos of only one class, %q", with[0])
	case len(with) == 1:
		found = fmt.Sprintf("only one folder, %q, holds %s, so there is only one kind of photo; Clasifica needs at least two kinds to learn the difference", with[0], what)
	case layout == OxfordPets:
		found = "none of the photos listed in the annotations could be used"
	case len(l.classes) == 0:
		found = "none of its folders could be used as a class"
	default:
		found = fmt.Sprintf("none of its %s holds %s", plural(len(l.classes), "folder", "folders"), what)
	}
	return &LayoutError{Root: root, Found: found}
}

// unit maps a content hash to a number in [0, 1). SHA-256 output is
// uniform, so thresholding this number assigns each photo independently
// with exactly the requested probabilities, and the assignment depends on
// nothing but the photo's own content and the shares.
func unit(h [32]byte) float64 {
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}

// assign decides a photo's split. Test takes the lowest hash values and
// validation the next ones, so raising a share only moves photos out of
// training, never between validation and test in the other direction.
//
// Stratification: every class's photos fall below each threshold with the
// same probability, so each class is split in the requested proportions in
// expectation, and large classes closely (the deviation is about
// sqrt(n·p·(1-p)) photos). Exact per-class proportions would need ranking
// photos within their class, which moves existing photos whenever photos
// are added; stability matters more, because a photo that moves from test
// to training silently inflates later test scores. Classes too small to be
// split well are reported by Summary.
func assign(p pool, h [32]byte, val, test float64) Split {
	u := unit(h)
	switch p {
	case poolAll:
		if u < test {
			return Test
		}
		if u < test+val {
			return Validation
		}
	case poolTrain:
		// The same hash value as poolAll, so a photo's place does not
		// depend on the layout it was found in.
		if u < val {
			return Validation
		}
	case poolValidation:
		return Validation
	case poolTest:
		return Test
	}
	return Train
}

// finish drops what could not be read, fixes the class order and assigns
// the splits.
func (s *scanner) finish(root string, layout Layout, note func(Options) string, l *listing, res []hashed) (*Dataset, error) {
	ok := make([]bool, len(res))
	for i, r := range res {
		if r.reason != "" {
			s.t.add(l.paths[i], r.reason, r.detail)
		} else {
			ok[i] = true
		}
	}
	// A folder whose photos were all relabelled or left out is not an
	// empty folder: its photos are where the user decided.
	decidedAway := make([]bool, len(l.classes))
	for i, label := range l.labels {
		if ok[i] {
			decidedAway[label] = true
		}
	}
	forced, applied := s.decide(layout, l, res, ok)
	if err := enoughClasses(root, layout, l, ok); err != nil {
		return nil, err
	}

	// Classes without a single photo are not classes: a "notes" folder of
	// text files must not become an output of the model.
	photos := make([]int, len(l.classes))
	for i, label := range l.labels {
		if ok[i] {
			photos[label]++
		}
	}
	var keep []int32
	for c := range l.classes {
		if photos[c] > 0 {
			keep = append(keep, int32(c))
		} else if c < len(decidedAway) && !decidedAway[c] && l.classes[c] != pendingClass {
			s.t.add(l.classDirs[c], ReasonEmptyFolder, "")
		}
	}
	slices.SortFunc(keep, func(a, b int32) int { return naturalCompare(l.classes[a], l.classes[b]) })
	label := make([]int, len(l.classes))
	classes := make([]string, len(keep))
	for i, c := range keep {
		label[c] = i
		classes[i] = l.classes[c]
	}

	items := make([]Item, 0, len(res))
	for i, r := range res {
		if !ok[i] {
			continue
		}
		it := Item{
			Path:   l.paths[i],
			Label:  label[l.labels[i]],
			Hash:   r.hash,
			Size:   r.size,
			pool:   l.pools[i],
			pinned: forced[i] >= 0,
		}
		if it.pinned {
			it.Split = Split(forced[i])
		}
		items = append(items, it)
	}
	var pairs [][2][32]byte
	if nc, ok := s.opt.Decisions.(NearCopies); ok {
		pairs = nc.NearCopies()
	}
	d := &Dataset{
		Root:     root,
		Layout:   layout,
		Classes:  classes,
		Problems: s.t.problems,
		Skipped:  s.t.skipped,
		Options:  s.opt,
		note:     note,
		pairs:    pairs,
	}
	d.Options.Progress = nil
	d.LayoutNote = note(d.Options)
	if err := d.divide(items, applied); err != nil {
		return nil, err
	}
	return d, nil
}

// percent formats a share such as 0.2 as "20%".
func percent(share float64) string {
	return fmt.Sprintf("%g%%", math.Round(share*1000)/10)
}

// joinAnd joins words as people write lists: "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
