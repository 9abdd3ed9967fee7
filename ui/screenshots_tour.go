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
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/clasifica/clasifica/app"
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
	// The light theme first; the window's widgets take their colours when
	// they are made.
	fa.Preferences().SetString(prefAppearance, appearanceLight)
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
	fyne.DoAndWait(func() {
		g := w.results.gallery
		if len(g.shown) > 0 {
			it := g.items[g.shown[0]]
			w.showPhoto(photoDetail{path: it.Path, truth: it.Truth, top: it.Top})
		}
	})
	time.Sleep(time.Second) // the large photo loads
	if err := t.shot("results-photo"); err != nil {
		return err
	}
	fyne.DoAndWait(func() {
		if c := w.explainers.last; c != nil {
			c.SetChecked(true)
		}
	})
	time.Sleep(60 * time.Second) // the explainer is made and the heatmap computed
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
	fyne.DoAndWait(func() { w.setSettings(w.settings, appearanceDark) })
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
