package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/clasifica/clasifica/internal/safemove"
	"github.com/clasifica/clasifica/ml/dataset"
)

// movers holds the App's one Mover, made on first use: its undo list is
// the session's.
type movers struct {
	once sync.Once
	m    *safemove.Mover
}

// Mover returns the mover of this session: every move of a user's file
// goes through it, journaled in the data folder, and can be undone until
// the app closes.
func (a *App) Mover() *safemove.Mover {
	a.movers.once.Do(func() { a.movers.m = &safemove.Mover{Journal: a.Dirs.Moves()} })
	return a.movers.m
}

// RecoverMoves settles the moves a crash or a kill interrupted: each file
// ends with exactly one of its two names. The desktop app calls it at
// start, before anything else touches the photos.
func (a *App) RecoverMoves() ([]safemove.Recovered, error) {
	if a.Dirs.Data == "" {
		return nil, nil
	}
	return a.Mover().Recover()
}

// CanMove says whether the photos of d can be fixed by moving files:
// where a class is a folder. In the Oxford-IIIT Pet layout the class is in
// the file's name and the annotation lists, so the fix is a relabel.
func CanMove(d *dataset.Dataset) bool {
	return d != nil && d.Layout != dataset.OxfordPets
}

// ClassFolder returns the folder a photo of d would be moved to so that it
// counts as class: the folder of that class beside the photo's own class
// folder (in the same split folder, in a train/–test/ layout). create
// reports that the folder does not exist yet (a new class, or a class
// without photos in this split).
func ClassFolder(d *dataset.Dataset, p DecidedPhoto, class string) (dir string, create bool, err error) {
	if !CanMove(d) {
		return "", false, errors.New("in the Oxford-IIIT Pet layout a photo's class is in its name and the annotation lists: relabel it in Clasifica instead")
	}
	if err := checkClassName(class); err != nil {
		return "", false, err
	}
	// The photo's class folder is the nearest folder above it named like
	// the class its folder gives (photos may sit deeper inside it).
	own := filepath.Dir(p.Path)
	for filepath.Base(own) != p.Folder {
		up := filepath.Dir(own)
		if up == own || !strings.HasPrefix(own, d.Root) {
			return "", false, fmt.Errorf("%s: no folder named %q above it", p.Path, p.Folder)
		}
		own = up
	}
	dir = filepath.Join(filepath.Dir(own), class)
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return "", false, fmt.Errorf("%s is a file, not a class folder", dir)
	case err == nil:
		return dir, false, nil
	case errors.Is(err, os.ErrNotExist):
		return dir, true, nil
	}
	return "", false, err
}

// checkClassName refuses names that cannot be a folder of classes.
func checkClassName(class string) error {
	if strings.TrimSpace(class) == "" || strings.ContainsAny(class, `/\`+"\x00") || class == "." || class == ".." {
		return fmt.Errorf("%q cannot be the name of a class folder", class)
	}
	return nil
}

// MovePhoto moves photo p of d into the folder of class (see ClassFolder),
// creating that folder for a new class: never over another file, journaled,
// undoable with the session's Mover().Undo. A move that cannot be made
// (another drive, a read-only folder) changes nothing.
func (a *App) MovePhoto(d *dataset.Dataset, p DecidedPhoto, class string) (safemove.Move, error) {
	dir, create, err := ClassFolder(d, p, class)
	if err != nil {
		return safemove.Move{}, err
	}
	if create {
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return safemove.Move{}, &safemove.Error{From: p.Path, ToDir: dir, Reason: "the new class folder cannot be created", Err: err}
		}
	}
	mv, err := a.Mover().Move(p.Path, dir)
	if err != nil && create {
		os.Remove(dir) // only if still empty: Remove fails otherwise
	}
	return mv, err
}
