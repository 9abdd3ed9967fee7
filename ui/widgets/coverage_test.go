package widgets

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/clasifica/clasifica/ml/selective"
)

func TestCoverageCurve(t *testing.T) {
	test.NewTempApp(t)
	c := NewCoverageCurve()
	size := fyne.NewSize(400, 240)
	c.Resize(size)
	r := test.WidgetRenderer(c).(*coverageRenderer)
	if r.message.Hidden || !r.dot.Hidden || len(r.lines) != 0 {
		t.Fatal("an empty curve draws a curve or no message")
	}
	curve, err := selective.Curve([]float64{0.3, 0.5, 0.6, 0.8, 0.9, 0.95}, []bool{false, true, false, true, true, true})
	if err != nil {
		t.Fatal(err)
	}
	chosen, _ := selective.Choose(curve, 0.9)
	c.Set(curve, chosen, 0.9)
	if !r.message.Hidden || r.dot.Hidden || len(r.lines) != len(curve)-1 {
		t.Fatalf("%d segments for %d points, message shown %v", len(r.lines), len(curve), !r.message.Hidden)
	}
	if r.note.Text != "answers 50%, right on 100%" {
		t.Errorf("note %q", r.note.Text)
	}
	// The axis starts a tenth below the lowest accuracy (4 of 6: 67%).
	if lo := c.yFloor(); lo != 0.6 {
		t.Errorf("y axis from %v, want 0.6", lo)
	}
	// The curve runs left to right, inside the plot; the chosen point is
	// on it, at the top (100% right) halfway across.
	x0, y0, w, h := r.plot(size)
	for i, l := range r.lines {
		for _, p := range []fyne.Position{l.Position1, l.Position2} {
			if p.X < x0-0.5 || p.X > x0+w+0.5 || p.Y < y0-0.5 || p.Y > y0+h+0.5 {
				t.Errorf("segment %d leaves the plot at %v", i, p)
			}
		}
		if l.Position2.X < l.Position1.X {
			t.Errorf("segment %d runs right to left", i)
		}
	}
	d := r.dot.Position().Add(fyne.NewPos(coverDot, coverDot))
	if want := r.at(size, 0.5, 1); d != want || want.Y != y0 || want.X != x0+w/2 {
		t.Errorf("chosen point drawn at %v, want %v", d, want)
	}
	if r.target.Hidden || r.target.Position1.Y != r.at(size, 0, 0.9).Y {
		t.Errorf("target line at %v", r.target.Position1)
	}
	// The note stays inside the widget.
	if p := r.note.Position(); p.X < 0 || p.X+r.note.MinSize().Width > size.Width+1 || p.Y < 0 || p.Y > size.Height {
		t.Errorf("note at %v", p)
	}
	c.Set(nil, selective.Point{}, 0)
	if r.message.Hidden || !r.dot.Hidden {
		t.Error("clearing the curve left it drawn")
	}
}
