// Package safemove moves a person's files between folders of one photo
// folder without ever losing or overwriting one: a move never replaces an
// existing file (it picks a free name), a journal entry is written before
// each move so that a crash or a kill at any moment is completed or rolled
// back on the next start, and the moves of a session can be undone.
//
// Several processes (the desktop app and the command line, or two of
// either) may share one journal: each move, and each recovery, holds the
// journal's inter-process lock (see filelock), so that no process settles
// another's move while it is being made, and two never pick the same free
// name at once.
//
// A move is a hard link to the new name followed by the removal of the old
// one: the link fails rather than replace an existing file, and at every
// moment the file has at least one name. Where links are not supported
// (some removable drives), it is a rename after checking that the name is
// free. A move across file systems would be a copy, which this package
// refuses: moving photos between drives is not what a label fix needs.
package safemove

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/clasifica/clasifica/internal/atomicfile"
	"github.com/clasifica/clasifica/internal/filelock"
)

// Step names the moments of a move, for tests that stop a move there.
type Step string

// The steps of a move, in order.
const (
	// BeforeJournal: the move is decided, nothing is written yet.
	BeforeJournal Step = "before-journal"
	// Journaled: the journal entry is on disk, the file is untouched.
	Journaled Step = "journaled"
	// Linked: the file has both names (or, without links, the new one).
	Linked Step = "linked"
	// Removed: the old name is gone; the journal entry is still there.
	Removed Step = "removed"
)

// Move is one file moved.
type Move struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Size is the file's size, to recognise it.
	Size int64 `json:"size"`
	// Started is when the move began.
	Started time.Time `json:"started"`
}

// Error reports a move that was refused or failed; the file is where it
// was and nothing was changed.
type Error struct {
	From, ToDir string
	// Reason says why, for people.
	Reason string
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("cannot move %s to %s: %s; nothing was changed", e.From, e.ToDir, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// Mover moves files, journaling each move in Journal. Its methods are
// safe for concurrent use; moves run one at a time, in this process and
// across the processes that share the journal.
type Mover struct {
	// Journal is the folder of the journal: outside the photo folders
	// (Clasifica's data folder), created when needed. Its lock file is
	// Journal+".lock", beside it.
	Journal string

	// wait bounds how long a move or a recovery waits for another
	// process's (0: filelock.Patience); tests shorten it.
	wait time.Duration

	// stop, when not nil, is called at each step; returning true stops the
	// move there as a kill would (tests).
	stop func(Step) bool

	mu   sync.Mutex
	done []Move // this session's moves, for Undo
}

// errStopped is returned when a test stopped a move at a step.
var errStopped = errors.New("safemove: stopped by test")

// lock takes the journal's inter-process lock; doing says what this
// process was about to do, for the error when another holds it too long.
func (m *Mover) lock(doing string) (*filelock.Lock, error) {
	wait := m.wait
	if wait <= 0 {
		wait = filelock.Patience
	}
	l, err := filelock.Acquire(context.Background(), filepath.Clean(m.Journal)+".lock", wait)
	if errors.Is(err, filelock.ErrBusy) {
		return nil, fmt.Errorf("another Clasifica is using the move journal and has not let go, so this one cannot %s now: %w", doing, err)
	}
	return l, err
}

// Move moves the file src into the folder dstDir, keeping its name if it
// is free there, and otherwise adding " (2)", " (3)", … before the
// extension. It returns the move made.
func (m *Mover) Move(src, dstDir string) (Move, error) {
	return m.MoveAs(src, dstDir, filepath.Base(src))
}

// MoveAs is Move with the name the file should have in dstDir, if free.
func (m *Mover) MoveAs(src, dstDir, name string) (Move, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mv, err := m.move(src, dstDir, name)
	if err == nil {
		m.done = append(m.done, mv)
	}
	return mv, err
}

// Moved returns this session's moves that were not undone, oldest first.
func (m *Mover) Moved() []Move {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Move(nil), m.done...)
}

// Undo moves the session's last move back: to its old name if that is
// free, otherwise to a free name beside it. It returns the move undone and
// the move that undid it.
func (m *Mover) Undo() (undone, back Move, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.done) == 0 {
		return Move{}, Move{}, errors.New("nothing to undo")
	}
	undone = m.done[len(m.done)-1]
	back, err = m.move(undone.To, filepath.Dir(undone.From), filepath.Base(undone.From))
	if err != nil {
		return undone, Move{}, fmt.Errorf("undo the move of %s: %w", undone.From, err)
	}
	m.done = m.done[:len(m.done)-1]
	return undone, back, nil
}

func (m *Mover) at(s Step) bool { return m.stop != nil && m.stop(s) }

// move moves one file; the caller holds m.mu. The journal's lock is held
// from the first look at the files to the removal of the journal entry:
// what is checked stays true, and another process's recovery never sees
// the move half made.
func (m *Mover) move(src, dstDir, name string) (Move, error) {
	refuse := func(reason string, err error) (Move, error) {
		return Move{}, &Error{From: src, ToDir: dstDir, Reason: reason, Err: err}
	}
	if m.Journal == "" {
		return refuse("no journal folder is set", nil)
	}
	l, err := m.lock("move it")
	if err != nil {
		return refuse(err.Error(), err)
	}
	defer l.Unlock()
	fi, err := os.Lstat(src)
	if err != nil {
		return refuse("the file cannot be found", err)
	}
	if !fi.Mode().IsRegular() {
		return refuse("it is not an ordinary file", nil)
	}
	di, err := os.Stat(dstDir)
	if err != nil || !di.IsDir() {
		return refuse("the destination is not a folder", err)
	}
	if same, err := sameDevice(filepath.Dir(src), dstDir); err == nil && !same {
		return refuse("they are on different drives (moving would mean copying; move it by hand if you mean to)", nil)
	}
	if m.at(BeforeJournal) {
		return Move{}, errStopped
	}
	if err := os.MkdirAll(m.Journal, 0o755); err != nil {
		return refuse("the journal folder cannot be created", err)
	}

	for range 1000 {
		dst, err := freeName(dstDir, name)
		if err != nil {
			return refuse("no free name", err)
		}
		mv := Move{From: src, To: dst, Size: fi.Size(), Started: time.Now().UTC()}
		entry := filepath.Join(m.Journal, "move-"+strconv.FormatUint(rand.Uint64(), 36)+".json")
		data, _ := json.Marshal(mv)
		if err := atomicfile.WriteFile(entry, data, 0o644); err != nil {
			return refuse("the journal cannot be written", err)
		}
		if m.at(Journaled) {
			return Move{}, errStopped
		}
		err = os.Link(src, dst)
		if err != nil && !errors.Is(err, fs.ErrExist) && !isCrossDevice(err) && !errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.EROFS) {
			// No hard links here (FAT, some network shares): a rename,
			// the name checked free just before.
			if _, serr := os.Lstat(dst); errors.Is(serr, fs.ErrNotExist) {
				err = os.Rename(src, dst)
			}
		}
		if errors.Is(err, fs.ErrExist) {
			os.Remove(entry)
			continue // someone took the name: try the next
		}
		if err != nil {
			os.Remove(entry)
			switch {
			case isCrossDevice(err):
				return refuse("they are on different drives", err)
			case isReadOnly(err):
				return refuse("the folder cannot be written to (read-only or not yours)", err)
			}
			return refuse(err.Error(), err)
		}
		syncDir(dstDir)
		if m.at(Linked) {
			return Move{}, errStopped
		}
		if err := removeOld(src, dst); err != nil {
			// Both names remain: undo the new one so that the file is
			// where it was.
			if rerr := unlinkNew(src, dst); rerr == nil {
				os.Remove(entry)
				return refuse("the old name cannot be removed", err)
			}
			return Move{}, fmt.Errorf("move %s to %s: the file now has both names (%v); the next start will settle it", src, dst, err)
		}
		syncDir(filepath.Dir(src))
		if m.at(Removed) {
			return Move{}, errStopped
		}
		if err := os.Remove(entry); err != nil {
			return mv, fmt.Errorf("move %s: done, but its journal entry %s could not be removed: %w", src, entry, err)
		}
		return mv, nil
	}
	return refuse("no free name after 1000 tries", nil)
}

// removeOld removes src after it was linked as dst; after a rename src is
// already gone.
func removeOld(src, dst string) error {
	sfi, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	dfi, err := os.Lstat(dst)
	if err != nil {
		return err
	}
	if !os.SameFile(sfi, dfi) {
		return fmt.Errorf("%s and %s are different files", src, dst)
	}
	return os.Remove(src)
}

// unlinkNew removes the new name dst of a file that still has its old
// name src, after checking they are one file.
func unlinkNew(src, dst string) error {
	sfi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	dfi, err := os.Lstat(dst)
	if err != nil {
		return err
	}
	if !os.SameFile(sfi, dfi) {
		return errors.New("different files")
	}
	return os.Remove(dst)
}

// NumberedName is the i-th name (from 1) a file called name is given
// where the ones before are taken: name itself, then "stem (2).ext",
// "stem (3).ext", … Every copy or move into a folder of the user's names
// its file this way.
func NumberedName(name string, i int) string {
	if i <= 1 {
		return name
	}
	ext := filepath.Ext(name)
	return fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), i, ext)
}

// freeName returns a path in dir for name that no file has (see
// NumberedName).
func freeName(dir, name string) (string, error) {
	for i := 1; i < 10000; i++ {
		p := filepath.Join(dir, NumberedName(name, i))
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("every name like %s is taken in %s", name, dir)
}

// Outcome says how Recover settled a move that was interrupted.
type Outcome string

// Outcomes of Recover.
const (
	// Completed: the file was at its new name (perhaps also at the old
	// one); it is now only at the new one.
	Completed Outcome = "completed"
	// RolledBack: the move had not happened; the file is where it was.
	RolledBack Outcome = "rolled back"
	// Separate: two different files hold the two names; both are kept.
	Separate Outcome = "kept both"
	// Gone: neither name exists any more (deleted by someone else).
	Gone Outcome = "file gone"
)

// Recovered is one interrupted move settled by Recover.
type Recovered struct {
	Move    Move
	Outcome Outcome
}

// Recover settles the moves a crash or a kill interrupted, from the
// journal: each file ends up with exactly one of its two names. Call it
// at start, before any move. A journal entry that cannot be read is left
// in place and reported. Moves another process is making are not touched:
// Recover waits for the one in progress (see filelock.Patience), and every entry it
// then finds is one no move is making any more: its process ended (a
// crash, a kill) or gave up on it, before removing it.
func (m *Mover) Recover() ([]Recovered, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := os.Stat(m.Journal); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no journal: nothing was ever moved
	}
	l, err := m.lock("settle the moves interrupted before")
	if err != nil {
		return nil, fmt.Errorf("read the move journal %s: %w", m.Journal, err)
	}
	defer l.Unlock()
	ents, err := os.ReadDir(m.Journal)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the move journal %s: %w", m.Journal, err)
	}
	var out []Recovered
	var errs []error
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "move-") || !strings.HasSuffix(name, ".json") {
			if strings.HasPrefix(name, ".move-") {
				// An entry whose atomic write was interrupted: the move
				// never started.
				os.Remove(filepath.Join(m.Journal, name))
			}
			continue
		}
		entry := filepath.Join(m.Journal, name)
		data, err := os.ReadFile(entry)
		var mv Move
		if err == nil {
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			err = dec.Decode(&mv)
		}
		if err == nil && (mv.From == "" || mv.To == "") {
			err = errors.New("no paths")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("journal entry %s: %w", entry, err))
			continue
		}
		o, err := settle(mv)
		if err != nil {
			errs = append(errs, fmt.Errorf("settle the move of %s to %s: %w", mv.From, mv.To, err))
			continue
		}
		if err := os.Remove(entry); err != nil {
			errs = append(errs, err)
		}
		out = append(out, Recovered{Move: mv, Outcome: o})
	}
	return out, errors.Join(errs...)
}

// settle finishes or rolls back one journaled move.
func settle(mv Move) (Outcome, error) {
	sfi, serr := os.Lstat(mv.From)
	dfi, derr := os.Lstat(mv.To)
	srcOK, dstOK := serr == nil, derr == nil
	switch {
	case srcOK && dstOK:
		if !os.SameFile(sfi, dfi) {
			return Separate, nil
		}
		if err := os.Remove(mv.From); err != nil {
			return "", err
		}
		syncDir(filepath.Dir(mv.From))
		return Completed, nil
	case dstOK:
		return Completed, nil
	case srcOK:
		return RolledBack, nil
	}
	return Gone, nil
}

// isReadOnly reports errors from writing into a folder that cannot be
// written to.
func isReadOnly(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}

// syncDir syncs a folder so that a name added or removed survives a power
// loss; failures are ignored (not every system can sync a folder), since a
// kill, unlike a power loss, keeps what the kernel was told.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
