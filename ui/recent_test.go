package ui

import (
	"os"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/clasifica/clasifica/app"
)

// What another window of Clasifica adds to the recent folders and models
// (through the settings file they share) is kept when this window adds its
// own or saves a change of settings.
func TestRecentListsKeepOtherWindows(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	other := app.New(w.core.Dirs)
	w.rememberFolder("/photos/mine-1")
	for _, add := range []func() (app.Settings, error){
		func() (app.Settings, error) { return other.AddRecentFolder("/photos/theirs") },
		func() (app.Settings, error) { return other.AddRecentModel("/models/theirs.clasifica") },
	} {
		if _, err := add(); err != nil {
			t.Fatal(err)
		}
	}

	w.rememberFolder("/photos/mine-2")
	w.rememberModel("/models/mine.clasifica")
	s := w.settings
	s.Threads = 2
	w.setSettings(s)
	w.settle()

	saved := savedSettings(t, w.core)
	for _, tc := range []struct {
		what             string
		want, file, mine []string
	}{
		{"recent folders", []string{"/photos/mine-2", "/photos/theirs", "/photos/mine-1"}, saved.RecentFolders, w.settings.RecentFolders},
		{"recent models", []string{"/models/mine.clasifica", "/models/theirs.clasifica"}, saved.RecentModels, w.settings.RecentModels},
	} {
		if !slices.Equal(tc.file, tc.want) {
			t.Errorf("%s in the settings file: %q, want %q", tc.what, tc.file, tc.want)
		}
		if !slices.Equal(tc.mine, tc.want) {
			t.Errorf("%s in the window: %q, want %q", tc.what, tc.mine, tc.want)
		}
	}
	if saved.Threads != 2 {
		t.Errorf("threads saved as %d, want 2", saved.Threads)
	}
}

// The first start with the settings file takes the settings from Fyne's
// preferences, where earlier versions kept them, and writes the file; a
// change then goes to the file only.
func TestSettingsMigrateFromPreferences(t *testing.T) {
	core := emptyApp(t)
	fa := test.NewTempApp(t)
	loop.install(fa)
	p := fa.Preferences()
	p.SetString(prefAppearance, appearanceDark)
	p.SetString(prefProvider, "cpu")
	p.SetInt(prefThreads, 4)
	p.SetString(prefPrecision, "float")
	p.SetStringList(prefRecentFolders, []string{"/photos/old"})
	w := newWindow(fa, core)
	t.Cleanup(func() { loop.hold(); w.close(); loop.let(); w.shutdown(); loop.idle() })
	if w.settings.Appearance != appearanceDark || w.settings.Provider != "cpu" || w.settings.Threads != 4 ||
		!slices.Equal(w.settings.RecentFolders, []string{"/photos/old"}) {
		t.Errorf("window's settings %+v", w.settings)
	}
	if s := savedSettings(t, core); s.Threads != 4 || s.Precision != "float" || s.Appearance != appearanceDark {
		t.Errorf("settings file %+v", s)
	}
	s := w.settings
	s.Threads = 8
	s.Appearance = appearanceLight
	w.setSettings(s)
	if p.Int(prefThreads) != 4 || p.String(prefAppearance) != appearanceDark {
		t.Errorf("Fyne's preferences changed: threads %d, appearance %q", p.Int(prefThreads), p.String(prefAppearance))
	}
	if s := savedSettings(t, core); s.Threads != 8 || s.Appearance != appearanceLight {
		t.Errorf("settings file after a change %+v", s)
	}
}

// A damaged settings file is set aside and named in an error the window
// shows; the window opens with the defaults.
func TestSettingsDamagedShown(t *testing.T) {
	core := emptyApp(t)
	file := core.Dirs.SettingsFile()
	if err := os.MkdirAll(core.Dirs.Config, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(`{"version": 1, "threads": 4, "prov`), 0o644); err != nil {
		t.Fatal(err)
	}
	fa := test.NewTempApp(t)
	loop.install(fa)
	w := newWindow(fa, core)
	t.Cleanup(func() { loop.hold(); w.close(); loop.let(); w.shutdown(); loop.idle() })
	if !strings.Contains(w.lastError, file) || !strings.Contains(w.lastError, ".damaged-") {
		t.Errorf("error shown: %q", w.lastError)
	}
	if w.settings.Threads != 0 {
		t.Errorf("threads %d, want the default", w.settings.Threads)
	}
}
