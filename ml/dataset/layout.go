package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LayoutError reports a folder whose photos Scan cannot label: a flat
// folder of photos, a single class, an empty folder, an incomplete Oxford
// pets download. Its message is written for the person who chose the
// folder, and explains with an example how to arrange the photos.
type LayoutError struct {
	// Root is the folder that was scanned.
	Root string
	// Found says in plain words what was found there, for example "it holds
	// 52 files but no folders to say what they show".
	Found string

	pets bool // an incomplete Oxford pets download, worth reporting from a lone folder
}

// Error explains what was found and how the photos should be arranged.
func (e *LayoutError) Error() string {
	return fmt.Sprintf("Clasifica cannot tell what the photos in %s show: %s.\n\n%s", e.Root, e.Found, layoutHelp)
}

// layoutHelp explains the layouts Scan recognises to someone who has never
// prepared photos for machine learning.
const layoutHelp = `Clasifica learns from examples: it needs to know what each photo shows.
Put the photos of each kind in a folder named after that kind, put those
folders together in one main folder, and choose the main folder:

    my-photos/
        cats/
            IMG_0001.jpg
            IMG_0002.jpg
        dogs/
            IMG_0003.jpg
            holidays/IMG_0004.jpg   (folders inside are fine)

You need at least two kinds, and a few photos of each: 20 or more works best.

If you have already set photos aside for testing, make train and test
folders (and optionally a validation folder), each arranged the same way:

    my-photos/
        train/
            cats/ ...
            dogs/ ...
        test/
            cats/ ...
            dogs/ ...

The Oxford-IIIT Pet dataset can be used as downloaded: choose the folder
that holds both its images and annotations folders.`

// splitOf says which split a folder of the split-folders layout holds,
// from its name, without regard to case.
func splitOf(name string) (Split, bool) {
	switch strings.ToLower(name) {
	case "train", "training":
		return Train, true
	case "validation", "val", "valid":
		return Validation, true
	case "test", "testing":
		return Test, true
	}
	return 0, false
}

// maxDescend is how many levels of lone folders Scan looks through: a
// downloaded dataset often unpacks into a folder of its own, and people
// choose the folder they downloaded into.
const maxDescend = 2

// found is a recognised layout, before its files are listed.
type found struct {
	layout Layout
	dir    string // the folder holding the layout: the chosen folder or one inside it
	dirs   []entry
	files  []entry
	t      *tally

	splits    [numSplits][]entry // SplitFolders: the folders of each split
	otherDirs []entry            // SplitFolders: folders that are not splits
	images    entry              // OxfordPets: images/
	trainval  string             // OxfordPets: annotations/trainval.txt
	test      string             // OxfordPets: annotations/test.txt
}

// recognise looks at the top of dir, and at most a few lone folders down,
// to decide how its photos are organised. It reads folder listings only,
// never the photos; whether class folders really hold photos is checked
// after the files are read.
func recognise(root, dir string, depth int) (*found, error) {
	t := newTally()
	dirs, files, err := readDir(dir, t)
	if err != nil && depth == 0 {
		// Nothing useful can be said about a folder that cannot be read,
		// and "it is empty" would be wrong.
		return nil, fmt.Errorf("scan %s: %w", dir, err)
	}
	f := &found{dir: dir, dirs: dirs, files: files, t: t}

	// Oxford-IIIT Pet: images/ and annotations/ side by side.
	img, okImg := findDir(dirs, "images")
	ann, okAnn := findDir(dirs, "annotations")
	if okImg && okAnn {
		f.layout, f.images = OxfordPets, img
		f.trainval = filepath.Join(ann.path, "trainval.txt")
		f.test = filepath.Join(ann.path, "test.txt")
		var missing []string
		for _, p := range []string{f.trainval, f.test} {
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				missing = append(missing, "annotations/"+filepath.Base(p))
			}
		}
		if len(missing) > 0 {
			return nil, &LayoutError{Root: root, pets: true, Found: fmt.Sprintf(
				"it looks like the Oxford-IIIT Pet dataset (it has images and annotations folders), but %s %s missing; download and unpack annotations.tar.gz again",
				joinAnd(missing), pluralVerb(len(missing), "is", "are"))}
		}
		return f, nil
	}

	// train/ with test/ or validation/, where train/ holds folders. A class
	// of photos of trains would be a train/ folder holding photos, not
	// folders, and stays a class.
	for _, d := range dirs {
		if s, ok := splitOf(d.name); ok {
			f.splits[s] = append(f.splits[s], d)
		} else {
			f.otherDirs = append(f.otherDirs, d)
		}
	}
	if len(f.splits[Train]) > 0 && len(f.splits[Validation])+len(f.splits[Test]) > 0 && holdsFolders(f.splits[Train]) {
		f.layout = SplitFolders
		return f, nil
	}
	f.splits = [numSplits][]entry{}
	f.otherDirs = nil

	if len(dirs) >= 2 {
		f.layout = ClassFolders
		return f, nil
	}
	if len(dirs) == 1 && depth < maxDescend {
		// Only layouts that cannot be mistaken are taken from inside a
		// lone folder: a lone "cats" folder holding "2019" and "2020"
		// must not become a dataset of years.
		g, err := recognise(root, dirs[0].path, depth+1)
		if err == nil && g.layout != ClassFolders {
			g.t.merge(t)
			return g, nil
		}
		var le *LayoutError
		if errors.As(err, &le) && le.pets {
			// An incomplete pets download says more than "one folder".
			return nil, err
		}
	}
	found := describeUnrecognised(dirs, files, t)
	if strings.EqualFold(filepath.Base(dir), "images") && len(files) > 0 {
		if fi, err := os.Stat(filepath.Join(filepath.Dir(dir), "annotations")); err == nil && fi.IsDir() {
			found += "; they look like the images of the Oxford-IIIT Pet dataset: choose the folder above, which holds both images and annotations"
		}
	}
	return nil, &LayoutError{Root: root, Found: found}
}

// describeUnrecognised says what a folder without a recognised layout
// holds, in the words of someone looking at it.
func describeUnrecognised(dirs, files []entry, t *tally) string {
	hidden := t.skipped[ReasonHidden] + t.skipped[ReasonSystem]
	switch {
	case len(dirs) == 0 && len(files) == 0 && hidden > 0:
		return "it holds only hidden or system files"
	case len(dirs) == 0 && len(files) == 0:
		return "it is empty"
	case len(dirs) == 0:
		return fmt.Sprintf("it holds %s but no folders to say what they show", plural(len(files), "file", "files"))
	}
	return fmt.Sprintf("it holds only one folder, %q, so there is only one kind of photo; Clasifica needs at least two kinds to learn the difference", dirs[0].name)
}

// findDir returns the folder called name, ignoring case.
func findDir(dirs []entry, name string) (entry, bool) {
	for _, d := range dirs {
		if strings.EqualFold(d.name, name) {
			return d, true
		}
	}
	return entry{}, false
}

// holdsFolders reports whether any of the given folders holds a folder.
func holdsFolders(ds []entry) bool {
	for _, d := range ds {
		sub, _, _ := readDir(d.path, newTally())
		if len(sub) > 0 {
			return true
		}
	}
	return false
}

// plural formats a count with the right form of a noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
