package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/clasifica/clasifica/internal/mltest"
)

func settingsApp(t *testing.T) *App {
	return New(Dirs{Config: filepath.Join(t.TempDir(), "config")})
}

func TestSettingsRoundTrip(t *testing.T) {
	a := settingsApp(t)
	want := Settings{Backbone: "imagenet", Runtime: "/opt/ort/libonnxruntime.so.1", Provider: "cuda", Threads: 4,
		LowPower: true, Precision: "int8", Appearance: "dark", RecentFolders: []string{"/p/a", "/p/b"}, RecentModels: []string{"/m.clasifica"}}
	if _, err := a.ChangeSettings(func(s *Settings) { *s = want }); err != nil {
		t.Fatal(err)
	}
	// A new App, as the next start: it reads the file.
	got, err := New(a.Dirs).LoadSettings(func() Settings { t.Error("migrated although the file exists"); return Settings{} })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read back %+v, want %+v", got, want)
	}
	data, err := os.ReadFile(a.Dirs.SettingsFile())
	if err != nil || !strings.Contains(string(data), `"version": 1`) {
		t.Errorf("file %s: %v\n%s", a.Dirs.SettingsFile(), err, data)
	}
}

// The settings kept before the file existed (Fyne's preferences) are
// taken once: the file is written with them, and later starts read it.
func TestSettingsMigrate(t *testing.T) {
	a := settingsApp(t)
	old := Settings{Runtime: "/lib/ort.so", Provider: "cpu", Threads: 2, Appearance: "light", RecentFolders: []string{"/photos"}}
	calls := 0
	migrate := func() Settings { calls++; return old }
	for i := range 2 {
		s, err := New(a.Dirs).LoadSettings(migrate)
		if err != nil {
			t.Fatal(err)
		}
		if s.Runtime != old.Runtime || s.Provider != "cpu" || s.Threads != 2 || s.Appearance != "light" ||
			!slices.Equal(s.RecentFolders, old.RecentFolders) || s.Precision != string(PrecisionAuto) {
			t.Errorf("start %d: %+v", i, s)
		}
	}
	if calls != 1 {
		t.Errorf("old settings read %d times, want once", calls)
	}
	if _, err := os.Stat(a.Dirs.SettingsFile()); err != nil {
		t.Error(err)
	}
}

// A file this build cannot read is set aside, with an error that names
// it and where it went; the app goes on with the defaults, once.
func TestSettingsSetAside(t *testing.T) {
	for _, tc := range []struct {
		name, content, kept, says string
	}{
		{"torn", `{"version": 1, "provider": "cu`, ".damaged-", "damaged"},
		{"not JSON", "\x00\x00\x00", ".damaged-", "damaged"},
		{"no version", `{"provider": "cpu"}`, ".damaged-", "no format version"},
		{"later version", `{"version": 2, "provider": "cpu"}`, ".v2-", "later Clasifica"},
		{"later version, other types", `{"version": 3, "threads": "many"}`, ".v3-", "later Clasifica"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := settingsApp(t)
			file := a.Dirs.SettingsFile()
			os.MkdirAll(filepath.Dir(file), 0o755)
			if err := os.WriteFile(file, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := a.LoadSettings(func() Settings { t.Error("migrated over a damaged file"); return Settings{} })
			var se *SettingsError
			if !errors.As(err, &se) || se.File != file || !strings.Contains(se.Kept, filepath.Base(file)+tc.kept) ||
				!strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), se.Kept) {
				t.Fatalf("error %v", err)
			}
			if s.Provider != "auto" || s.Threads != 0 {
				t.Errorf("settings %+v, want the defaults", s)
			}
			if kept, err := os.ReadFile(se.Kept); err != nil || string(kept) != tc.content {
				t.Errorf("kept %q, %v; want the file's content", kept, err)
			}
			// Once: the next start reads the defaults written in its place.
			if _, err := New(a.Dirs).LoadSettings(nil); err != nil {
				t.Errorf("next start: %v", err)
			}
		})
	}
}

// A file that cannot be read for another reason is never overwritten.
func TestSettingsUnreadableNotOverwritten(t *testing.T) {
	a := settingsApp(t)
	file := a.Dirs.SettingsFile()
	if err := os.MkdirAll(filepath.Join(file, "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ChangeSettings(func(s *Settings) { s.Threads = 3 }); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("change over a folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(file, "in-the-way")); err != nil {
		t.Error(err)
	}
}

// Two App values (two windows, or two processes) adding recent folders and
// models at once keep every one.
func TestSettingsRecentFromTwoApps(t *testing.T) {
	dirs := settingsApp(t).Dirs
	apps := []*App{New(dirs), New(dirs)}
	var wg sync.WaitGroup
	for i, a := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 3 {
				if _, err := a.AddRecentFolder(fmt.Sprintf("/photos/%d-%d", i, j)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if _, err := apps[0].SaveChoices(Settings{Threads: 2}); err != nil {
		t.Fatal(err)
	}
	s, err := New(dirs).LoadSettings(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.RecentFolders) != 6 || s.Threads != 2 {
		t.Errorf("recent folders %q, threads %d; want all six, 2", s.RecentFolders, s.Threads)
	}
}

// settingsWriterEnv, when set to a config folder, makes the test binary
// write the settings over and over (each time a longer recent list), saying
// "writing" once it has begun, until it is killed.
const settingsWriterEnv = "CLASIFICA_TEST_SETTINGS_WRITER"

// settingsWriter runs that helper when the environment asks for one.
func settingsWriter() bool {
	dir := os.Getenv(settingsWriterEnv)
	if dir == "" {
		return false
	}
	a := New(Dirs{Config: dir})
	for i := 0; ; i++ {
		if _, err := a.AddRecentFolder(strings.Repeat("/photos/"+strconv.Itoa(i), 200)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if i == 0 {
			fmt.Println("writing")
		}
	}
}

// A process killed (SIGKILL) while it saves leaves the last good file: each
// kill lands somewhere in the write loop, and the file read afterwards is
// always whole, and changeable by the next process.
func TestSettingsSurviveKill(t *testing.T) {
	dirs := settingsApp(t).Dirs
	for i := range 5 {
		cmd, _ := mltest.HelperProcess(t, nil, []string{settingsWriterEnv + "=" + dirs.Config}, "writing")
		for range i * 3 { // a different point of the loop each time
			if _, err := os.ReadFile(dirs.SettingsFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		s, err := New(dirs).LoadSettings(func() Settings { t.Error("file missing after a kill"); return Settings{} })
		if err != nil || len(s.RecentFolders) == 0 {
			t.Fatalf("kill %d: %v, %d recent folders", i, err, len(s.RecentFolders))
		}
		if _, err := New(dirs).AddRecentModel("/m.clasifica"); err != nil {
			t.Fatalf("after kill %d: %v", i, err)
		}
	}
	// Neither set aside nor a killed save's temporary file is left.
	for _, pattern := range []string{"*.damaged-*", ".*.tmp-*"} {
		if left, _ := filepath.Glob(filepath.Join(dirs.Config, pattern)); len(left) > 0 {
			t.Errorf("left after kills: %q", left)
		}
	}
}
