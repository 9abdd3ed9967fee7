// Package selective lets a classifier answer "not sure": from predictions
// on photos with known labels it computes the accuracy–coverage curve (the
// risk–coverage curve of Geifman & El-Yaniv 2017, "Selective
// Classification for Deep Neural Networks") as the confidence threshold
// rises, chooses the threshold that answers the most photos while staying
// right a target share of the time, and measures a threshold on other
// photos.
//
// Confidence is the top class's probability (softmax response, the
// paper's best-performing score). A photo is answered when its confidence
// is at least the threshold.
package selective

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Point is one threshold of the curve with what it gives on the photos it
// was computed on.
type Point struct {
	// Threshold is the lowest confidence answered.
	Threshold float64 `json:"threshold"`
	// Coverage is the share of photos answered, Accuracy the share of the
	// answered ones that were right (1 when none is answered).
	Coverage float64 `json:"coverage"`
	Accuracy float64 `json:"accuracy"`
	// Answered counts the answered photos, of Photos.
	Answered int `json:"answered"`
	Photos   int `json:"photos"`
}

// LowerBound returns a lower bound of the accuracy the point's answered
// photos promise on photos like them, at 95% confidence (the Wilson score
// interval): with few answered photos a perfect record promises little.
func (p Point) LowerBound() float64 {
	n := float64(p.Answered)
	if n == 0 {
		return 0
	}
	const z = 1.959963984540054
	a := p.Accuracy
	centre := a + z*z/(2*n)
	spread := z * math.Sqrt(a*(1-a)/n+z*z/(4*n*n))
	return max(0, (centre-spread)/(1+z*z/n))
}

// Scores returns each photo's confidence (its top probability) and
// whether its top class is the true one. probs holds one row of class
// probabilities per photo; truths the true classes.
func Scores(probs [][]float64, truths []int) (conf []float64, right []bool, err error) {
	if len(probs) != len(truths) {
		return nil, nil, fmt.Errorf("selective: %d rows of probabilities for %d labels", len(probs), len(truths))
	}
	conf = make([]float64, len(probs))
	right = make([]bool, len(probs))
	for i, row := range probs {
		if len(row) == 0 {
			return nil, nil, fmt.Errorf("selective: photo %d has no probabilities", i)
		}
		if truths[i] < 0 || truths[i] >= len(row) {
			return nil, nil, fmt.Errorf("selective: photo %d has label %d of %d classes", i, truths[i], len(row))
		}
		best := 0
		for c, p := range row {
			if p != p {
				return nil, nil, fmt.Errorf("selective: photo %d has a NaN probability", i)
			}
			if p > row[best] {
				best = c
			}
		}
		conf[i], right[i] = row[best], best == truths[i]
	}
	return conf, right, nil
}

// Curve returns the accuracy–coverage curve of photos with the given
// confidences and outcomes: one point per distinct confidence, by rising
// threshold (falling coverage), the first answering every photo.
func Curve(conf []float64, right []bool) ([]Point, error) {
	if len(conf) != len(right) {
		return nil, fmt.Errorf("selective: %d confidences for %d outcomes", len(conf), len(right))
	}
	if len(conf) == 0 {
		return nil, errors.New("selective: no photos to compute the curve on")
	}
	order := make([]int, len(conf))
	for i := range order {
		order[i] = i
	}
	// Most confident first: a prefix of order is what a threshold answers.
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case conf[a] > conf[b]:
			return -1
		case conf[a] < conf[b]:
			return 1
		}
		return 0
	})
	n := len(conf)
	var pts []Point
	correct := 0
	for k, i := range order {
		if right[i] {
			correct++
		}
		// Photos of equal confidence are answered together.
		if k+1 < n && conf[order[k+1]] == conf[i] {
			continue
		}
		pts = append(pts, Point{Threshold: conf[i], Coverage: float64(k+1) / float64(n),
			Accuracy: float64(correct) / float64(k+1), Answered: k + 1, Photos: n})
	}
	slices.Reverse(pts)
	return pts, nil
}

// Choose returns the point of the curve that answers the most photos with
// an accuracy of at least target, and true; when no point reaches target,
// the most accurate point (the one answering more photos among equals) and
// false.
func Choose(curve []Point, target float64) (Point, bool) {
	best, found := -1, false
	for i, p := range curve {
		ok := p.Accuracy >= target
		switch {
		case ok && (!found || p.Answered > curve[best].Answered):
			best, found = i, true
		case !found && (best < 0 || p.Accuracy > curve[best].Accuracy ||
			p.Accuracy == curve[best].Accuracy && p.Answered > curve[best].Answered):
			best = i
		}
	}
	if best < 0 {
		return Point{Accuracy: 1}, false
	}
	return curve[best], found
}

// Measure returns what threshold gives on photos with the given
// confidences and outcomes: the share answered and their accuracy (1 when
// none is answered).
func Measure(conf []float64, right []bool, threshold float64) Point {
	p := Point{Threshold: threshold, Photos: len(conf), Accuracy: 1}
	correct := 0
	for i, c := range conf {
		if c >= threshold {
			p.Answered++
			if right[i] {
				correct++
			}
		}
	}
	if p.Photos > 0 {
		p.Coverage = float64(p.Answered) / float64(p.Photos)
	}
	if p.Answered > 0 {
		p.Accuracy = float64(correct) / float64(p.Answered)
	}
	return p
}

// Thin returns at most n points of curve, evenly spread over coverage,
// always keeping its first and last points and every point in keep (by
// threshold), for storing and drawing a curve of thousands of photos in a
// few kilobytes.
func Thin(curve []Point, n int, keep ...float64) []Point {
	if len(curve) <= n || n < 2 {
		return slices.Clone(curve)
	}
	out := make([]Point, 0, n+len(keep))
	last := -1
	for k := range n {
		i := k * (len(curve) - 1) / (n - 1)
		if i != last {
			out = append(out, curve[i])
			last = i
		}
	}
	for _, t := range keep {
		i := slices.IndexFunc(curve, func(p Point) bool { return p.Threshold == t })
		if i >= 0 && !slices.ContainsFunc(out, func(p Point) bool { return p.Threshold == t }) {
			out = append(out, curve[i])
		}
	}
	slices.SortFunc(out, func(a, b Point) int { return cmp.Compare(a.Threshold, b.Threshold) })
	return out
}

// Float64s converts rows of float32 probabilities (n classes each, one
// row after the other) into rows of float64, the input of Scores.
func Float64s(probs []float32, n int) [][]float64 {
	if n <= 0 {
		return nil
	}
	rows := make([][]float64, len(probs)/n)
	for i := range rows {
		rows[i] = make([]float64, n)
		for c := range n {
			rows[i][c] = float64(probs[i*n+c])
		}
	}
	return rows
}
