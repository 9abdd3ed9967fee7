package ui

import (
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
)

// pickers choose files and folders. The window uses Fyne's dialogs (the
// system's own on Windows and macOS); tests put answers in their place.
type pickers struct {
	folder func(title, start string, then func(path string))
	open   func(title string, exts []string, then func(path string))
	save   func(title, name string, exts []string, then func(path string))
}

// dialogPickers returns pickers that show Fyne's file dialogs over w.
func (w *window) dialogPickers() pickers {
	return pickers{
		folder: func(title, start string, then func(string)) {
			d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
				if err != nil {
					w.showError("The folder could not be opened", err)
					return
				}
				if u != nil {
					then(u.Path())
				}
			}, w.win)
			d.SetTitleText(title)
			d.SetConfirmText("Choose")
			setStart(d, start)
			d.Resize(fyne.NewSize(900, 600))
			w.showDialog(d)
		},
		open: func(title string, exts []string, then func(string)) {
			d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
				if err != nil {
					w.showError("The file could not be opened", err)
					return
				}
				if r != nil {
					r.Close()
					then(r.URI().Path())
				}
			}, w.win)
			d.SetTitleText(title)
			if len(exts) > 0 {
				d.SetFilter(storage.NewExtensionFileFilter(exts))
			}
			setStart(d, w.lastDir())
			d.Resize(fyne.NewSize(900, 600))
			w.showDialog(d)
		},
		save: func(title, name string, exts []string, then func(string)) {
			d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
				if err != nil {
					w.showError("The file could not be saved", err)
					return
				}
				if wc == nil {
					return
				}
				// The dialog has created an empty file; the real one is
				// written atomically over it, under the right extension.
				path := wc.URI().Path()
				wc.Close()
				if len(exts) > 0 && !hasExt(path, exts) {
					if st, err := os.Stat(path); err == nil && st.Size() == 0 {
						os.Remove(path)
					}
					path += exts[0]
				}
				then(path)
			}, w.win)
			d.SetTitleText(title)
			d.SetFileName(name)
			if len(exts) > 0 {
				d.SetFilter(storage.NewExtensionFileFilter(exts))
			}
			setStart(d, w.lastDir())
			d.Resize(fyne.NewSize(900, 600))
			w.showDialog(d)
		},
	}
}

// hasExt reports whether path ends in one of exts.
func hasExt(path string, exts []string) bool {
	for _, e := range exts {
		if strings.EqualFold(filepath.Ext(path), e) {
			return true
		}
	}
	return false
}

// setStart opens a file dialog in dir, when it exists.
func setStart(d *dialog.FileDialog, dir string) {
	if dir == "" {
		return
	}
	if l, err := storage.ListerForURI(storage.NewFileURI(dir)); err == nil {
		d.SetLocation(l)
	}
}

// lastDir is where file dialogs start: beside the model, else beside the
// photos, else the home folder.
func (w *window) lastDir() string {
	switch {
	case w.doc.path != "":
		return filepath.Dir(w.doc.path)
	case len(w.settings.RecentModels) > 0:
		return filepath.Dir(w.settings.RecentModels[0])
	case w.doc.folder != "":
		return filepath.Dir(w.doc.folder)
	}
	home, _ := os.UserHomeDir()
	return home
}

// openFile asks for a file to open.
func (w *window) openFile(title string, exts []string, then func(string)) {
	w.pick.open(title, exts, then)
}

// uriPaths returns the local paths of dropped items.
func uriPaths(uris []fyne.URI) []string {
	var out []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			out = append(out, u.Path())
		}
	}
	return out
}

// displayPath writes a path for people: under the home folder as
// "~/Pictures/cats", since the home folder's own path is noise.
func displayPath(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return p
	}
	rel, err := filepath.Rel(home, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	if rel == "." {
		return "~"
	}
	return "~" + string(filepath.Separator) + rel
}
