package ui

import (
	"slices"
	"testing"

	"github.com/clasifica/clasifica/app"
)

// What another window of Clasifica adds to the recent folders and models
// (Fyne reloads the shared preferences when it writes them) is kept when
// this window adds its own or saves a change of settings.
func TestRecentListsKeepOtherWindows(t *testing.T) {
	w := newTestWindow(t, emptyApp(t), false)
	p := w.fa.Preferences()
	w.rememberFolder("/photos/mine-1")
	// The other window's additions, as Fyne's reload brings them.
	p.SetStringList(prefRecentFolders, app.AddRecent(p.StringList(prefRecentFolders), "/photos/theirs"))
	p.SetStringList(prefRecentModels, app.AddRecent(p.StringList(prefRecentModels), "/models/theirs.clasifica"))

	w.rememberFolder("/photos/mine-2")
	w.rememberModel("/models/mine.clasifica")
	s := w.settings
	s.Threads = 2
	w.setSettings(s, w.appearance)
	w.settle()

	for _, tc := range []struct {
		key        string
		want, mine []string
	}{
		{prefRecentFolders, []string{"/photos/mine-2", "/photos/theirs", "/photos/mine-1"}, w.settings.RecentFolders},
		{prefRecentModels, []string{"/models/mine.clasifica", "/models/theirs.clasifica"}, w.settings.RecentModels},
	} {
		if got := p.StringList(tc.key); !slices.Equal(got, tc.want) {
			t.Errorf("%s in the preferences: %q, want %q", tc.key, got, tc.want)
		}
		if !slices.Equal(tc.mine, tc.want) {
			t.Errorf("%s in the window: %q, want %q", tc.key, tc.mine, tc.want)
		}
	}
	if p.Int(prefThreads) != 2 {
		t.Errorf("threads saved as %d, want 2", p.Int(prefThreads))
	}
}
