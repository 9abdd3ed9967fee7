package dataset

import (
	"context"
	"os"
	"path/filepath"
)

// ListPhotos expands the files and folders people hand to a classifier
// (dropped on a window, named on a command line) into the files to
// classify: folders are walked at any depth, following symbolic links, and
// hidden files, system clutter, link loops and unreadable entries are left
// out as during a Scan; the ones worth telling are returned as problems.
// Files are not opened: a file that is not a photo fails when decoded.
// A file named explicitly is kept even if its name looks hidden.
func ListPhotos(ctx context.Context, inputs []string) ([]string, []Problem, error) {
	t := newTally()
	w := &walker{ctx: ctx, t: t}
	var files []string
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			t.add(in, classify(err), errDetail(err))
			continue
		}
		if !st.IsDir() {
			if !st.Mode().IsRegular() {
				t.add(in, ReasonNotRegular, st.Mode().Type().String())
				continue
			}
			files = append(files, in)
			continue
		}
		if err := w.walkClass(filepath.Clean(in), nil, func(p string) { files = append(files, p) }); err != nil {
			return nil, nil, err
		}
	}
	return files, t.problems, nil
}
