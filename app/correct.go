package app

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/decisions"
)

// Correction is a photo copied into the training folder by a correction
// ("It's a …") or a confirmation ("Right").
type Correction struct {
	// From is the user's photo, To its copy in the kind's folder.
	From, To string
	// NewKind says that the kind had no folder before.
	NewKind bool
}

// AddCorrection copies the photo at src into the training folder root, in
// kind's folder (made when kind is new), never overwriting a file and
// never moving the original, and records in root's decisions that the copy
// joins the training split (so the validation and test photos, and the
// comparison of the models before and after a retraining, stay the same)
// and where it came from. It works on folders with one folder per kind; a
// photo already in the kind's folder with the same content is an error.
func (a *App) AddCorrection(root, src, kind string) (*Correction, error) {
	st, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("add %s to the training photos: the training folder %s is gone (moved, renamed or on a drive not connected)", src, root)
	case err != nil:
		return nil, fmt.Errorf("add %s to the training photos: %w", src, err)
	case !st.IsDir():
		return nil, fmt.Errorf("add %s to the training photos: %s is not a folder", src, root)
	}
	if kind == "" || safeName(kind) != kind {
		return nil, fmt.Errorf("add %s to the training photos: %q cannot be a folder name", src, kind)
	}
	dir := filepath.Join(root, kind)
	c := &Correction{From: src}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		c.NewKind = true
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("add %s to the training photos: make the folder for %s: %w", src, kind, readOnly(err, root))
		}
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("add %s to the training photos: %w", src, err)
	}
	if c.To, err = copyNoClobber(src, dir); err != nil {
		return nil, fmt.Errorf("add %s to the training photos: %w", src, readOnly(err, dir))
	}
	if c.To == "" {
		return nil, fmt.Errorf("add %s to the training photos: %s already holds the same photo", src, dir)
	}
	rel, _ := filepath.Rel(root, c.To)
	p := decisions.Photo{Hash: sha256.Sum256(data), Path: filepath.ToSlash(rel), Label: kind,
		Scheme: decisions.Scheme(dataset.ClassFolders, dataset.Breed)}
	train := dataset.Train
	if _, err := a.ChangeDecisions(root, func(s *decisions.Store) error {
		now := time.Now().UTC()
		s.ForceSplit(p, &train, now)
		s.SetOrigin(p, src, now)
		return nil
	}); err != nil {
		// The copy is Clasifica's and was not recorded: it goes, so that
		// it cannot land in a test split.
		os.Remove(c.To)
		return nil, fmt.Errorf("add %s to the training photos: %w", src, err)
	}
	return c, nil
}

// readOnly explains a permission error on the training folder.
func readOnly(err error, dir string) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%s is read-only: Clasifica cannot add photos to it (%w)", dir, err)
	}
	return err
}
