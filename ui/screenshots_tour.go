//go:build screenshots

// The screenshot tour is built only with -tags screenshots (by
// tools/screenshots), so it stays out of the shipped program.

package ui

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ui/widgets"
)

// ScreenshotOptions configure Screenshots.
type ScreenshotOptions struct {
	// Data is the photo folder to train on, Classify the photos to sort
	// on the Classify screen, and Out the folder the pictures go to.
	Data, Classify, Out string
	// Problems, if set, is a folder with things to fix (tiny classes,
	// unbalanced ones), shown first on the Data screen.
	Problems string
	// Check, if set, is a folder with planted labelling problems (photos
	// in the wrong folder, near-copies): the label check runs on it and
	// its findings are pictured as data-check.
	Check string
	// Size is the window's size.
	Size fyne.Size
	// Capture, if set, saves a picture of the window as the PNG file
	// path (with a screen grabber, say); by default the window's canvas
	// is captured.
	Capture func(path string) error
}

// Screenshots opens the real window, goes through the steps on real
// photos as a person would (choose the folder, train, look at the
// results, sort photos), and saves a picture of each screen, in the light
// and the dark theme, into opt.Out. The documentation's pictures come from
// it: ui/screenshots/run.sh runs it under Xvfb. Like Run, it must be
// called on the main goroutine.
func Screenshots(a *app.App, opt ScreenshotOptions) error {
	fa := fyneapp.NewWithID(AppID + ".screenshots")
	// Settings of its own, in a folder of its own: the tour's choices
	// must not become the person's. The light theme first; the window's
	// widgets take their colours when they are made.
	config, err := os.MkdirTemp("", "clasifica-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(config)
	dirs := a.Dirs
	dirs.Config = config
	a = app.New(dirs)
	if _, err := a.ChangeSettings(func(s *app.Settings) { s.Appearance = appearanceLight }); err != nil {
		return err
	}
	w := newWindow(fa, a)
	if opt.Size.IsZero() {
		opt.Size = fyne.NewSize(1280, 720)
	}
	w.win.Resize(opt.Size)
	w.win.SetFixedSize(true)
	var failed error
	go func() {
		failed = (&tour{w: w, opt: opt}).run()
		fyne.Do(w.close)
	}()
	w.win.ShowAndRun()
	w.shutdown()
	return failed
}

// tour walks the window through its screens from a goroutine of its own.
type tour struct {
	w   *window
	opt ScreenshotOptions
	// first is how long the first training took.
	first clock
}

func (t *tour) run() error {
	w := t.w
	if err := os.MkdirAll(t.opt.Out, 0o755); err != nil {
		return err
	}
	if err := t.until("the image model", 2*time.Minute, func() bool { return !w.engine.preparing }); err != nil {
		return err
	}
	if err := t.shot("data-empty"); err != nil {
		return err
	}
	if t.opt.Problems != "" {
		fyne.DoAndWait(func() { w.data.open(t.opt.Problems) })
		if err := t.until("the scan", time.Minute, func() bool { return !w.data.task.running() }); err != nil {
			return err
		}
		if err := t.shot("data-problems"); err != nil {
			return err
		}
	}
	if t.opt.Check != "" {
		if err := t.labelCheck(); err != nil {
			return err
		}
	}
	fyne.DoAndWait(func() { w.data.open(t.opt.Data) })
	if err := t.until("the scan", time.Minute, func() bool { return !w.data.task.running() }); err != nil {
		return err
	}
	if w.doc.data == nil {
		return fmt.Errorf("the folder %s could not be used: %v", t.opt.Data, w.data.err)
	}
	if err := t.shot("data"); err != nil {
		return err
	}
	fyne.DoAndWait(func() {
		w.show(stepTrain)
		w.train.advanced.Open(0)
	})
	if err := t.shot("train-settings"); err != nil {
		return err
	}
	first := startClock()
	fyne.DoAndWait(func() {
		w.train.advanced.Close(0)
		w.train.start()
	})
	if err := t.until("the features", 5*time.Minute, func() bool { return w.train.bar.Value > 0.4 || !w.train.task.running() }); err != nil {
		return err
	}
	if err := t.shot("train-running"); err != nil {
		return err
	}
	if err := t.until("the training", 10*time.Minute, func() bool { return !w.train.task.running() }); err != nil {
		return err
	}
	if w.doc.model == nil {
		return fmt.Errorf("training did not produce a model")
	}
	t.first = first.stop()
	if err := t.shot("train"); err != nil {
		return err
	}
	fyne.DoAndWait(func() { w.show(stepResults) })
	if err := t.shot("results"); err != nil {
		return err
	}
	fyne.DoAndWait(func() {
		w.results.tabs.SelectIndex(1)
		w.results.gallery.filter.set(1)
	})
	if err := t.shot("results-mistakes"); err != nil {
		return err
	}
	if err := t.heatmap(); err != nil {
		return err
	}
	if err := t.shot("results-photo-heatmap"); err != nil {
		return err
	}
	fyne.DoAndWait(func() {
		w.dialog.Hide()
		w.results.gallery.filter.set(0)
		w.results.tabs.SelectIndex(2)
	})
	if err := t.shot("results-not-sure"); err != nil {
		return err
	}
	fyne.DoAndWait(func() { w.results.tabs.SelectIndex(0) })
	fyne.DoAndWait(w.showSettings)
	if err := t.shot("settings"); err != nil {
		return err
	}
	fyne.DoAndWait(func() { w.dialog.Hide() })
	fyne.DoAndWait(func() { w.classify.add([]string{t.opt.Classify}) })
	if err := t.until("the sorting", 5*time.Minute, func() bool { return !w.classify.task.running() }); err != nil {
		return err
	}
	if err := t.shot("classify"); err != nil {
		return err
	}
	fyne.DoAndWait(func() {
		if len(w.classify.preds) > 0 {
			p := w.classify.preds[0]
			w.showPhoto(photoDetail{path: p.Path, top: p.Top, err: p.Err, unsure: p.Unsure, stranger: p.Stranger})
		}
	})
	time.Sleep(time.Second) // the large photo loads
	if err := t.shot("classify-photo"); err != nil {
		return err
	}
	fyne.DoAndWait(func() { w.dialog.Hide() })
	if err := t.loop(); err != nil {
		return err
	}
	fyne.DoAndWait(func() {
		s := w.settings
		s.Appearance = appearanceDark
		w.setSettings(s)
	})
	for _, s := range []struct {
		step step
		name string
	}{{stepTrain, "train-dark"}, {stepResults, "results-dark"}, {stepClassify, "classify-dark"}} {
		fyne.DoAndWait(func() { w.show(s.step) })
		if err := t.shot(s.name); err != nil {
			return err
		}
	}
	return nil
}

// heatmap opens the first mistakes large (results-photo) and ticks "Show
// what it looked at" until a photo's heatmap shows something: the test
// image model finds no evidence at all in some photos, whose maps are
// empty.
func (t *tour) heatmap() error {
	w := t.w
	var items []app.Reviewed
	fyne.DoAndWait(func() {
		g := w.results.gallery
		for _, i := range g.shown {
			items = append(items, g.items[i])
		}
	})
	for i, it := range items[:min(len(items), 6)] {
		fyne.DoAndWait(func() { w.showPhoto(photoDetail{path: it.Path, truth: it.Truth, top: it.Top}) })
		time.Sleep(3 * time.Second) // the large photo loads
		if i == 0 {
			if err := t.shot("results-photo"); err != nil {
				return err
			}
		}
		fyne.DoAndWait(func() { w.explainers.last.SetChecked(true) })
		// The explainer is made (the first time) and the heatmap computed.
		if err := t.until("the heatmap", 3*time.Minute, func() bool {
			return findObject(w.win.Canvas().Overlays().Top(), func(s *widgets.Subtle) bool {
				return strings.HasPrefix(s.Text(), "Red to yellow") || strings.HasPrefix(s.Text(), "Could not")
			}) != nil
		}); err != nil {
			return err
		}
		var shows bool
		fyne.DoAndWait(func() {
			shows = findObject(w.win.Canvas().Overlays().Top(), func(c *canvas.Image) bool { return visibleHeat(c.Image) }) != nil
		})
		if shows || i == min(len(items), 6)-1 {
			return nil
		}
		fyne.DoAndWait(func() { w.dialog.Hide() })
	}
	return fmt.Errorf("screenshots: no mistake to show large")
}

// visibleHeat reports whether m is a heatmap picture (partly transparent)
// with something clearly drawn on it.
func visibleHeat(m image.Image) bool {
	h, ok := m.(*image.NRGBA)
	if !ok {
		return false
	}
	var lo, hi uint8 = 255, 0
	for i := 3; i < len(h.Pix); i += 4 {
		lo, hi = min(lo, h.Pix[i]), max(hi, h.Pix[i])
	}
	return lo < 255 && hi > 120
}

// loop goes round the correction loop on the sorted photos (which must
// not be training photos: they are copied into the training folder):
// one photo taught in its large view, the others confirmed or corrected
// to the kind of the folder they are in, the counter, the retraining and
// its before and after. It reports the first training's and the
// retraining's times.
func (t *tour) loop() error {
	w := t.w
	var preds []app.Prediction
	fyne.DoAndWait(func() { preds = slices.Clone(w.classify.preds) })
	// The photo shown is one the model got wrong, where there is one.
	first := -1
	for i, p := range preds {
		if p.Err == nil && first < 0 {
			first = i
		}
		if p.Err == nil && p.Label() != kindOf(p.Path) {
			first = i
			break
		}
	}
	if first < 0 {
		return fmt.Errorf("screenshots: no sorted photo to teach")
	}
	var failed error
	fyne.DoAndWait(func() {
		p := preds[first]
		w.showPhoto(photoDetail{path: p.Path, top: p.Top, unsure: p.Unsure, stranger: p.Stranger})
		failed = teachAs(w.win.Canvas().Overlays().Top(), p, kindOf(p.Path))
	})
	if failed != nil {
		return failed
	}
	w.jobs.wait()               // the copy is made
	time.Sleep(3 * time.Second) // the large photo loads
	fyne.DoAndWait(func() {
		// The teaching part is at the bottom of the photo's side.
		if s := findObject(w.win.Canvas().Overlays().Top(), func(*container.Scroll) bool { return true }); s != nil {
			s.ScrollToBottom()
		}
	})
	if err := t.shot("classify-teach"); err != nil {
		return err
	}
	fyne.DoAndWait(func() {
		w.dialog.Hide()
		for i, p := range preds {
			if i == first || p.Err != nil || failed != nil {
				continue
			}
			failed = teachAs(w.teach(photoDetail{path: p.Path, top: p.Top, stranger: p.Stranger}), p, kindOf(p.Path))
		}
	})
	if failed != nil {
		return failed
	}
	// The copies are made (and checked against the folder) in jobs.
	w.jobs.wait()
	if err := t.shot("classify-retrain"); err != nil {
		return err
	}
	again := startClock()
	fyne.DoAndWait(func() { w.classify.retrainBtn.OnTapped() })
	if err := t.until("the retraining", 10*time.Minute, func() bool { return !w.train.task.running() }); err != nil {
		return err
	}
	retrain := again.stop()
	fyne.DoAndWait(func() {
		if w.doc.previous == nil {
			failed = fmt.Errorf("screenshots: the retraining did not keep the previous model: %v", shownTexts(w.train.content))
		}
	})
	if failed != nil {
		return failed
	}
	if err := t.shot("train-retrain"); err != nil {
		return err
	}
	fyne.DoAndWait(func() { w.show(stepResults) })
	if err := t.shot("results-compare"); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "screenshots: first training %s, retraining after %d corrections %s: %.1f%% of the wall time, %.1f%% of the CPU time\n",
		t.first, len(preds), retrain, 100*retrain.wall.Seconds()/t.first.wall.Seconds(), 100*retrain.cpu.Seconds()/t.first.cpu.Seconds())
	fyne.DoAndWait(func() { w.results.tabs.SelectIndex(0) })
	return nil
}

// kindOf is the kind a sorted photo is: the name of its folder.
func kindOf(path string) string { return filepath.Base(filepath.Dir(path)) }

// teachAs confirms ("Right") or corrects ("It's a…") a photo in the
// teaching part of its view o, as a person would; a photo not of its
// kinds has no "Right": its kind is named.
func teachAs(o fyne.CanvasObject, p app.Prediction, kind string) error {
	if p.Label() == kind && !p.Stranger {
		if b := findObject(o, func(b *widget.Button) bool { return b.Text == "Right" }); b != nil {
			b.OnTapped()
			return nil
		}
	} else if s := findObject(o, func(s *widget.Select) bool { return s.PlaceHolder == "It's a…" }); s != nil {
		s.SetSelected(kind)
		return nil
	}
	return fmt.Errorf("screenshots: %s offers no way to teach the model", p.Path)
}

// findObject returns the first shown object under o that match accepts.
func findObject[T fyne.CanvasObject](o fyne.CanvasObject, match func(T) bool) T {
	var found T
	var walk func(fyne.CanvasObject) bool
	walk = func(o fyne.CanvasObject) bool {
		if o == nil || !o.Visible() {
			return false
		}
		if v, ok := o.(T); ok && match(v) {
			found = v
			return true
		}
		var kids []fyne.CanvasObject
		switch v := o.(type) {
		case *fyne.Container:
			kids = v.Objects
		case fyne.Widget:
			kids = test.WidgetRenderer(v).Objects()
		}
		return slices.ContainsFunc(kids, walk)
	}
	walk(o)
	return found
}

// shownTexts lists the shown labels under o, for messages.
func shownTexts(o fyne.CanvasObject) []string {
	var out []string
	findObject(o, func(l *widget.Label) bool {
		out = append(out, l.Text)
		return false
	})
	return out
}

// clock measures a step's wall-clock and CPU time (the process's, all
// threads: training runs in this process).
type clock struct{ wall, cpu time.Duration }

func startClock() clock { return clock{wall: time.Duration(time.Now().UnixNano()), cpu: cpuTime()} }

func (c clock) stop() clock {
	return clock{wall: time.Duration(time.Now().UnixNano()) - c.wall, cpu: cpuTime() - c.cpu}
}

func (c clock) String() string {
	return fmt.Sprintf("%.1f s (CPU %.1f s)", c.wall.Seconds(), c.cpu.Seconds())
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// labelCheck opens the folder of planted problems, runs "Check labels" on
// it as a person would, and pictures the suspects it finds.
func (t *tour) labelCheck() error {
	w := t.w
	fyne.DoAndWait(func() { w.data.open(t.opt.Check) })
	if err := t.until("the scan", time.Minute, func() bool { return !w.data.task.running() }); err != nil {
		return err
	}
	var c *labelCheck
	fyne.DoAndWait(func() {
		c = w.data.labelCheck()
		c.open()
		c.start()
	})
	if err := t.until("the label check", 10*time.Minute, func() bool { return !c.task.running() }); err != nil {
		return err
	}
	var failed string
	fyne.DoAndWait(func() {
		if c.report == nil {
			failed = "no findings"
			if c.errText.Text != "" {
				failed = c.errText.Text
			}
		}
	})
	if failed != "" {
		return fmt.Errorf("the label check of %s failed: %s", t.opt.Check, failed)
	}
	if err := t.shot("data-check"); err != nil {
		return err
	}
	fyne.DoAndWait(func() { c.dlg.Hide() })
	return nil
}

// until waits for cond, checked on the UI goroutine.
func (t *tour) until(what string, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for {
		var ok bool
		fyne.DoAndWait(func() { ok = cond() })
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("screenshots: gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shot waits for the previews and the screen to settle and saves the
// window's picture as name.png.
func (t *tour) shot(name string) error {
	t.w.thumbs.Wait()
	time.Sleep(700 * time.Millisecond) // previews reach the screen, animations end
	path := filepath.Join(t.opt.Out, name+".png")
	if t.opt.Capture != nil {
		return t.opt.Capture(path)
	}
	var img image.Image
	fyne.DoAndWait(func() { img = t.w.win.Canvas().Capture() })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
