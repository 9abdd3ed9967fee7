package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clasifica/clasifica/internal/safemove"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/decisions"
	"github.com/clasifica/clasifica/ml/doctor"
	"github.com/clasifica/clasifica/ml/inception"
	"github.com/clasifica/clasifica/ml/photo"
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
// photo already in the kind's folder with the same content is an error,
// and a copy or near-copy of a photo of the folder that is, or may be, a
// validation or test photo is refused with a *CopyOfPhotoError.
//
// The copy takes its name in the folder only once it is recorded, so
// that no scan (the Data screen's, a training's) ever sees it outside the
// training split. Corrections to one folder run one at a time, in this
// process and across Clasifica processes (a lock beside the folder's
// decision record), each checked against the folder with the earlier ones
// recorded, and each taking its free name before the next looks for one.
func (a *App) AddCorrection(root, src, kind string) (*Correction, error) {
	a.correcting.Lock()
	defer a.correcting.Unlock()
	if record, err := a.Dirs.DecisionsFile(root); err == nil {
		l, err := lockFile(strings.TrimSuffix(record, ".json")+"-corrections", a.lockWait, "adding photos to "+root)
		if err != nil {
			return nil, fmt.Errorf("add %s to the training photos: %w", src, err)
		}
		defer l.Unlock()
	}
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
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("add %s to the training photos: %w", src, err)
	}
	hash := sha256.Sum256(data)
	if err := a.refuseCopyOfHeldOut(root, src, hash); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, kind)
	c := &Correction{From: src}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		c.NewKind = true
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("add %s to the training photos: make the folder for %s: %w", src, kind, readOnly(err, root))
		}
	}
	if c.To, err = a.copyRecorded(root, dir, src, kind, data, hash); err != nil {
		return nil, fmt.Errorf("add %s to the training photos: %w", src, readOnly(err, dir))
	}
	if c.To == "" {
		return nil, fmt.Errorf("add %s to the training photos: %s already holds the same photo", src, dir)
	}
	return c, nil
}

// copyRecorded writes data (src's content, with content hash h) into dir
// of the folder root under src's name, or a numbered one where that is
// taken, and records the copy as a correction: forced into the training
// split, copied from src. The file is written under a hidden name, which
// scans skip, and linked to its name only after the record is written; a
// failure leaves neither the file nor the record (the photo's record as it
// was before). It returns the copy's path, or "" when dir already holds a
// file of the same content under src's name or a numbered one.
func (a *App) copyRecorded(root, dir, src, kind string, data []byte, h [32]byte) (string, error) {
	base := filepath.Base(src)
	to, err := freeCopyName(dir, base, data)
	if err != nil || to == "" {
		return "", err
	}
	removeStaleCopies(dir)
	tmp, err := os.CreateTemp(dir, correctionTemp+filepath.Ext(base))
	if err != nil {
		return "", err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	defer os.Remove(tmp.Name())
	if err != nil {
		return "", err
	}
	// was is the photo's record before this correction (had: there was
	// one), kept from the first change, for an undo.
	var was decisions.Record
	var had, kept bool
	record := func(to string) error {
		rel, _ := filepath.Rel(root, to)
		p := decisions.Photo{Hash: h, Path: filepath.ToSlash(rel), Label: kind,
			Scheme: decisions.Scheme(dataset.ClassFolders, dataset.Breed)}
		train := dataset.Train
		_, err := a.ChangeDecisions(root, func(s *decisions.Store) error {
			if to == "" {
				s.Put(h, was, had) // undone: the record as it was
				return nil
			}
			if !kept {
				was, had = s.Get(h)
				kept = true
			}
			now := time.Now().UTC()
			s.ForceSplit(p, &train, now)
			s.SetOrigin(p, src, now)
			return nil
		})
		return err
	}
	if err := record(to); err != nil {
		return "", err
	}
	for range 100 {
		err = linkNoClobber(tmp.Name(), to)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
		// Taken since it was chosen: the next free name, recorded.
		if to, err = freeCopyName(dir, base, data); err != nil || to == "" {
			break
		}
		if err = record(to); err != nil {
			break
		}
	}
	if err != nil || to == "" {
		// The copy is Clasifica's and never took a name; its record goes,
		// so that nothing says a photo was copied in that was not.
		if rerr := record(""); rerr != nil && err == nil {
			err = rerr
		}
		return "", err
	}
	return to, nil
}

// correctionTemp names the hidden file a correction is written to before
// it takes its name (os.CreateTemp's pattern, less the extension).
const correctionTemp = ".clasifica-correction-*"

// staleAfter is the age after which a correction's hidden file is one a
// crash or a kill left behind: a correction takes well under a second.
const staleAfter = time.Hour

// removeStaleCopies removes the hidden files that corrections interrupted
// by a crash left in dir. They are Clasifica's own (no person names a
// file so), and scans skip them; removing them only tidies the folder, so
// errors are ignored.
func removeStaleCopies(dir string) {
	left, _ := filepath.Glob(filepath.Join(dir, correctionTemp))
	for _, p := range left {
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() && time.Since(st.ModTime()) > staleAfter {
			os.Remove(p)
		}
	}
}

// freeCopyName returns the first name, src's base or a numbered one
// ("name (2).jpg"), under which dir holds no file, or "" when one of
// those names before it holds a file of content data.
func freeCopyName(dir, base string, data []byte) (string, error) {
	for n := 1; n < 10000; n++ {
		dst := filepath.Join(dir, safemove.NumberedName(base, n))
		st, err := os.Stat(dst)
		if errors.Is(err, fs.ErrNotExist) {
			return dst, nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode().IsRegular() && st.Size() == int64(len(data)) {
			if got, err := os.ReadFile(dst); err == nil && bytes.Equal(got, data) {
				return "", nil
			}
		}
	}
	return "", fmt.Errorf("too many files named like %s in %s", base, dir)
}

// linkNoClobber gives the file tmp the name to, failing with an error
// that is fs.ErrExist when to exists. Where the file system has no hard
// links, it renames tmp after checking that to does not exist (another
// program could create it in between; Clasifica's own corrections run
// one at a time).
func linkNoClobber(tmp, to string) error {
	err := os.Link(tmp, to)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(to); serr == nil {
		return fs.ErrExist
	}
	if rerr := os.Rename(tmp, to); rerr != nil {
		return fmt.Errorf("name the copy %s: %w (and a link: %v)", to, rerr, err)
	}
	return nil
}

// CopyOfPhotoError refuses a correction whose photo is a copy, or a
// near-copy (the same shot resized, recompressed or cropped), of a photo
// already in the training folder that is, or may be, a validation or test
// photo: a copy of it among the training photos would let the model be
// tested on a photo it learnt, and the accuracy would lie.
type CopyOfPhotoError struct {
	// Photo is the photo the correction would copy in; Twin the folder's
	// photo it is a copy of.
	Photo, Twin string
	// Exact reports the same file content; otherwise Similarity (in
	// [0, 1]) says how alike their fingerprints are.
	Exact      bool
	Similarity float64
}

func (e *CopyOfPhotoError) Error() string {
	what := "a near-copy (the same shot, resized, recompressed or cropped)"
	if e.Exact {
		what = "the same photo"
	}
	return fmt.Sprintf("%s is not added to the training photos: it is %s as %s, which is already in the training folder and is, or may become, one of the photos the model is checked on; a copy of it among the training photos would make the accuracy look better than it is. To change that photo's label, correct it on the Results screen instead", e.Photo, what, e.Twin)
}

// refuseCopyOfHeldOut returns a *CopyOfPhotoError when the photo src (with
// content hash h) is a copy or near-copy of a photo of the folder root that
// is not forced into the training split (as corrections are): a photo
// Clasifica divides may be a validation or test photo with any shares,
// and one in a test/ folder or on a test list is one. The folder's
// fingerprints come from those the feature extraction kept (photos never
// extracted are decoded once for theirs).
func (a *App) refuseCopyOfHeldOut(root, src string, h [32]byte) error {
	ctx := context.Background()
	d, err := a.Scan(ctx, root, dataset.DefaultOptions())
	var layout *dataset.LayoutError
	if errors.As(err, &layout) {
		return nil // no photos yet that it could be a copy of
	}
	if err != nil {
		return fmt.Errorf("add %s to the training photos: %w", src, err)
	}
	training := map[string]bool{}
	for _, dec := range d.Decided {
		if dec.Forced && dec.Split == dataset.Train {
			training[dec.Path] = true
		}
	}
	for _, it := range d.Items {
		if it.Hash == h && !training[it.Path] {
			return &CopyOfPhotoError{Photo: src, Twin: it.Path, Exact: true, Similarity: 1}
		}
	}
	p, err := photo.LoadFile(src, inception.Size, photo.Limits{})
	if err != nil {
		return fmt.Errorf("add %s to the training photos: %w", src, err)
	}
	mine := doctor.Fingerprint(p)
	c, err := a.newPrintCollector()
	if err != nil {
		return err
	}
	prints, err := a.fingerprints(ctx, d.Items, c, func(int, int) {})
	if err != nil {
		return err
	}
	best, twin := 0.0, ""
	for i, it := range d.Items {
		if sim, ok := mine.NearCopyOf(prints[i]); ok && !training[it.Path] && sim > best {
			best, twin = sim, it.Path
		}
	}
	if twin != "" {
		return &CopyOfPhotoError{Photo: src, Twin: twin, Similarity: best}
	}
	return nil
}

// readOnly explains a permission error on the training folder.
func readOnly(err error, dir string) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%s is read-only: Clasifica cannot add photos to it (%w)", dir, err)
	}
	return err
}
