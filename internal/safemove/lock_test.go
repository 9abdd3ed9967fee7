package safemove

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/filelock"
	"github.com/clasifica/clasifica/internal/mltest"
)

// holdAt returns a stop hook that, at step, says so on reached and waits
// for release before the move goes on: a move caught in progress.
func holdAt(step Step, reached chan<- struct{}, release <-chan struct{}) func(Step) bool {
	return func(s Step) bool {
		if s == step {
			reached <- struct{}{}
			<-release
		}
		return false
	}
}

// A recovery (another Clasifica starting) while a move is in progress
// waits for it rather than settle it half made: it gives up with an error
// while the move holds on, and finds nothing to settle once it is done.
func TestRecoverLeavesMovesInProgress(t *testing.T) {
	for _, step := range []Step{BeforeJournal, Journaled, Linked, Removed} {
		t.Run(string(step), func(t *testing.T) {
			root, contents := folder(t)
			journal := filepath.Join(t.TempDir(), "moves")
			if err := os.MkdirAll(journal, 0o755); err != nil {
				t.Fatal(err)
			}
			reached, release := make(chan struct{}), make(chan struct{})
			mover := &Mover{Journal: journal, stop: holdAt(step, reached, release)}
			moved := make(chan error, 1)
			go func() {
				_, err := mover.Move(filepath.Join(root, "cats", "b.jpg"), filepath.Join(root, "dogs"))
				moved <- err
			}()
			<-reached
			other := &Mover{Journal: journal, wait: 50 * time.Millisecond} // the mover holds on until released
			rec, err := other.Recover()
			if !errors.Is(err, filelock.ErrBusy) || len(rec) != 0 {
				t.Fatalf("Recover during a move stopped %s: %v, %v; want busy, nothing settled", step, rec, err)
			}
			if !strings.Contains(err.Error(), journal+".lock") {
				t.Errorf("error %q does not name the lock file", err)
			}
			close(release)
			if err := <-moved; err != nil {
				t.Fatalf("the move after the recovery gave up: %v", err)
			}
			if rec, err := other.Recover(); err != nil || len(rec) != 0 {
				t.Errorf("Recover after the move: %v, %v; want nothing to settle", rec, err)
			}
			got := exactlyOnce(t, root, contents)
			if where := got["photo of a dog filed as a cat"]; len(where) != 1 || where[0] != "dogs/b.jpg" {
				t.Errorf("the photo is at %v, want dogs/b.jpg", where)
			}
		})
	}
}

// Two Clasificas (two Movers, so only the journal's lock between them)
// moving many files of the same name into one folder at once: each file
// ends up under exactly one name, none over another, and the journal is
// empty.
func TestConcurrentMovers(t *testing.T) {
	root := t.TempDir()
	journal := filepath.Join(t.TempDir(), "moves")
	dst := filepath.Join(root, "dogs")
	const each = 20
	contents := map[string]string{}
	for _, from := range []string{"cats", "birds"} {
		for k := range each {
			dir := filepath.Join(root, from, fmt.Sprint(k))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			c := fmt.Sprintf("%s photo %d", from, k)
			if err := os.WriteFile(filepath.Join(dir, "a.jpg"), []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
			contents[c] = c
		}
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	froms := []string{"cats", "birds"}
	mltest.AtOnce(t, len(froms), func(i int) error {
		m := &Mover{Journal: journal}
		for k := range each {
			if _, err := m.Move(filepath.Join(root, froms[i], fmt.Sprint(k), "a.jpg"), dst); err != nil {
				return err
			}
		}
		return nil
	})
	for c, where := range exactlyOnce(t, root, contents) {
		if len(where) == 1 && !strings.HasPrefix(where[0], "dogs/") {
			t.Errorf("%q is at %s, want it moved into dogs/", c, where[0])
		}
	}
	if ents, _ := os.ReadDir(journal); len(ents) != 0 {
		t.Errorf("journal holds %d entries after the moves", len(ents))
	}
}

// A move made by another process: this one's recovery waits for it, and
// this one's own move goes through once it is done.
func TestMoveInAnotherProcess(t *testing.T) {
	root, contents := folder(t)
	journal := filepath.Join(t.TempDir(), "moves")
	cmd, in := mltest.HelperProcess(t, []string{"-test.run=^TestMoveHelper$", "-test.count=1"},
		[]string{"SAFEMOVE_STEP=" + string(Linked), "SAFEMOVE_AT_STEP=hold", "SAFEMOVE_ROOT=" + root, "SAFEMOVE_JOURNAL=" + journal}, "holding")

	impatient := &Mover{Journal: journal, wait: 50 * time.Millisecond}
	_, err := impatient.Recover()
	if !errors.Is(err, filelock.ErrBusy) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Fatalf("Recover while another process moves: %v; want busy, naming pid %d", err, cmd.Process.Pid)
	}
	// The helper's file has both names now: settling it here would
	// remove one under the helper's feet.
	if got := files(t, root)["photo of a dog filed as a cat"]; len(got) != 2 {
		t.Fatalf("the helper's photo is at %v, want both names while it holds", got)
	}

	mine := &Mover{Journal: journal}
	moved := make(chan error, 1)
	go func() {
		_, err := mine.Move(filepath.Join(root, "dogs", "a.jpg"), filepath.Join(root, "cats"))
		moved <- err
	}()
	fmt.Fprintln(in)
	if err := <-moved; err != nil {
		t.Fatalf("a move after the other process's: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v", err)
	}
	if rec, err := mine.Recover(); err != nil || len(rec) != 0 {
		t.Errorf("Recover after both moves: %v, %v; want nothing to settle", rec, err)
	}
	got := exactlyOnce(t, root, contents)
	if w := got["photo of a dog filed as a cat"]; len(w) != 1 || w[0] != "dogs/b.jpg" {
		t.Errorf("the helper's photo is at %v, want dogs/b.jpg", w)
	}
	if w := got["photo of a dog"]; len(w) != 1 || w[0] != "cats/a (2).jpg" {
		t.Errorf("this process's photo is at %v, want cats/a (2).jpg", w)
	}
}
