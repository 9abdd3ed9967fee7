package safemove

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// folder makes a photo folder with two class folders: cats/ holding
// a.jpg and b.jpg, dogs/ holding a.jpg (another photo of the same name).
func folder(t *testing.T) (root string, contents map[string]string) {
	t.Helper()
	root = t.TempDir()
	contents = map[string]string{
		"cats/a.jpg": "photo of a cat",
		"cats/b.jpg": "photo of a dog filed as a cat",
		"dogs/a.jpg": "photo of a dog",
	}
	for rel, c := range contents {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, contents
}

// files returns every file under root by content, with its paths.
func files(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[string(b)] = append(out[string(b)], filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// exactlyOnce fails unless every original content is present under
// exactly one name and nothing else is there.
func exactlyOnce(t *testing.T, root string, contents map[string]string) map[string][]string {
	t.Helper()
	got := files(t, root)
	for _, c := range contents {
		if len(got[c]) != 1 {
			t.Errorf("%q is at %v, want exactly one name", c, got[c])
		}
	}
	if len(got) != len(contents) {
		t.Errorf("files %v, want only the %d originals", got, len(contents))
	}
	return got
}

func TestMoveNeverOverwritesAndUndoes(t *testing.T) {
	root, contents := folder(t)
	m := &Mover{Journal: filepath.Join(t.TempDir(), "moves")}
	// cats/a.jpg into dogs/, which already has an a.jpg.
	mv, err := m.Move(filepath.Join(root, "cats", "a.jpg"), filepath.Join(root, "dogs"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "dogs", "a (2).jpg"); mv.To != want {
		t.Errorf("moved to %s, want %s", mv.To, want)
	}
	if _, err := m.Move(filepath.Join(root, "cats", "b.jpg"), filepath.Join(root, "dogs")); err != nil {
		t.Fatal(err)
	}
	got := exactlyOnce(t, root, contents)
	if got["photo of a dog"][0] != "dogs/a.jpg" || got["photo of a cat"][0] != "dogs/a (2).jpg" {
		t.Errorf("after the moves: %v", got)
	}
	if ents, _ := os.ReadDir(m.Journal); len(ents) != 0 {
		t.Errorf("journal holds %d entries after finished moves", len(ents))
	}

	// Undo both, newest first: every file back at its name.
	for range 2 {
		if _, _, err := m.Undo(); err != nil {
			t.Fatal(err)
		}
	}
	got = exactlyOnce(t, root, contents)
	for rel, c := range contents {
		if got[c][0] != rel {
			t.Errorf("after undo %q is at %s, want %s", c, got[c][0], rel)
		}
	}
	if _, _, err := m.Undo(); err == nil {
		t.Error("Undo with nothing to undo: no error")
	}
}

// TestStoppedAtEachStep stops a move at each step, as a crash would (the
// mover returns without cleaning up), and checks that the next start ends
// with every file present exactly once.
func TestStoppedAtEachStep(t *testing.T) {
	for _, step := range []Step{BeforeJournal, Journaled, Linked, Removed} {
		t.Run(string(step), func(t *testing.T) {
			root, contents := folder(t)
			journal := filepath.Join(t.TempDir(), "moves")
			m := &Mover{Journal: journal, stop: func(s Step) bool { return s == step }}
			_, err := m.Move(filepath.Join(root, "cats", "b.jpg"), filepath.Join(root, "dogs"))
			if !errors.Is(err, errStopped) {
				t.Fatalf("Move: %v, want stopped at %s", err, step)
			}
			checkRecovery(t, root, journal, contents, step)
		})
	}
}

// checkRecovery runs the next start's recovery and checks the files.
func checkRecovery(t *testing.T, root, journal string, contents map[string]string, step Step) {
	t.Helper()
	rec, err := (&Mover{Journal: journal}).Recover()
	if err != nil {
		t.Fatal(err)
	}
	got := exactlyOnce(t, root, contents)
	where := got["photo of a dog filed as a cat"]
	switch step {
	case BeforeJournal, Journaled:
		if len(where) != 1 || where[0] != "cats/b.jpg" {
			t.Errorf("stopped %s: the photo is at %v, want it rolled back to cats/b.jpg", step, where)
		}
	default:
		if len(where) != 1 || where[0] != "dogs/b.jpg" {
			t.Errorf("stopped %s: the photo is at %v, want the move completed to dogs/b.jpg", step, where)
		}
	}
	if step != BeforeJournal && len(rec) != 1 {
		t.Errorf("stopped %s: %d moves recovered, want 1", step, len(rec))
	}
	if ents, _ := os.ReadDir(journal); len(ents) != 0 {
		t.Errorf("stopped %s: journal holds %d entries after recovery", step, len(ents))
	}
}

// TestKilledAtEachStep kills a process with SIGKILL in the middle of a
// move, at each step, and checks the recovery of the next start.
func TestKilledAtEachStep(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("SIGKILL of itself needs a Unix system; TestStoppedAtEachStep covers the steps here")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []Step{BeforeJournal, Journaled, Linked, Removed} {
		t.Run(string(step), func(t *testing.T) {
			root, contents := folder(t)
			journal := filepath.Join(t.TempDir(), "moves")
			cmd := exec.Command(exe, "-test.run=^TestMoveHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SAFEMOVE_STEP="+string(step), "SAFEMOVE_AT_STEP=kill", "SAFEMOVE_ROOT="+root, "SAFEMOVE_JOURNAL="+journal)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("helper was not killed at %s: %v\n%s", step, err, out)
			}
			checkRecovery(t, root, journal, contents, step)
		})
	}
}

// TestMoveHelper is the second process of TestKilledAtEachStep and
// TestMoveInAnotherProcess: it moves cats/b.jpg into dogs/ and, at the step
// SAFEMOVE_STEP, kills itself (SAFEMOVE_AT_STEP=kill) or says "holding"
// and waits there for a line on stdin (hold).
func TestMoveHelper(t *testing.T) {
	step := os.Getenv("SAFEMOVE_STEP")
	if step == "" {
		t.Skip("run by TestKilledAtEachStep and TestMoveInAnotherProcess")
	}
	root := os.Getenv("SAFEMOVE_ROOT")
	m := &Mover{Journal: os.Getenv("SAFEMOVE_JOURNAL"), stop: func(s Step) bool {
		if s != Step(step) {
			return false
		}
		if os.Getenv("SAFEMOVE_AT_STEP") == "hold" {
			fmt.Println("holding")
			bufio.NewReader(os.Stdin).ReadString('\n')
			return false
		}
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill() // SIGKILL; portable, so that the tests build for Windows
		}
		select {}
	}}
	if _, err := m.Move(filepath.Join(root, "cats", "b.jpg"), filepath.Join(root, "dogs")); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SAFEMOVE_AT_STEP") != "hold" {
		t.Fatal("the move finished without reaching", step)
	}
}

func TestRecoverKeepsDifferentFiles(t *testing.T) {
	root, contents := folder(t)
	journal := filepath.Join(t.TempDir(), "moves")
	m := &Mover{Journal: journal, stop: func(s Step) bool { return s == Journaled }}
	m.Move(filepath.Join(root, "cats", "b.jpg"), filepath.Join(root, "dogs"))
	// Before the next start, someone saves another file under the name
	// the move had chosen: both must stay.
	if err := os.WriteFile(filepath.Join(root, "dogs", "b.jpg"), []byte("another"), 0o644); err != nil {
		t.Fatal(err)
	}
	contents["new"] = "another"
	rec, err := (&Mover{Journal: journal}).Recover()
	if err != nil || len(rec) != 1 || rec[0].Outcome != Separate {
		t.Fatalf("Recover: %+v, %v; want one move kept as two files", rec, err)
	}
	exactlyOnce(t, root, contents)
}

func TestMoveRefusals(t *testing.T) {
	root, contents := folder(t)
	m := &Mover{Journal: filepath.Join(t.TempDir(), "moves")}
	src := filepath.Join(root, "cats", "b.jpg")

	t.Run("missing destination", func(t *testing.T) {
		_, err := m.Move(src, filepath.Join(root, "birds"))
		var me *Error
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("err = %v", err)
		}
		exactlyOnce(t, root, contents)
	})

	t.Run("other file system", func(t *testing.T) {
		other := otherDevice(t, root)
		_, err := m.Move(src, other)
		if err == nil || !strings.Contains(err.Error(), "different drives") {
			t.Errorf("err = %v, want different drives", err)
		}
		exactlyOnce(t, root, contents)
		if ents, _ := os.ReadDir(other); len(ents) != 0 {
			t.Errorf("%d files appeared on the other file system", len(ents))
		}
	})

	t.Run("read-only folder", func(t *testing.T) {
		dst := filepath.Join(root, "dogs")
		readOnly(t, dst)
		_, err := m.Move(src, dst)
		if err == nil || !strings.Contains(err.Error(), "cannot be written") {
			t.Errorf("err = %v, want a read-only folder", err)
		}
		exactlyOnce(t, root, contents)
	})
	if ents, _ := os.ReadDir(m.Journal); len(ents) != 0 {
		t.Errorf("refused moves left %d journal entries", len(ents))
	}
}

// otherDevice returns an empty folder on another file system than dir
// (a tmpfs), or skips the test where there is none.
func otherDevice(t *testing.T, dir string) string {
	t.Helper()
	for _, base := range []string{"/dev/shm", "/run/user/" + strconv.Itoa(os.Getuid()), os.Getenv("SAFEMOVE_OTHER_FS")} {
		if base == "" {
			continue
		}
		d, err := os.MkdirTemp(base, "safemove-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		if same, err := sameDevice(d, dir); err == nil && !same {
			return d
		}
	}
	t.Skip("no second file system here (/dev/shm); set SAFEMOVE_OTHER_FS to a folder on one")
	return ""
}

// readOnly makes dir unwritable: by its permissions, or for root, whom
// permissions do not stop, by the immutable attribute.
func readOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("running as root, and chattr +i %s failed (%v: %s): no way to make a folder read-only here", dir, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
}

// BenchmarkMove moves a photo between two class folders and back: a
// journal entry written and synced, a link, an unlink and two folder
// syncs per move.
func BenchmarkMove(b *testing.B) {
	root := b.TempDir()
	for _, d := range []string{"cats", "dogs"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	src := filepath.Join(root, "cats", "a.jpg")
	if err := os.WriteFile(src, make([]byte, 200<<10), 0o644); err != nil {
		b.Fatal(err)
	}
	m := &Mover{Journal: filepath.Join(b.TempDir(), "moves")}
	dirs := []string{filepath.Join(root, "dogs"), filepath.Join(root, "cats")}
	for i := 0; b.Loop(); i++ {
		mv, err := m.Move(src, dirs[i%2])
		if err != nil {
			b.Fatal(err)
		}
		src = mv.To
	}
}
