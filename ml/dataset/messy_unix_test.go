//go:build unix

package dataset

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

func TestLinks(t *testing.T) {
	root := t.TempDir()
	_, flowers := sampleClasses(t, "flowers")
	jpeg := onePhoto(t)
	writeFile(t, filepath.Join(root, "cats", "a.jpg"), jpeg)
	writeFile(t, filepath.Join(root, "cats", "sub", "b.jpg"), variant(jpeg, "b"))
	writeFile(t, filepath.Join(root, "dogs", "a.jpg"), variant(jpeg, "c"))

	roses := filepath.Dir(flowers["rose"][0])
	symlink(t, "..", filepath.Join(root, "cats", "up-to-root"))            // folder loop to the chosen folder
	symlink(t, "..", filepath.Join(root, "cats", "sub", "up-to-class"))    // folder loop to the class
	symlink(t, "self.jpg", filepath.Join(root, "cats", "self.jpg"))        // file link to itself
	symlink(t, "ping.jpg", filepath.Join(root, "cats", "pong.jpg"))        // two links to each other
	symlink(t, "pong.jpg", filepath.Join(root, "cats", "ping.jpg"))        //
	symlink(t, "nowhere.jpg", filepath.Join(root, "dogs", "gone.jpg"))     // dangling
	symlink(t, flowers["daisy"][0], filepath.Join(root, "dogs", "l.jpg"))  // file outside the tree
	symlink(t, roses, filepath.Join(root, "dogs", "roses"))                // folder outside the tree
	symlink(t, roses, filepath.Join(root, "dogs", "roses-again"))          // the same folder twice
	symlink(t, filepath.Join(root, "dogs"), filepath.Join(root, "hounds")) // a class that is a link
	if err := syscall.Mkfifo(filepath.Join(root, "dogs", "pipe.jpg"), 0o644); err != nil {
		t.Fatal(err)
	}

	d := mustScan(t, root, Options{})
	problems := problemMap(d)
	for rel, want := range map[string]Reason{
		"cats/up-to-root":      ReasonLinkLoop,
		"cats/sub/up-to-class": ReasonLinkLoop,
		"cats/self.jpg":        ReasonLinkLoop,
		"cats/ping.jpg":        ReasonLinkLoop,
		"cats/pong.jpg":        ReasonLinkLoop,
		"dogs/gone.jpg":        ReasonBrokenLink,
		"dogs/roses-again":     ReasonFolderSeen,
		"dogs/pipe.jpg":        ReasonNotRegular,
		"hounds/roses-again":   ReasonFolderSeen,
		"hounds/gone.jpg":      ReasonBrokenLink,
		"hounds/pipe.jpg":      ReasonNotRegular,
	} {
		if p := problems[filepath.Join(root, rel)]; p.Reason != want {
			t.Errorf("%s: problem %v, want %s", rel, p, want)
		}
	}
	if len(d.Problems) != 11 {
		t.Errorf("%d problems, want 11:\n%s", len(d.Problems), problemList(d))
	}
	c := d.Counts()
	// cats: a, sub/b. dogs and hounds: a, l.jpg and the 30 roses.
	if want := []int{2, 32, 32}; len(c) != 3 || c[0].Total() != want[0] || c[1].Total() != want[1] || c[2].Total() != want[2] {
		t.Errorf("classes %q counts %v, want %v", d.Classes, c, want)
	}
	// hounds is dogs under another name: every photo is in two classes.
	if ws := warningsOf(d.Summary(), WarnSamePhotoInTwoClasses); len(ws) != maxGroupWarnings+1 {
		t.Errorf("%d warnings about photos in two classes, want %d", len(ws), maxGroupWarnings+1)
	}
}

// TestUnreadable makes a file and a folder unreadable. Tests run as root
// here and in CI, and root reads them anyway: the test finds out which
// applies and checks the matching outcome, so it tests something either
// way (TestOpenErrors covers the refusal whatever the user).
func TestUnreadable(t *testing.T) {
	root := t.TempDir()
	jpeg := onePhoto(t)
	writeFile(t, filepath.Join(root, "a", "ok.jpg"), jpeg)
	writeFile(t, filepath.Join(root, "b", "ok.jpg"), variant(jpeg, "b"))
	locked := filepath.Join(root, "a", "locked.jpg")
	writeFile(t, locked, variant(jpeg, "c"))
	lockedDir := filepath.Join(root, "b", "private")
	writeFile(t, filepath.Join(lockedDir, "x.jpg"), variant(jpeg, "d"))
	for _, p := range []string{locked, lockedDir} {
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Chmod(lockedDir, 0o755) }) // so TempDir can remove it

	privileged := false
	if f, err := os.Open(locked); err == nil {
		f.Close()
		privileged = true
	}
	t.Logf("privileged = %v (uid %d)", privileged, os.Getuid())

	d := mustScan(t, root, Options{})
	problems := problemMap(d)
	items := itemMap(d)
	for _, p := range []string{locked, lockedDir} {
		if privileged {
			if _, ok := problems[p]; ok {
				t.Errorf("%s: readable by this user, but reported: %v", p, problems[p])
			}
		} else if problems[p].Reason != ReasonPermission {
			t.Errorf("%s: problem %v, want %s", p, problems[p], ReasonPermission)
		}
	}
	for _, p := range []string{locked, filepath.Join(lockedDir, "x.jpg")} {
		if _, ok := items[p]; ok != privileged {
			t.Errorf("%s: item = %v, want %v", p, ok, privileged)
		}
	}

	// The chosen folder itself: an error naming it, not "it is empty".
	if err := os.Chmod(root, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(root, 0o755)
	_, err := Scan(context.Background(), root, Options{})
	if privileged {
		if err != nil {
			t.Errorf("Scan of an unreadable folder as a privileged user: %v", err)
		}
	} else if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), root) {
		t.Errorf("Scan of an unreadable folder = %v, want a permission error naming it", err)
	}
}

// TestNonUTF8Names uses names that are not valid UTF-8, which Linux allows
// and which arrive with photos copied from old cameras and zip files.
func TestNonUTF8Names(t *testing.T) {
	if runtime.GOOS != "linux" {
		// macOS and Windows file systems refuse such names; there is
		// nothing to scan.
		t.Skip("only Linux file systems store names that are not UTF-8")
	}
	root := t.TempDir()
	jpeg := onePhoto(t)
	bad := filepath.Join(root, "cats", "\xff\xfe.jpg")
	writeFile(t, bad, jpeg)
	writeFile(t, filepath.Join(root, "dogs", "ok.jpg"), variant(jpeg, "d"))
	badClass := filepath.Join(root, "caf\xe9")
	writeFile(t, filepath.Join(badClass, "x.jpg"), variant(jpeg, "x"))

	d := mustScan(t, root, Options{})
	if it, ok := itemMap(d)[bad]; !ok || d.Classes[it.Label] != "cats" {
		t.Errorf("photo with a non-UTF-8 name not kept with its exact path; items %v", d.Items)
	}
	if p := problemMap(d)[badClass]; p.Reason != ReasonBadName {
		t.Errorf("non-UTF-8 class folder: problem %v, want %s", p, ReasonBadName)
	}
	if strings.Join(d.Classes, ",") != "cats,dogs" {
		t.Errorf("classes %q", d.Classes)
	}
}
