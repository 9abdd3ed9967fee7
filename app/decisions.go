package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/internal/filelock"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/decisions"
)

// folderKey returns the path that identifies a photo folder: absolute,
// with links resolved where possible, so that one folder reached by two
// paths keeps one record.
func folderKey(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("decisions for %s: %w", root, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return filepath.Clean(abs), nil
}

// DecisionsFile returns the file that holds the decisions about the photos
// of the folder root: in the data folder, named after the folder (for
// people looking) and a hash of its full path (the key).
func (d Dirs) DecisionsFile(root string) (string, error) {
	if d.Data == "" {
		return "", errors.New("no data folder is set, so decisions cannot be kept")
	}
	key, err := folderKey(root)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(key))
	var name strings.Builder
	for _, r := range filepath.Base(key) {
		if name.Len() >= 40 {
			break
		}
		if r < 128 && (r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			name.WriteRune(r)
		} else {
			name.WriteByte('_')
		}
	}
	return filepath.Join(d.Decisions(), strings.TrimLeft(name.String(), ".")+"-"+hex.EncodeToString(sum[:8])+".json"), nil
}

// DecisionsError reports a decision record that could not be read. A
// damaged record, or one written by a later version, is renamed (Kept) so
// that nothing is lost and the next start begins a new one.
type DecisionsError struct {
	// File is the record's file.
	File string
	// Kept is where it was moved, if it was.
	Kept string
	Err  error
}

func (e *DecisionsError) Error() string {
	msg := fmt.Sprintf("read the decisions in %s: %v", e.File, e.Err)
	if e.Kept != "" {
		msg += fmt.Sprintf("; the file was kept as %s and Clasifica starts a new record for this folder (the labels, left-out photos and confirmations decided before are not applied until it is restored)", e.Kept)
	}
	return msg
}

func (e *DecisionsError) Unwrap() error { return e.Err }

// LoadDecisions reads the decisions about the photos of the folder root; a
// folder nobody decided anything about has an empty store. A damaged or
// later-version record gives a *DecisionsError after it is set aside.
func (a *App) LoadDecisions(root string) (*decisions.Store, error) {
	return a.loadDecisions(root, false)
}

// loadDecisions is LoadDecisions; locked says the caller holds the
// record's lock. A damaged record is set aside only under the lock: a
// record read damaged while another Clasifica was replacing it (or had
// set it aside and begun a new one) must not have the new one renamed
// away, so it is read again under the lock first.
func (a *App) loadDecisions(root string, locked bool) (*decisions.Store, error) {
	key, err := folderKey(root)
	if err != nil {
		return nil, err
	}
	if a.Dirs.Data == "" {
		return decisions.New(key), nil
	}
	file, err := a.Dirs.DecisionsFile(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return decisions.New(key), nil
	}
	if err != nil {
		return nil, &DecisionsError{File: file, Err: err}
	}
	s, err := decisions.Decode(bytes.NewReader(data))
	if err != nil {
		e := &DecisionsError{File: file, Err: err}
		var fe *decisions.FormatError
		if errors.As(err, &fe) && !locked {
			l, lerr := a.lockDecisions(key, file)
			if lerr != nil {
				return nil, &DecisionsError{File: file, Err: fmt.Errorf("%v, and it cannot be set aside now: %w", err, lerr)}
			}
			defer l.Unlock()
			return a.loadDecisions(root, true)
		}
		if errors.As(err, &fe) {
			kept, rerr := setAside(file, fe.Version > decisions.Version, fe.Version)
			if rerr != nil {
				return nil, &DecisionsError{File: file, Err: fmt.Errorf("%v, and it could not be set aside: %w", err, rerr)}
			}
			e.Kept = kept
		}
		return nil, e
	}
	s.Root = key
	return s, nil
}

// ChangeDecisions reads the decisions about root, lets change modify them,
// and writes them back atomically (a crash leaves the old record or the new
// one). It returns the record's file. Changes never overwrite each
// other, made through one App or by other Clasifica processes (the app and
// the command line): each holds the record's lock from reading to writing,
// so each reads the record the last one wrote. When another process holds
// the lock for longer than a change takes (see filelock.Patience), the error says
// so and names the lock file and its holder.
func (a *App) ChangeDecisions(root string, change func(*decisions.Store) error) (string, error) {
	file, err := a.Dirs.DecisionsFile(root)
	if err != nil {
		return "", err
	}
	a.decisionsMu.Lock()
	defer a.decisionsMu.Unlock()
	key, err := folderKey(root)
	if err != nil {
		return file, err
	}
	l, err := a.lockDecisions(key, file)
	if err != nil {
		return file, err
	}
	defer l.Unlock()
	// A save cut short by a crash or a kill left its temporary file;
	// every writer of the record holds this lock.
	atomicfile.RemoveStale(file)
	s, err := a.loadDecisions(root, true)
	if err != nil {
		return file, err
	}
	if err := change(s); err != nil {
		return file, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return file, fmt.Errorf("save decisions: %w", err)
	}
	if s.Empty() {
		// Nothing decided: no file, rather than an empty one.
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return file, fmt.Errorf("save decisions: %w", err)
		}
		return file, nil
	}
	var buf bytes.Buffer
	if err := s.Encode(&buf); err != nil {
		return file, fmt.Errorf("save decisions %s: %w", file, err)
	}
	return file, atomicfile.WriteFile(file, buf.Bytes(), 0o644)
}

// lockDecisions takes the inter-process lock of the decision record file
// of the photo folder key.
func (a *App) lockDecisions(key, file string) (*filelock.Lock, error) {
	return lockFile(file, a.lockWait, "changing the decisions for "+key)
}

// WithDecisions returns opt with the decisions about root, for a scan that
// counts photos as the user decided. The record is read now, for its
// errors, and again when the scan first asks (see scanDecisions).
func (a *App) WithDecisions(root string, opt dataset.Options) (dataset.Options, error) {
	s, err := a.LoadDecisions(root)
	if err != nil {
		return opt, err
	}
	opt.Decisions = &scanDecisions{store: s, load: func() (*decisions.Store, error) { return a.LoadDecisions(root) }}
	return opt, nil
}

// scanDecisions are the decisions a scan applies, read again when it
// first asks: a scan asks once it has listed the folder's files, and a
// photo Clasifica copies in (AddCorrection) takes its name only after its
// decision is written, so no scan lists such a photo without its decision
// (a record read before the listing could miss it, and the photo would
// fall in the split its content gives, a test photo perhaps). If reading
// it again fails, the record read first answers.
type scanDecisions struct {
	once  sync.Once
	load  func() (*decisions.Store, error)
	store *decisions.Store
}

// current returns the record, read again the first time.
func (d *scanDecisions) current() *decisions.Store {
	d.once.Do(func() {
		if s, err := d.load(); err == nil {
			d.store = s
		}
	})
	return d.store
}

// Decide implements dataset.Decisions.
func (d *scanDecisions) Decide(h [32]byte, layout dataset.Layout, g dataset.Granularity) (dataset.Decision, bool) {
	return d.current().Decide(h, layout, g)
}

// NearCopies implements dataset.NearCopies.
func (d *scanDecisions) NearCopies() [][2][32]byte { return d.current().NearCopies() }

// CopiedInNames implements dataset.CopiedIn.
func (d *scanDecisions) CopiedInNames() map[string]bool { return d.current().CopiedInNames() }

// Scan is ScanFolder with the user's decisions about dir applied: photos
// relabelled count in their new class, photos left out are not there.
func (a *App) Scan(ctx context.Context, dir string, opt dataset.Options) (*dataset.Dataset, error) {
	opt, err := a.WithDecisions(dir, opt)
	if err != nil {
		return nil, err
	}
	return ScanFolder(ctx, dir, opt)
}

// DecidedPhoto is a photo of a scanned folder, as decisions name it.
type DecidedPhoto struct {
	// Path is the file, absolute.
	Path string
	// Hash is its content's SHA-256.
	Hash [32]byte
	// Folder is the class its folder (or annotation) gives it.
	Folder string
	// Label is the class it counts in now; empty when left out.
	Label string
}

// FindPhoto finds the photo at path among the photos of d, used or left
// out. path may be relative to the current folder.
func FindPhoto(d *dataset.Dataset, path string) (DecidedPhoto, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return DecidedPhoto{}, fmt.Errorf("find %s: %w", path, err)
	}
	for _, it := range d.Items {
		if it.Path == abs {
			p := DecidedPhoto{Path: abs, Hash: it.Hash, Folder: d.Classes[it.Label], Label: d.Classes[it.Label]}
			for _, dec := range d.Decided {
				if dec.Path == abs {
					p.Folder = dec.Folder
				}
			}
			return p, nil
		}
	}
	for _, dec := range d.Decided {
		if dec.Path == abs {
			return DecidedPhoto{Path: abs, Hash: dec.Hash, Folder: dec.Folder, Label: dec.Label}, nil
		}
	}
	for _, p := range d.Problems {
		if p.Path == abs {
			return DecidedPhoto{}, fmt.Errorf("%s is not used: %s", abs, p.String())
		}
	}
	if _, err := os.Stat(abs); err != nil {
		return DecidedPhoto{}, fmt.Errorf("find %s: %w", abs, err)
	}
	return DecidedPhoto{}, fmt.Errorf("%s is not one of the photos of %s", abs, d.Root)
}

// photoOf names p for the store.
func photoOf(d *dataset.Dataset, p DecidedPhoto) decisions.Photo {
	rel, err := filepath.Rel(d.Root, p.Path)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = p.Path
	}
	return decisions.Photo{Hash: p.Hash, Path: filepath.ToSlash(rel), Label: p.Folder,
		Scheme: decisions.Scheme(d.Layout, d.Options.Granularity)}
}

// Relabel makes photo p of d count in class kind without moving its file
// (in the labelling d uses: breed or species for the Oxford-IIIT Pet
// dataset). It reports whether kind is a new class, and returns the
// record's file. Relabelling a photo to its folder's class undoes it.
func (a *App) Relabel(d *dataset.Dataset, p DecidedPhoto, kind string) (newClass bool, file string, err error) {
	newClass, _, file, err = a.relabel(d, p, kind)
	return newClass, file, err
}

// relabel is Relabel, also returning p's record after it.
func (a *App) relabel(d *dataset.Dataset, p DecidedPhoto, kind string) (newClass bool, after decided, file string, err error) {
	newClass = true
	for _, c := range d.Classes {
		if c == kind {
			newClass = false
		}
	}
	after, file, err = a.decide(d, p, func(s *decisions.Store, ph decisions.Photo, now time.Time) error {
		return s.Relabel(ph, kind, now)
	})
	if err != nil {
		return false, after, file, fmt.Errorf("relabel %s: %w", p.Path, err)
	}
	return newClass, after, file, nil
}

// LeaveOut keeps photo p of d out of training, validation and test (out
// true) or lets it back in, without touching the file.
func (a *App) LeaveOut(d *dataset.Dataset, p DecidedPhoto, out bool) (string, error) {
	_, file, err := a.mark(d, p, (*decisions.Store).SetLeaveOut, out)
	return file, err
}

// ConfirmLabel records that photo p's label is right (or, with right
// false, withdraws that): the label check does not suggest it again.
func (a *App) ConfirmLabel(d *dataset.Dataset, p DecidedPhoto, right bool) (string, error) {
	_, file, err := a.mark(d, p, (*decisions.Store).SetRight, right)
	return file, err
}

// mark sets one of photo p's yes-or-no decisions (leave out, right) with
// set, and returns its record after it.
func (a *App) mark(d *dataset.Dataset, p DecidedPhoto, set func(*decisions.Store, decisions.Photo, bool, time.Time), on bool) (decided, string, error) {
	return a.decide(d, p, func(s *decisions.Store, ph decisions.Photo, now time.Time) error {
		set(s, ph, on, now)
		return nil
	})
}

// decided is a photo's decision record as one change left it, which an
// undo of that change compares with the record then: had is false when
// the photo had none.
type decided struct {
	rec decisions.Record
	had bool
}

// decide changes the decisions about photo p of d and returns its record
// as the change left it, read under the same lock, so that no other
// window's or process's change can come between.
func (a *App) decide(d *dataset.Dataset, p DecidedPhoto, change func(s *decisions.Store, ph decisions.Photo, now time.Time) error) (decided, string, error) {
	var after decided
	file, err := a.ChangeDecisions(d.Root, func(s *decisions.Store) error {
		if err := change(s, photoOf(d, p), time.Now().UTC()); err != nil {
			return err
		}
		after.rec, after.had = s.Get(p.Hash)
		return nil
	})
	return after, file, err
}

// Forget drops every decision about the photo with content hash h in the
// folder root, and reports whether there was any.
func (a *App) Forget(root string, h [32]byte) (bool, string, error) {
	var had bool
	file, err := a.ChangeDecisions(root, func(s *decisions.Store) error {
		had = s.Forget(h)
		return nil
	})
	return had, file, err
}

// DecisionView is one photo's decisions as `dataset decisions` shows them.
type DecisionView struct {
	// Path is the photo's file: where the scan found it, or where it was
	// when last decided about if the scan did not find it.
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Label is the class the folder gives the photo.
	Label string `json:"label"`
	// Override is the class it counts in instead, or nil.
	Override *string `json:"override"`
	LeaveOut bool    `json:"leave_out"`
	// Right reports that its label was confirmed.
	Right bool `json:"right"`
	// Split is the split it was forced into, or nil.
	Split *string `json:"split"`
	// Present reports that the scan found the photo in the folder.
	Present bool `json:"present"`
	// Note says why part of a decision is not applied, if so.
	Note string `json:"note,omitempty"`
}

// Describe says in words what was decided about the photo, one phrase per
// decision, for lists people read.
func (v DecisionView) Describe() string {
	var what []string
	if v.Override != nil {
		what = append(what, "counts as "+*v.Override)
	}
	if v.LeaveOut {
		what = append(what, "left out of training")
	}
	if v.Right {
		what = append(what, "label confirmed")
	}
	if v.Split != nil {
		what = append(what, "kept in the "+*v.Split+" split")
	}
	if !v.Present {
		what = append(what, "not in the folder now")
	}
	if v.Note != "" {
		what = append(what, v.Note)
	}
	return strings.Join(what, ", ")
}

// Decisions lists the decisions about the photos of d, with the paths and
// folder labels the scan found; the store's file is returned too.
func (a *App) Decisions(d *dataset.Dataset) (string, []DecisionView, error) {
	file, err := a.Dirs.DecisionsFile(d.Root)
	if err != nil {
		return "", nil, err
	}
	s, err := a.LoadDecisions(d.Root)
	if err != nil {
		return file, nil, err
	}
	type seen struct {
		path, folder, note string
	}
	at := map[[32]byte]seen{}
	for _, it := range d.Items {
		if _, ok := at[it.Hash]; !ok {
			at[it.Hash] = seen{path: it.Path, folder: d.Classes[it.Label]}
		}
	}
	for _, dec := range d.Decided {
		at[dec.Hash] = seen{path: dec.Path, folder: dec.Folder, note: dec.Note}
	}
	scheme := decisions.Scheme(d.Layout, d.Options.Granularity)
	views := []DecisionView{}
	for _, r := range s.Records() {
		h, _ := decisions.ParseHash(r.SHA256)
		v := DecisionView{Path: filepath.Join(d.Root, filepath.FromSlash(r.Path)), SHA256: r.SHA256, Label: r.Label,
			LeaveOut: r.LeaveOut, Right: r.Right}
		if w, ok := at[h]; ok {
			v.Path, v.Label, v.Note, v.Present = w.path, w.folder, w.note, true
		}
		if o, ok := r.Override[scheme]; ok {
			v.Override = &o
		}
		if r.Split != nil {
			sp := r.Split.String()
			v.Split = &sp
		}
		views = append(views, v)
	}
	return file, views, nil
}
