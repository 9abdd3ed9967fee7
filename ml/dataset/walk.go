package dataset

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// tally collects what was skipped while scanning. Problems worth showing are
// listed; hidden and system files are only counted.
type tally struct {
	problems []Problem
	skipped  map[Reason]int
}

func newTally() *tally { return &tally{skipped: map[Reason]int{}} }

// add records that path was skipped for reason r.
func (t *tally) add(path string, r Reason, detail string) {
	t.skipped[r]++
	if !r.Silent() {
		t.problems = append(t.problems, Problem{Path: path, Reason: r, Detail: detail})
	}
}

// merge appends everything o recorded to t.
func (t *tally) merge(o *tally) {
	t.problems = append(t.problems, o.problems...)
	for r, n := range o.skipped {
		t.skipped[r] += n
	}
}

// clutter says whether a directory entry is hidden or created by an
// operating system or photo program rather than by the person. Such entries
// are never photos people meant to label: .DS_Store and __MACOSX come from
// macOS (the latter from unpacking zip files, and holds "._" files that look
// like photos to a careless scanner), Thumbs.db and desktop.ini from
// Windows, @eaDir from Synology NAS boxes (full of real JPEG thumbnails that
// would otherwise be counted twice), .picasa.ini and Picasa.ini from Picasa.
func clutter(name string) (Reason, bool) {
	switch strings.ToLower(name) {
	case ".ds_store", "__macosx", "thumbs.db", "ehthumbs.db", "ehthumbs_vista.db",
		"desktop.ini", "$recycle.bin", "system volume information", "@eadir",
		".picasa.ini", "picasa.ini", ".spotlight-v100", ".trashes", ".fseventsd":
		return ReasonSystem, true
	}
	if strings.HasPrefix(name, ".") {
		return ReasonHidden, true
	}
	return "", false
}

// entry is a directory entry that survived readDir: a file or a folder,
// with symbolic links already followed.
type entry struct {
	name string
	path string
}

// readDir lists dir, following symbolic links, and sorts its entries into
// folders and ordinary files. Everything else (clutter, broken links, link
// loops, devices) is recorded in t and left out. Entries come in name order
// so that scans are deterministic. A folder that cannot be listed is
// recorded and treated as empty: one unreadable folder should not stop a
// scan of thousands of photos. The error is returned too, for the one
// folder that matters more: the chosen one.
func readDir(dir string, t *tally) (dirs, files []entry, err error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		// os.ReadDir returns what it read before failing; keep it.
		t.add(dir, classify(err), errDetail(err))
	}
	for _, de := range des {
		name := de.Name()
		p := filepath.Join(dir, name)
		if r, ok := clutter(name); ok {
			t.add(p, r, "")
			continue
		}
		typ := de.Type()
		if typ&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				r := classify(err)
				if r == ReasonVanished {
					// The link exists (it was just listed); what it
					// points at does not.
					r = ReasonBrokenLink
				}
				t.add(p, r, errDetail(err))
				continue
			}
			typ = fi.Mode().Type()
		}
		switch {
		case typ.IsDir():
			dirs = append(dirs, entry{name, p})
		case typ.IsRegular():
			files = append(files, entry{name, p})
		default:
			t.add(p, ReasonNotRegular, typ.String())
		}
	}
	return dirs, files, err
}

// realPath resolves every symbolic link in path. Two folders are the same
// folder when their real paths are equal; unlike device and inode numbers,
// this works on every operating system Clasifica runs on.
func realPath(path string) (string, error) {
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	return filepath.Clean(p), nil
}

// walker lists the files below class folders.
type walker struct {
	ctx context.Context
	t   *tally
}

// walkClass calls add with every ordinary file at any depth below dir.
// above holds the real paths of the folders above dir (the chosen folder, a
// split folder) so that a link back up to them is recognised as a loop.
func (w *walker) walkClass(dir string, above []string, add func(path string)) error {
	return w.walk(dir, above, map[string]bool{}, add)
}

// walk follows symbolic links to folders. A link that leads to one of the
// folders it sits in would recurse forever: it is recorded as a loop. A
// folder reached twice without a loop (two links to it) is scanned once per
// class, so that a pathological tree of links cannot make the scan grow
// exponentially.
func (w *walker) walk(dir string, stack []string, seen map[string]bool, add func(string)) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	real, err := realPath(dir)
	if err != nil {
		w.t.add(dir, classify(err), errDetail(err))
		return nil
	}
	if slices.Contains(stack, real) {
		w.t.add(dir, ReasonLinkLoop, "leads back to "+real)
		return nil
	}
	if seen[real] {
		w.t.add(dir, ReasonFolderSeen, "same folder as "+real)
		return nil
	}
	seen[real] = true
	dirs, files, _ := readDir(dir, w.t)
	for _, f := range files {
		add(f.path)
	}
	// Clip the capacity so that sibling folders never share the appended
	// element.
	stack = append(stack[:len(stack):len(stack)], real)
	for _, d := range dirs {
		if err := w.walk(d.path, stack, seen, add); err != nil {
			return err
		}
	}
	return nil
}
