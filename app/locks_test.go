package app

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clasifica/clasifica/internal/filelock"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
	"github.com/clasifica/clasifica/ml/decisions"
)

// decideEnv, when set ("data folder|photo folder|photo"), makes the test
// binary a second Clasifica: it leaves the photo out of the folder's
// decisions with ChangeDecisions, saying "inside" on stdout once it holds
// the record's lock and waiting there for a line on stdin (or its kill).
const decideEnv = "CLASIFICA_TEST_DECIDE"

// helperProcess runs the helper when the environment asks for one, and
// reports whether it did.
func helperProcess() bool {
	arg := os.Getenv(decideEnv)
	if arg == "" {
		return false
	}
	f := strings.Split(arg, "|")
	a := New(Dirs{Data: f[0]})
	_, err := a.ChangeDecisions(f[1], func(s *decisions.Store) error {
		fmt.Println("inside")
		bufio.NewReader(os.Stdin).ReadString('\n')
		s.SetLeaveOut(fakePhoto(f[2]), true, time.Now().UTC())
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return true
}

// fakePhoto is a photo of the daisy class named name, its hash made from
// the name: decisions are kept by hash, and these tests need more photos
// than the folder has.
func fakePhoto(name string) decisions.Photo {
	return decisions.Photo{Hash: sha256.Sum256([]byte(name)), Path: "daisy/" + name, Label: "daisy",
		Scheme: decisions.Scheme(dataset.ClassFolders, dataset.Breed)}
}

// decider starts a second Clasifica process leaving photo out of root's
// decisions, and returns once it holds the record's lock; go lets it
// finish.
func decider(t *testing.T, dirs Dirs, root, photo string) (cmd *exec.Cmd, goOn func()) {
	t.Helper()
	cmd, in := mltest.HelperProcess(t, nil, []string{decideEnv + "=" + dirs.Data + "|" + root + "|" + photo}, "inside")
	return cmd, func() { fmt.Fprintln(in) }
}

// leftOut reports whether root's record, read afresh, leaves photo out.
func leftOut(t *testing.T, dirs Dirs, root, photo string) bool {
	t.Helper()
	s, err := New(dirs).LoadDecisions(root)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := s.Get(fakePhoto(photo).Hash)
	return ok && r.LeaveOut
}

// Two Clasificas (two App values: their mutexes apart, only the lock file
// between them) changing one folder's decisions at once, many times each,
// lose none of the changes.
func TestConcurrentDecisionsKeepEveryChange(t *testing.T) {
	dirs := testDirs(t)
	root := smallFolder(t, 1)
	d, err := New(dirs).Scan(context.Background(), root, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const each = 40
	apps := []*App{New(dirs), New(dirs)}
	mltest.AtOnce(t, len(apps), func(i int) error {
		for k := range each {
			fp := fakePhoto(fmt.Sprintf("app%d-%d.jpg", i, k))
			p := DecidedPhoto{Path: filepath.Join(root, filepath.FromSlash(fp.Path)), Hash: fp.Hash, Folder: "daisy", Label: "daisy"}
			var err error
			if i == 0 {
				_, err = apps[i].LeaveOut(d, p, true)
			} else {
				_, _, err = apps[i].Relabel(d, p, "rose")
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	s, err := New(dirs).LoadDecisions(root)
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for i := range apps {
		for k := range each {
			r, ok := s.Get(fakePhoto(fmt.Sprintf("app%d-%d.jpg", i, k)).Hash)
			if !ok || (i == 0 && !r.LeaveOut) || (i == 1 && r.Override[decisions.Scheme(dataset.ClassFolders, dataset.Breed)] != "rose") {
				lost++
			}
		}
	}
	if lost > 0 || s.Len() != len(apps)*each {
		t.Errorf("%d of %d changes lost; the record holds %d photos", lost, len(apps)*each, s.Len())
	}
}

// A change waits while another Clasifica process changes the same
// record, and then both changes are kept; a wait longer than the App's
// limit is an error that names the folder, the lock file and the holder.
func TestDecisionsWaitForAnotherProcess(t *testing.T) {
	dirs := testDirs(t)
	root := smallFolder(t, 1)
	key, _ := folderKey(root)
	file, _ := dirs.DecisionsFile(root)

	cmd, goOn := decider(t, dirs, root, "theirs.jpg")
	impatient := New(dirs)
	impatient.lockWait = 100 * time.Millisecond // the helper holds on until told
	_, err := impatient.ChangeDecisions(root, func(s *decisions.Store) error { return nil })
	if !errors.Is(err, filelock.ErrBusy) || IsCancel(err) {
		t.Fatalf("a change while another process held the record: %v, want busy, not a cancel (which front ends do not show)", err)
	}
	for _, want := range []string{"another Clasifica is changing the decisions for " + key, file + ".lock", fmt.Sprintf("pid %d", cmd.Process.Pid)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	mine := make(chan error, 1)
	go func() {
		_, err := New(dirs).ChangeDecisions(root, func(s *decisions.Store) error {
			s.SetLeaveOut(fakePhoto("mine.jpg"), true, time.Now().UTC())
			return nil
		})
		mine <- err
	}()
	goOn()
	if err := <-mine; err != nil {
		t.Fatalf("the change after the other process finished: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second process: %v", err)
	}
	for _, photo := range []string{"theirs.jpg", "mine.jpg"} {
		if !leftOut(t, dirs, root, photo) {
			t.Errorf("%s's decision was lost", photo)
		}
	}
}

// A Clasifica killed (SIGKILL) while it changes a record leaves the last
// good record and no lock: the next change goes through.
func TestDecisionsAfterKillMidChange(t *testing.T) {
	dirs := testDirs(t)
	root := smallFolder(t, 1)
	a := New(dirs)
	if _, err := a.ChangeDecisions(root, func(s *decisions.Store) error {
		s.SetLeaveOut(fakePhoto("before.jpg"), true, time.Now().UTC())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cmd, _ := decider(t, dirs, root, "killed.jpg")
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := a.ChangeDecisions(root, func(s *decisions.Store) error {
		s.SetLeaveOut(fakePhoto("after.jpg"), true, time.Now().UTC())
		return nil
	}); err != nil {
		t.Fatalf("a change after the holder was killed: %v", err)
	}
	for photo, want := range map[string]bool{"before.jpg": true, "killed.jpg": false, "after.jpg": true} {
		if got := leftOut(t, dirs, root, photo); got != want {
			t.Errorf("%s left out: %v, want %v", photo, got, want)
		}
	}
}

// A download another Clasifica is making is refused at once, naming it,
// without a request or a touch to the partial file.
func TestDownloadRefusedWhileAnotherDownloads(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte("weights"))
	}))
	defer srv.Close()
	downloads := t.TempDir()
	url := srv.URL + "/weights.h5"
	part := filepath.Join(downloads, "weights.h5.part")
	if err := os.WriteFile(part, []byte("wei"), 0o644); err != nil {
		t.Fatal(err)
	}
	other, err := filelock.TryLock(part + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Unlock()
	store := &Backbones{Dir: filepath.Join(t.TempDir(), "backbones")}
	_, err = store.download(context.Background(), url, strings.Repeat("0", 32), downloads, srv.Client(), nil)
	if !errors.Is(err, filelock.ErrBusy) || !strings.Contains(err.Error(), "another Clasifica is downloading") || !strings.Contains(err.Error(), part+".lock") {
		t.Fatalf("download while another process downloads: %v; want it refused, naming the lock", err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests made", n)
	}
	if b, _ := os.ReadFile(part); string(b) != "wei" {
		t.Errorf("the partial file holds %q, want it untouched", b)
	}
}

// Two Clasificas (two App values) adding photos of one name to one folder
// at once: every photo is copied under a name of its own, and every copy
// is recorded as a training photo.
func TestConcurrentCorrections(t *testing.T) {
	dirs := testDirs(t)
	root := smallFolder(t, 2)
	sunflowers, _ := filepath.Glob(filepath.Join(mltest.Photos(t, "flowers", "sunflower"), "*.jpg"))
	const each = 3
	apps := []*App{New(dirs), New(dirs)}
	added := make([][]string, len(apps))
	srcs := make([]string, len(apps)*each)
	for i := range srcs {
		srcs[i] = filepath.Join(t.TempDir(), "photo.jpg") // one name for all
		data, err := os.ReadFile(sunflowers[i])
		if err == nil {
			err = os.WriteFile(srcs[i], data, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	mltest.AtOnce(t, len(apps), func(i int) error {
		for k := range each {
			c, err := apps[i].AddCorrection(root, srcs[i*each+k], "daisy")
			if err != nil {
				return err
			}
			added[i] = append(added[i], c.To)
		}
		return nil
	})
	names := map[string]bool{}
	for _, to := range slices.Concat(added...) {
		names[to] = true
	}
	if len(names) != len(apps)*each {
		t.Fatalf("copies %v: want %d under names of their own", added, len(apps)*each)
	}
	d, err := New(dirs).Scan(context.Background(), root, dataset.Options{Validation: 0.5, Test: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range d.Items {
		if names[it.Path] {
			delete(names, it.Path)
			if it.Split != dataset.Train {
				t.Errorf("%s is a %v photo, want training: its record was lost", it.Path, it.Split)
			}
		}
	}
	if len(names) > 0 {
		t.Errorf("copies not found by the scan: %v", names)
	}
}

// Two Clasificas importing the same backbone at once: one installs it,
// the other waits and finds it installed; the store holds it once, with
// nothing half made beside it.
func TestConcurrentImports(t *testing.T) {
	src := filepath.Join(mltest.BackboneH5(t), "weights.h5")
	dir := filepath.Join(t.TempDir(), "backbones")
	stores := []*Backbones{{Dir: dir}, {Dir: dir}}
	got := make([]Installed, len(stores))
	mltest.AtOnce(t, len(stores), func(i int) (err error) {
		got[i], err = stores[i].Import(context.Background(), src)
		return err
	})
	if got[0].SHA256 != got[1].SHA256 || got[0].Dir != got[1].Dir {
		t.Errorf("imports gave %s in %s and %s in %s, want one backbone", got[0].ID, got[0].Dir, got[1].ID, got[1].Dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != got[0].ID {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("the store holds %v, want only %s", names, got[0].ID)
	}
}
