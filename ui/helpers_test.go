package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clasifica/clasifica/ui/widgets"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/mltest"
	"github.com/clasifica/clasifica/ml/features"
	"github.com/clasifica/clasifica/ml/head"
)

// home is the app home the tests that run the image model share, so that
// each photo goes through the backbone once in the whole run.
var home struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if home.dir != "" {
		os.RemoveAll(home.dir)
	}
	os.Exit(code)
}

// sharedApp returns an app core over the shared home, with the offline
// backbone installed.
func sharedApp(t *testing.T) *app.App {
	t.Helper()
	backbone := mltest.Backbone(t)
	home.once.Do(func() {
		home.dir, home.err = os.MkdirTemp("", "clasifica-ui-test-")
		if home.err != nil {
			return
		}
		a := app.New(homeDirs(home.dir))
		_, home.err = a.Backbones.Import(context.Background(), backbone)
	})
	if home.err != nil {
		t.Fatal(home.err)
	}
	// Settings of the test's own: the next test starts from the defaults.
	dirs := homeDirs(home.dir)
	dirs.Config = filepath.Join(t.TempDir(), "config")
	return app.New(dirs)
}

// emptyApp returns an app core with nothing installed.
func emptyApp(t *testing.T) *app.App {
	return app.New(homeDirs(t.TempDir()))
}

func homeDirs(dir string) app.Dirs {
	return app.Dirs{Cache: filepath.Join(dir, "cache"), Config: filepath.Join(dir, "config"), Data: filepath.Join(dir, "data")}
}

// picks stands in for the file dialogs: each question takes the next
// answer of its kind; with none left, the question is cancelled.
type picks struct {
	folders, opens, saves []string
	asked                 []string
}

func (p *picks) pickers() pickers {
	next := func(list *[]string, title string, then func(string)) {
		p.asked = append(p.asked, title)
		if len(*list) > 0 {
			answer := (*list)[0]
			*list = (*list)[1:]
			then(answer)
		}
	}
	return pickers{
		folder: func(title, _ string, then func(string)) { next(&p.folders, title, then) },
		open:   func(title string, _ []string, then func(string)) { next(&p.opens, title, then) },
		save:   func(title, _ string, _ []string, then func(string)) { next(&p.saves, title, then) },
	}
}

// testWindow is a window under Fyne's test driver, with fake file dialogs.
type testWindow struct {
	*window
	picks *picks
}

// newTestWindow opens a window over core in the light theme. With engine,
// the ONNX Runtime library is set so that the image model can run. It
// waits for the window's start-up jobs.
func newTestWindow(t *testing.T, core *app.App, engine bool) *testWindow {
	t.Helper()
	fa := test.NewTempApp(t)
	loop.install(fa)
	setSettings(t, core, func(s *app.Settings) {
		s.Appearance = appearanceLight
		if engine {
			s.Runtime = mltest.RuntimeLibrary(t)
			s.Provider = "cpu"
		}
	})
	w := newWindow(fa, core)
	// A stopped clock: how long training took must not change the
	// screens' markup.
	w.train.now = func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	tw := &testWindow{window: w, picks: &picks{}}
	w.pick = tw.picks.pickers()
	w.win.Resize(fyne.NewSize(1280, 800))
	tw.settle()
	t.Cleanup(func() {
		// Closing is the test's click; shutting down waits for the jobs,
		// which may be waiting for the loop.
		loop.hold()
		w.close()
		loop.let()
		w.shutdown()
		loop.idle()
	})
	return tw
}

// setSettings changes the settings file of core, as a window would.
func setSettings(t *testing.T, core *app.App, change func(*app.Settings)) {
	t.Helper()
	if _, err := core.ChangeSettings(change); err != nil {
		t.Fatal(err)
	}
}

// savedSettings reads the settings file of core afresh, as the next start
// would.
func savedSettings(t *testing.T, core *app.App) app.Settings {
	t.Helper()
	s, err := app.New(core.Dirs).LoadSettings(func() app.Settings { t.Error("no settings file"); return app.Settings{} })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// settle waits for the background jobs, the previews they asked for and
// what they handed to fyne.Do, letting the loop run it meanwhile.
func (w *testWindow) settle() {
	loop.let()
	defer loop.hold()
	for range 3 {
		w.jobs.wait()
		w.thumbs.Wait()
		loop.idle()
	}
	// A scan's result starts the photo check through fyne.Do, which may
	// run after the waits above: give it time to start and finish.
	for deadline := time.Now().Add(30 * time.Second); w.data.check.running() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		w.jobs.wait()
		loop.idle()
	}
}

// flowers returns the shared flowers sample folder.
func flowers(t *testing.T) string { return mltest.Photos(t, "flowers") }

// texts returns the text of every label and subtle text under o.
func texts(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *widget.Label:
			out = append(out, v.Text)
		case *widgets.Subtle:
			out = append(out, v.Text())
		case *widget.Button:
			out = append(out, v.Text)
		}
		switch v := o.(type) {
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// contains reports whether some shown text contains s.
func contains(o fyne.CanvasObject, s string) bool {
	for _, t := range texts(o) {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// mustShow fails unless some shown text under o contains each of want.
func mustShow(t *testing.T, o fyne.CanvasObject, want ...string) {
	t.Helper()
	for _, s := range want {
		if !contains(o, s) {
			t.Errorf("no text contains %q; shown: %q", s, texts(o))
		}
	}
}

// button finds a shown button by its text.
func button(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	var found *widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() || found != nil {
			return
		}
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			found = b
			return
		}
		switch v := o.(type) {
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	if found == nil {
		t.Fatalf("no button %q; shown: %q", text, texts(o))
	}
	return found
}

// overlay returns the dialog or pop-up on top of the window.
func (w *testWindow) overlay() fyne.CanvasObject {
	return w.win.Canvas().Overlays().Top()
}

// widgetCell names a cell of a table.
func widgetCell(row, col int) widget.TableCellID { return widget.TableCellID{Row: row, Col: col} }

// tinyHead returns the layers of an untrained linear head for n classes.
func tinyHead(t *testing.T, n int) []head.Dense {
	t.Helper()
	cfg := head.DefaultConfig()
	cfg.Hidden = 0
	h, err := head.New(features.Dim, n, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h.Layers()
}

// errCanceled is what a cancelled job returns.
func errCanceled() error { return context.Canceled }

// assertScreen checks the window against the reviewed markup in
// testdata/name.xml. When a screen changes, the test writes the new markup
// to testdata/failed/; review it (ui/screenshots/run.sh shows the screens
// as people see them) and move it over the old one.
func assertScreen(t *testing.T, w *testWindow, name string) {
	t.Helper()
	w.settle()
	test.AssertRendersToMarkup(t, name+".xml", w.win.Canvas())
}
