package app

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/decisions"
)

// hashFile returns the SHA-256 of a file's content.
func hashFile(path string) ([32]byte, error) {
	var h [32]byte
	f, err := os.Open(path)
	if err != nil {
		return h, err
	}
	defer f.Close()
	s := sha256.New()
	if _, err := io.Copy(s, f); err != nil {
		return h, fmt.Errorf("read %s: %w", path, err)
	}
	s.Sum(h[:0])
	return h, nil
}

// RecordCopiedIn records that Clasifica copied the photo at path into the
// photo folder of d from the file from (a correction or a confirmation):
// the photo is forced into the training split, so that the validation and
// test photos stay the same and a before/after comparison compares the
// same photos, and its origin is kept so that undoing the copy may delete
// it. class is its class: where the copy's folder gives it, that one; in
// the Oxford-IIIT Pet layout, where a file in images/ is labelled only by
// the annotation lists, the record labels it (in d's labelling).
func (a *App) RecordCopiedIn(d *dataset.Dataset, path, from, class string) error {
	root := d.Root
	h, err := hashFile(path)
	if err != nil {
		return fmt.Errorf("record the copy %s: %w", path, err)
	}
	rel, err := filepath.Rel(root, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("record the copy %s: it is not inside %s", path, root)
	}
	train := dataset.Train
	_, err = a.ChangeDecisions(root, func(s *decisions.Store) error {
		scheme := decisions.Scheme(d.Layout, d.Options.Granularity)
		p := decisions.Photo{Hash: h, Path: filepath.ToSlash(rel), Label: class, Scheme: scheme}
		now := time.Now().UTC()
		s.SetOrigin(p, from, now)
		s.ForceSplit(p, &train, now)
		if d.Layout == dataset.OxfordPets {
			// No folder labels it: the override is its label.
			p.Label = ""
			return s.Relabel(p, class, now)
		}
		return nil
	})
	return err
}

// UndoCopyIn deletes a photo Clasifica copied into root, and forgets it:
// only a file whose content is still what Clasifica copied (its hash has a
// recorded origin). Any other file is left alone with an error: a user's
// file is never deleted.
func (a *App) UndoCopyIn(root, path string) error {
	h, err := hashFile(path)
	if err != nil {
		return fmt.Errorf("undo the copy %s: %w", path, err)
	}
	s, err := a.LoadDecisions(root)
	if err != nil {
		return err
	}
	rec, ok := s.Get(h)
	if !ok || rec.Origin == nil {
		return fmt.Errorf("undo the copy %s: Clasifica did not copy this file (or it changed since), so it is not deleted", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("undo the copy %s: %w", path, err)
	}
	_, err = a.ChangeDecisions(root, func(s *decisions.Store) error {
		s.Forget(h)
		return nil
	})
	return err
}
