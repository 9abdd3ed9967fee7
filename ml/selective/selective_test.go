package selective

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Six photos: confidences and whether the top class was right.
var (
	conf6  = []float64{0.95, 0.9, 0.9, 0.7, 0.6, 0.4}
	right6 = []bool{true, true, false, true, false, false}
)

func TestCurve(t *testing.T) {
	pts, err := Curve(conf6, right6)
	if err != nil {
		t.Fatal(err)
	}
	// One point per distinct confidence; the two at 0.9 come together.
	want := []Point{
		{Threshold: 0.4, Answered: 6, Accuracy: 3.0 / 6},
		{Threshold: 0.6, Answered: 5, Accuracy: 3.0 / 5},
		{Threshold: 0.7, Answered: 4, Accuracy: 3.0 / 4},
		{Threshold: 0.9, Answered: 3, Accuracy: 2.0 / 3},
		{Threshold: 0.95, Answered: 1, Accuracy: 1},
	}
	if len(pts) != len(want) {
		t.Fatalf("curve has %d points, want %d: %+v", len(pts), len(want), pts)
	}
	for i, w := range want {
		p := pts[i]
		if p.Threshold != w.Threshold || p.Answered != w.Answered || math.Abs(p.Accuracy-w.Accuracy) > 1e-12 ||
			p.Photos != 6 || math.Abs(p.Coverage-float64(w.Answered)/6) > 1e-12 {
			t.Errorf("point %d = %+v, want %+v", i, p, w)
		}
		// Measuring at a point's threshold gives the point back.
		if m := Measure(conf6, right6, p.Threshold); m != p {
			t.Errorf("Measure(%v) = %+v, curve says %+v", p.Threshold, m, p)
		}
	}
}

func TestChoose(t *testing.T) {
	pts, err := Curve(conf6, right6)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target    float64
		threshold float64
		reached   bool
	}{
		{0.5, 0.4, true},
		{0.6, 0.6, true},
		// The curve is not monotonic: 0.7 answers more than 0.9 and is
		// more accurate.
		{0.7, 0.7, true},
		{0.75, 0.7, true},
		{0.8, 0.95, true},
		{1, 0.95, true},
	} {
		p, ok := Choose(pts, tc.target)
		if p.Threshold != tc.threshold || ok != tc.reached {
			t.Errorf("Choose(%v) = %v, %v; want %v, %v", tc.target, p.Threshold, ok, tc.threshold, tc.reached)
		}
	}
	// The most confident photo wrong: 100% is out of reach, and the most
	// accurate point is chosen.
	pts, _ = Curve([]float64{0.9, 0.8, 0.7}, []bool{false, true, true})
	p, ok := Choose(pts, 1)
	if ok || p.Threshold != 0.7 {
		t.Errorf("unreachable target chose %+v, %v; want threshold 0.7, false", p, ok)
	}
	if _, ok := Choose(nil, 0.9); ok {
		t.Error("an empty curve reached a target")
	}
}

func TestScores(t *testing.T) {
	conf, right, err := Scores([][]float64{{0.2, 0.8}, {0.6, 0.4}, {0.3, 0.7}}, []int{1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if conf[0] != 0.8 || conf[1] != 0.6 || conf[2] != 0.7 || !right[0] || right[1] || right[2] {
		t.Errorf("Scores = %v, %v", conf, right)
	}
	for _, bad := range []struct {
		probs  [][]float64
		truths []int
	}{
		{[][]float64{{0.5, 0.5}}, []int{0, 1}},
		{[][]float64{{0.5, 0.5}}, []int{2}},
		{[][]float64{{}}, []int{0}},
		{[][]float64{{math.NaN(), 0.5}}, []int{0}},
	} {
		if _, _, err := Scores(bad.probs, bad.truths); err == nil {
			t.Errorf("Scores(%v, %v) gave no error", bad.probs, bad.truths)
		}
	}
	if _, err := Curve(nil, nil); err == nil {
		t.Error("Curve of no photos gave no error")
	}
}

// A well-ordered score (right answers more confident) gives a curve whose
// accuracy rises with the threshold, and the chosen threshold keeps its
// promise on fresh photos from the same source.
func TestPromiseHoldsOnFreshPhotos(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(n int) ([]float64, []bool) {
		conf, right := make([]float64, n), make([]bool, n)
		for i := range conf {
			c := 0.3 + 0.7*rng.Float64()
			conf[i], right[i] = c, rng.Float64() < c // calibrated
		}
		return conf, right
	}
	conf, right := draw(5000)
	pts, err := Curve(conf, right)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := Choose(pts, 0.9)
	if !ok || p.Accuracy < 0.9 || p.Coverage < 0.2 || p.Coverage > 0.5 {
		t.Fatalf("chose %+v, %v; want about 90%% accuracy at about a third of the photos", p, ok)
	}
	fresh, freshRight := draw(5000)
	m := Measure(fresh, freshRight, p.Threshold)
	if m.Accuracy < 0.88 || math.Abs(m.Coverage-p.Coverage) > 0.03 {
		t.Errorf("on fresh photos the threshold gives %+v; promised %+v", m, p)
	}
	if lb := p.LowerBound(); lb > p.Accuracy || lb < p.Accuracy-0.05 {
		t.Errorf("lower bound %v for %+v", lb, p)
	}
}

func TestLowerBound(t *testing.T) {
	for _, tc := range []struct {
		answered int
		accuracy float64
		want     float64
	}{
		{10, 1, 0.7225},  // ten right in ten promise only 72%
		{100, 1, 0.9630}, // a hundred, 96%
		{100, 0.9, 0.8256},
		{0, 1, 0},
	} {
		got := Point{Answered: tc.answered, Accuracy: tc.accuracy}.LowerBound()
		if math.Abs(got-tc.want) > 1e-4 {
			t.Errorf("LowerBound(%d at %v) = %.4f, want %.4f", tc.answered, tc.accuracy, got, tc.want)
		}
	}
}

func TestThin(t *testing.T) {
	conf := make([]float64, 1000)
	right := make([]bool, 1000)
	for i := range conf {
		conf[i], right[i] = float64(i)/1000, i%3 != 0
	}
	pts, _ := Curve(conf, right)
	keep := pts[517].Threshold
	thin := Thin(pts, 50, keep)
	if len(thin) > 51 || thin[0] != pts[0] || thin[len(thin)-1] != pts[len(pts)-1] {
		t.Fatalf("thinned to %d points from %v to %v", len(thin), thin[0], thin[len(thin)-1])
	}
	found := false
	for i, p := range thin {
		found = found || p.Threshold == keep
		if i > 0 && p.Threshold <= thin[i-1].Threshold {
			t.Errorf("thinned curve not by rising threshold at %d", i)
		}
	}
	if !found {
		t.Error("thinning dropped the point to keep")
	}
	if got := Float64s([]float32{0.25, 0.75, 1, 0}, 2); len(got) != 2 || got[0][1] != 0.75 || got[1][0] != 1 {
		t.Errorf("Float64s = %v", got)
	}
}
