package widgets

import (
	"fmt"
	"image"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func TestChartGrowsPerEpoch(t *testing.T) {
	test.NewTempApp(t)
	c := NewChart("Loss", false)
	c.Resize(fyne.NewSize(420, 260))
	r := test.WidgetRenderer(c).(*chartRenderer)
	c.Reset(30)
	if !r.ring.Hidden || r.message.Hidden {
		t.Error("an empty chart shows a best epoch or no message")
	}
	c.Add(1.9, 1.6, true, true)
	c.Add(0.9, 3.1, true, false)
	c.Add(0.7, 3.0, true, false)
	if len(r.lines[0]) != 2 || len(r.lines[1]) != 2 || len(r.dots[0]) != 3 {
		t.Fatalf("%d training segments, %d validation segments, %d points", len(r.lines[0]), len(r.lines[1]), len(r.dots[0]))
	}
	if r.message.Hidden == false || r.ring.Hidden {
		t.Error("message still shown, or best epoch not marked")
	}
	if r.legend[0].Text != "Training 0.70" || r.legend[1].Text != "Validation 3.00" {
		t.Errorf("legend %q, %q", r.legend[0].Text, r.legend[1].Text)
	}
	if last, ticks := r.xRange(); last != 30 || ticks[len(ticks)-1] != 30 || ticks[0] != 1 {
		t.Errorf("x axis to %d, ticks %v", last, ticks)
	}
	// The axis fits the line once training stops early.
	c.Fit()
	if last, _ := r.xRange(); last != 3 {
		t.Errorf("after fit the axis runs to %d", last)
	}
	// Points stay inside the plot.
	for _, d := range append(r.dots[0], r.dots[1]...) {
		p := d.Position()
		if p.X < 0 || p.Y < 0 || p.X > 420 || p.Y > 260 {
			t.Errorf("point outside the chart at %v", p)
		}
	}
	test.AssertObjectRendersToMarkup(t, "chart.xml", c)

	// Without validation there is one line.
	a := NewChart("Accuracy", true)
	a.Reset(5)
	a.Add(0.5, 0, false, false)
	a.Add(0.75, 0, false, true)
	ra := test.WidgetRenderer(a).(*chartRenderer)
	if len(ra.dots[1]) != 0 || !ra.legend[1].Hidden || ra.legend[0].Text != "Training 75%" {
		t.Errorf("validation drawn without validation: %d points, legend %q", len(ra.dots[1]), ra.legend[0].Text)
	}
}

func TestNiceSteps(t *testing.T) {
	for _, c := range []struct{ raw, want float64 }{{0.3, 0.5}, {0.7, 1}, {0.11, 0.2}, {2.2, 2.5}, {4, 5}, {12, 20}} {
		if got := niceStep(c.raw); got != c.want {
			t.Errorf("niceStep(%v) = %v, want %v", c.raw, got, c.want)
		}
	}
}

func TestConfusionCells(t *testing.T) {
	test.NewTempApp(t)
	var tapped []int
	c := NewConfusion(func(t, p int) { tapped = append(tapped, t, p) })
	c.Set([]string{"daisy", "rose", "tulip"}, [][]int{{5, 1, 0}, {0, 4, 2}, {1, 0, 3}})
	c.Resize(c.MinSize())
	g := c.geometry()
	test.TapAt(c, fyne.NewPos(g.left+g.cell*1.5, g.top+g.cell*0.5))
	test.TapAt(c, fyne.NewPos(g.left+g.cell*2.5, g.top+g.cell*2.5))
	test.TapAt(c, fyne.NewPos(1, 1)) // the labels: nothing
	if fmt.Sprint(tapped) != "[0 1 2 2]" {
		t.Errorf("tapped cells %v, want (daisy, rose) then (tulip, tulip)", tapped)
	}
	test.AssertObjectRendersToMarkup(t, "confusion.xml", c)

	// Too many names to write above the cells: numbered columns.
	labels := make([]string, 25)
	for i := range labels {
		labels[i] = fmt.Sprintf("breed number %d", i)
	}
	c.Set(labels, nil)
	if g := c.geometry(); !g.numbered || g.cell != 30 {
		t.Errorf("25 classes: numbered %v, cell %v", g.numbered, g.cell)
	}
}

// loader is a Thumbnails that makes plain previews on its own goroutines,
// like the app's; paths starting with "bad" cannot be read. The app's
// previews reach their thumbs through fyne.Do, which runs them on the UI
// goroutine; the test driver's fyne.Do runs them on whichever goroutine
// calls it, so the loader holds each finished preview until settle hands
// them over on the test's goroutine, as the app's event loop would, instead
// of letting a worker refresh a thumb while the test lays it out.
type loader struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	ready []func()
}

func (l *loader) Cached(string) (image.Image, bool) { return nil, false }

func (l *loader) Load(path string, wanted func() bool, done func(image.Image)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		if !wanted() {
			return
		}
		var img image.Image
		if !strings.HasPrefix(path, "bad") {
			img = image.NewRGBA(image.Rect(0, 0, 8, 8))
		}
		l.mu.Lock()
		l.ready = append(l.ready, func() { done(img) })
		l.mu.Unlock()
	}()
}

// settle waits for every preview asked for and delivers them.
func (l *loader) settle() {
	l.wg.Wait()
	l.mu.Lock()
	ready := l.ready
	l.ready = nil
	l.mu.Unlock()
	for _, f := range ready {
		f()
	}
}

// TestStripShowsWhatFits checks that a strip shows as many whole photos
// as fit, loads only those, and counts the rest.
func TestStripShowsWhatFits(t *testing.T) {
	test.NewTempApp(t)
	l := &loader{}
	s := NewPhotoStrip(l, 84)
	paths := make([]string, 30)
	for i := range paths {
		paths[i] = fmt.Sprintf("photo-%d.jpg", i)
	}
	paths[1] = "bad.jpg"
	s.SetPaths(paths)
	s.Resize(fyne.NewSize(780, 100))
	l.settle()
	r := test.WidgetRenderer(s).(*stripRenderer)
	shown := 0
	for _, th := range r.thumbs {
		switch {
		case !th.Visible() && th.path != "":
			t.Errorf("a hidden thumbnail holds %s", th.path)
		case !th.Visible():
		case th.path == "bad.jpg":
			shown++
			if th.img != nil || !th.failed {
				t.Error("an unreadable photo shows a preview")
			}
		default:
			shown++
			if th.img == nil {
				t.Errorf("thumbnail of %s not loaded", th.path)
			}
		}
	}
	if shown < 5 || r.more.Text != fmt.Sprintf("+%d", 30-shown) {
		t.Errorf("%d photos shown, then %q", shown, r.more.Text)
	}
	// Narrower, fewer photos: none cut.
	s.Resize(fyne.NewSize(420, 100))
	narrow := 0
	for _, th := range r.thumbs {
		if th.Visible() {
			narrow++
			if th.Position().X+th.Size().Width > s.Size().Width {
				t.Error("a photo is cut at the edge")
			}
		}
	}
	if narrow >= shown || narrow == 0 {
		t.Errorf("%d photos shown in a narrow strip, %d in a wide one", narrow, shown)
	}
}
