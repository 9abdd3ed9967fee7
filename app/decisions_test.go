package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/dataset"
)

// smallFolder copies the first photos of three flower classes into a new
// folder.
func smallFolder(t *testing.T, perClass int) string {
	t.Helper()
	root := t.TempDir()
	for _, class := range []string{"daisy", "rose", "tulip"} {
		src := mltest.Photos(t, "flowers", class)
		ents, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, class), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range ents[:perClass] {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, class, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func testDirs(t *testing.T) Dirs {
	home := t.TempDir()
	return Dirs{Cache: filepath.Join(home, "cache"), Config: filepath.Join(home, "config"), Data: filepath.Join(home, "data")}
}

func TestDecisionsSurviveRenameAndUndo(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 4)
	ctx := context.Background()
	d, err := a.Scan(ctx, root, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	daisy := filepath.Join(root, "daisy")
	ents, _ := os.ReadDir(daisy)
	first, second := filepath.Join(daisy, ents[0].Name()), filepath.Join(daisy, ents[1].Name())

	p, err := FindPhoto(d, first)
	if err != nil {
		t.Fatal(err)
	}
	isNew, file, err := a.Relabel(d, p, "rose")
	if err != nil || isNew {
		t.Fatalf("Relabel to rose: new %v, err %v", isNew, err)
	}
	if !strings.HasPrefix(file, a.Dirs.Data) || strings.HasPrefix(file, root) || strings.HasPrefix(file, a.Dirs.Cache) {
		t.Errorf("decisions kept in %s: want under the data folder %s, never in the photos or the cache", file, a.Dirs.Data)
	}
	p2, _ := FindPhoto(d, second)
	if _, err := a.LeaveOut(d, p2, true); err != nil {
		t.Fatal(err)
	}
	if isNew, _, err = a.Relabel(d, p2, "weed"); err != nil || !isNew {
		t.Fatalf("Relabel to weed: new %v, err %v; want a new class", isNew, err)
	}

	// Rename the relabelled photo and move it to tulip/: the decision
	// follows its content.
	moved := filepath.Join(root, "tulip", "renamed.jpg")
	if err := os.Rename(first, moved); err != nil {
		t.Fatal(err)
	}
	d, err = a.Scan(ctx, root, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, it := range d.Items {
		counts[d.Classes[it.Label]]++
	}
	if counts["daisy"] != 2 || counts["rose"] != 5 || counts["tulip"] != 4 || counts["weed"] != 0 {
		t.Errorf("photos per class %v, want daisy 2 (one left out), rose 5, tulip 4 and no weed (left out wins)", counts)
	}
	if c := d.Summary().Decisions; c.Total != 2 || c.Relabelled != 1 || c.LeftOut != 1 {
		t.Errorf("decisions in effect %+v, want 2: 1 relabelled, 1 left out", c)
	}
	_, views, err := a.Decisions(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 2 {
		t.Fatalf("%d decisions listed, want 2: %+v", len(views), views)
	}
	for _, v := range views {
		switch {
		case v.Path == moved:
			if v.Label != "tulip" || v.Override == nil || *v.Override != "rose" || !v.Present {
				t.Errorf("renamed photo's decision %+v: want folder tulip, override rose", v)
			}
		case v.Path == second:
			if !v.LeaveOut || v.Override == nil || *v.Override != "weed" {
				t.Errorf("left-out photo's decision %+v", v)
			}
		default:
			t.Errorf("unexpected decision %+v", v)
		}
	}

	// Undo both.
	for _, path := range []string{moved, second} {
		p, err := FindPhoto(d, path)
		if err != nil {
			t.Fatal(err)
		}
		if had, _, err := a.Forget(root, p.Hash); err != nil || !had {
			t.Fatalf("Forget %s: had %v, err %v", path, had, err)
		}
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("with no decisions left, the record %s still exists (%v)", file, err)
	}
	d, _ = a.Scan(ctx, root, dataset.Options{})
	if len(d.Items) != 12 || len(d.Decided) != 0 {
		t.Errorf("after forgetting: %d photos, %d decisions; want 12 and 0", len(d.Items), len(d.Decided))
	}
}

func TestDamagedDecisionsAreKeptAside(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 2)
	file, err := a.Dirs.DecisionsFile(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, content, kept string }{
		{"damaged", `{"version":1,"photos":[{"sha256":`, ".damaged-"},
		{"later version", `{"version":7,"root":"/x","photos":[]}`, ".v7-"},
	} {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := a.Scan(context.Background(), root, dataset.Options{})
		var de *DecisionsError
		if !errors.As(err, &de) || de.Kept == "" || !strings.Contains(de.Kept, tc.kept) {
			t.Fatalf("%s: err = %v, want a DecisionsError with the file kept as *%s*", tc.name, err, tc.kept)
		}
		b, rerr := os.ReadFile(de.Kept)
		if rerr != nil || string(b) != tc.content {
			t.Errorf("%s: the kept file %s holds %q (%v), want the original", tc.name, de.Kept, b, rerr)
		}
		if !strings.Contains(err.Error(), file) {
			t.Errorf("%s: the error does not name the file: %v", tc.name, err)
		}
		// The next scan starts a new record.
		if _, err := a.Scan(context.Background(), root, dataset.Options{}); err != nil {
			t.Errorf("%s: the scan after the file was set aside: %v", tc.name, err)
		}
		os.Remove(de.Kept)
	}
}

func TestDataDir(t *testing.T) {
	home := func() (string, error) { return "/home/ana", nil }
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"linux", map[string]string{"XDG_DATA_HOME": "/data"}, "/data/clasifica"},
		{"linux", map[string]string{"XDG_DATA_HOME": "relative"}, "/home/ana/.local/share/clasifica"},
		{"linux", nil, "/home/ana/.local/share/clasifica"},
		{"darwin", nil, "/home/ana/Library/Application Support/clasifica/data"},
		{"windows", map[string]string{"APPDATA": `C:\Users\ana\AppData\Roaming`}, filepath.Join(`C:\Users\ana\AppData\Roaming`, "clasifica", "data")},
	}
	for _, tc := range tests {
		got, err := userDataDir(tc.goos, env(tc.env), home)
		if err != nil || got != filepath.FromSlash(tc.want) && got != tc.want {
			t.Errorf("%s %v: %q, %v; want %q", tc.goos, tc.env, got, err, tc.want)
		}
	}
	if _, err := userDataDir("windows", env(nil), home); err == nil {
		t.Error("windows without APPDATA: no error")
	}
	t.Setenv("CLASIFICA_HOME", "/portable")
	d, err := DefaultDirs()
	if err != nil || d.Data != filepath.Join("/portable", "data") {
		t.Errorf("CLASIFICA_HOME: data folder %q (%v), want /portable/data", d.Data, err)
	}
}

func TestMovePhotoAndUndo(t *testing.T) {
	a := New(testDirs(t))
	root := smallFolder(t, 3)
	ctx := context.Background()
	d, err := a.Scan(ctx, root, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var daisy []string
	for _, it := range d.Items {
		if d.Classes[it.Label] == "daisy" {
			daisy = append(daisy, it.Path)
		}
	}
	p, _ := FindPhoto(d, daisy[0])
	mv, err := a.MovePhoto(d, p, "rose")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(mv.To) != filepath.Join(root, "rose") {
		t.Errorf("moved to %s, want into rose/", mv.To)
	}
	p2, _ := FindPhoto(d, daisy[1])
	mv2, err := a.MovePhoto(d, p2, "new kind")
	if err != nil {
		t.Fatal(err)
	}
	d, _ = a.Scan(ctx, root, dataset.Options{})
	counts := map[string]int{}
	for _, it := range d.Items {
		counts[d.Classes[it.Label]]++
	}
	if counts["daisy"] != 1 || counts["rose"] != 4 || counts["new kind"] != 1 {
		t.Errorf("after the moves: %v", counts)
	}
	for range 2 {
		if _, _, err := a.Mover().Undo(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{daisy[0], daisy[1]} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("after undo: %v", err)
		}
	}
	for _, p := range []string{mv.To, mv2.To} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after undo %s still exists (%v)", p, err)
		}
	}
	if rec, err := a.RecoverMoves(); err != nil || len(rec) != 0 {
		t.Errorf("RecoverMoves after clean moves: %v, %v", rec, err)
	}
}

// TestMoveStaysInItsSplit moves a photo of a train/–test/ layout into
// another class: it stays in its split folder.
func TestMoveStaysInItsSplit(t *testing.T) {
	a := New(testDirs(t))
	root := t.TempDir()
	src := smallFolder(t, 2)
	for _, split := range []string{"train", "test"} {
		for _, class := range []string{"daisy", "rose"} {
			ents, _ := os.ReadDir(filepath.Join(src, class))
			for _, e := range ents {
				b, _ := os.ReadFile(filepath.Join(src, class, e.Name()))
				dst := filepath.Join(root, split, class, split+"-"+e.Name())
				os.MkdirAll(filepath.Dir(dst), 0o755)
				if err := os.WriteFile(dst, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	d, err := a.Scan(context.Background(), root, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var testDaisy string
	for _, it := range d.Items {
		if it.Split == dataset.Test && d.Classes[it.Label] == "daisy" {
			testDaisy = it.Path
		}
	}
	p, _ := FindPhoto(d, testDaisy)
	mv, err := a.MovePhoto(d, p, "rose")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "test", "rose"); filepath.Dir(mv.To) != want {
		t.Errorf("moved to %s, want into %s", mv.To, want)
	}
}
